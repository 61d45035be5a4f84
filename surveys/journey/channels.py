"""The channel an answer, a display or a decide is counted under — one rule for every
surface: an e-mail link is the e-mail channel; the widget is its touchpoint's channel (web
when the touchpoint names none). `response_channel` applies it to one row in Python (decide's
counters, the rollups as each answer is counted); `channel_expression` is the same rule as a
database expression (the rollup rebuild, the dashboards' row filters)."""

from __future__ import annotations

from django.db.models import Case, CharField, Value, When
from django.db.models.functions import Coalesce, NullIf

WEB = "web"
EMAIL = "email"


def response_channel(delivery_channel: str, touchpoint_channel: str | None) -> str:
    """The counted channel of a row delivered on `delivery_channel` (widget | email) at a
    touchpoint whose channel is `touchpoint_channel`."""
    if delivery_channel == EMAIL:
        return EMAIL
    return touchpoint_channel or WEB


def channel_expression(prefix: str = "") -> Case:
    """`response_channel` as a database expression over rows reaching a delivery channel and a
    touchpoint through `prefix` (e.g. "response__"; "" on responses and displays)."""
    return Case(
        When(**{f"{prefix}channel": EMAIL}, then=Value(EMAIL)),
        default=Coalesce(NullIf(f"{prefix}touchpoint__channel", Value("")), Value(WEB)),
        output_field=CharField(),
    )
