"""The channel an answer, a display or a decide is counted under — one rule for every
surface: an e-mail link is the e-mail channel; a survey link (surveys.delivery: SurveyLink)
is the channel it is tagged with (store, receipt, phone, social, other); the widget is its
touchpoint's channel (web when the touchpoint names none). `response_channel` applies it to
one row in Python (decide's counters, the rollups as each answer is counted);
`channel_expression` is the same rule as a database expression (the rollup rebuild, the
dashboards' row filters)."""

from __future__ import annotations

from django.db.models import Case, CharField, F, Value, When
from django.db.models.functions import Coalesce, NullIf

from surveys.tenancy.models import Channel

WEB = "web"
EMAIL = "email"
# The tags a survey link can carry; a link's rows store their tag as their delivery channel.
LINK_CHANNELS = (Channel.STORE, Channel.RECEIPT, Channel.PHONE, Channel.SOCIAL, Channel.OTHER)
LINK_CHANNEL_CHOICES = [(c.value, c.label) for c in LINK_CHANNELS]
# Delivery channels that are counted as themselves, whatever the touchpoint's channel.
_SELF_COUNTED = (EMAIL, *(c.value for c in LINK_CHANNELS))


def response_channel(delivery_channel: str, touchpoint_channel: str | None) -> str:
    """The counted channel of a row delivered on `delivery_channel` (widget | email | a
    link's tag) at a touchpoint whose channel is `touchpoint_channel`."""
    if delivery_channel in _SELF_COUNTED:
        return delivery_channel
    return touchpoint_channel or WEB


def channel_expression(prefix: str = "") -> Case:
    """`response_channel` as a database expression over rows reaching a delivery channel and a
    touchpoint through `prefix` (e.g. "response__"; "" on responses and displays)."""
    return Case(
        When(**{f"{prefix}channel__in": _SELF_COUNTED}, then=F(f"{prefix}channel")),
        default=Coalesce(NullIf(f"{prefix}touchpoint__channel", Value("")), Value(WEB)),
        output_field=CharField(),
    )
