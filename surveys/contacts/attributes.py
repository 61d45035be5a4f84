"""A contact's custom attributes: what the widget, identify, the contacts API and CSV import
accept (names, value types, sizes)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext

from vocsite.errors import ApplicationError

MAX_ATTRIBUTES = 50


def clean_attributes(attributes: Mapping[str, Any] | None) -> dict[str, Any]:
    if not attributes:
        return {}
    if len(attributes) > MAX_ATTRIBUTES:
        raise ApplicationError(
            "invalid",
            gettext("Too many attributes."),
            {"attributes": [gettext("At most %(limit)s.") % {"limit": MAX_ATTRIBUTES}]},
        )
    clean: dict[str, Any] = {}
    for key, value in attributes.items():
        if not isinstance(key, str) or not 0 < len(key) <= 64 or "\x00" in key:
            raise ApplicationError(
                "invalid",
                gettext("Bad attribute name."),
                {"attributes": [gettext("Names are 1–64 characters.")]},
            )
        if value is not None and not isinstance(value, str | int | float | bool):
            raise ApplicationError(
                "invalid",
                gettext("Bad attribute value."),
                {f"attributes.{key}": [gettext("A string, number, boolean or null.")]},
            )
        if isinstance(value, str) and (len(value) > 500 or "\x00" in value):
            raise ApplicationError(
                "invalid",
                gettext("Bad attribute value."),
                {f"attributes.{key}": [gettext("At most 500 characters, no null characters.")]},
            )
        clean[key] = value
    return clean
