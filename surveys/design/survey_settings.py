"""The survey settings: one declaration of what a survey's settings are, their kind and bounds.

The management API's serializer (`surveys.design.api`) and the designer's form
(`surveys.design.forms`) build their fields from it, and the services (`surveys.design.services`)
take, check and audit exactly these names — so a new setting is added here once, and a bound
means the same on every surface. Settings with a structure of their own (targeting, texts per
language, the theme, the channels) are shaped by each surface in its own way and checked by the
services' rules."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext

from surveys.design.models import DisplayOption

TEXT, INTEGER, BOOLEAN, DECIMAL, CHOICE, DATETIME, STRUCTURED = (
    "text",
    "integer",
    "boolean",
    "decimal",
    "choice",
    "datetime",
    "structured",
)


@dataclass(frozen=True)
class Setting:
    name: str
    kind: str
    low: int | None = None  # integer and decimal kinds: the smallest allowed value
    high: int | None = None  # …the largest; text: the longest
    nullable: bool = False  # None is a value of its own (e.g. "no cap")
    choices: tuple[tuple[str, str], ...] = ()
    typed: bool = True  # False: set by the code that creates the survey, on no API or form


SETTINGS: tuple[Setting, ...] = (
    Setting("name", TEXT, high=200),
    Setting("display_option", CHOICE, choices=tuple(DisplayOption.choices)),
    Setting("display_limit", INTEGER, 1, 1000, nullable=True),
    Setting("recontact_days", INTEGER, 0, 3650, nullable=True),
    Setting("bypass_global_cooldown", BOOLEAN),
    Setting("recurrence_days", INTEGER, 1, 3650, nullable=True),
    Setting("snooze_days_after_dismiss", INTEGER, 0, 3650),
    Setting("sample_percent", DECIMAL, 0, 100),
    Setting("delay_seconds", INTEGER, 0, 3600),
    Setting("auto_close_seconds", INTEGER, 1, 3600, nullable=True),
    Setting("priority", INTEGER, -1000, 1000),
    Setting("response_cap", INTEGER, 1, 10_000_000, nullable=True),
    Setting("starts_at", DATETIME, nullable=True),
    Setting("ends_at", DATETIME, nullable=True),
    Setting("targeting", STRUCTURED),
    Setting("thank_you", STRUCTURED),
    Setting("channels", STRUCTURED),
    Setting("theme", STRUCTURED),
    # Which survey template (surveys.design.survey_templates) the survey was made from.
    Setting("template", TEXT, high=32, typed=False),
)

SETTING_BY_NAME = {setting.name: setting for setting in SETTINGS}
SURVEY_SETTINGS = tuple(SETTING_BY_NAME)
# The settings the API and the form take.
TYPED_SETTINGS = tuple(setting for setting in SETTINGS if setting.typed)
# Those every surface shapes the same way (one field each), in declaration order.
SCALAR_SETTINGS = tuple(setting for setting in TYPED_SETTINGS if setting.kind != STRUCTURED)


def bound_errors(values: Mapping[str, Any]) -> dict[str, list[str]]:
    """Numbers outside their declared bounds: {name: ["Between 0 and 100."]}."""
    errors: dict[str, list[str]] = {}
    for name, value in values.items():
        setting = SETTING_BY_NAME.get(name)
        if setting is None or setting.kind not in (INTEGER, DECIMAL) or value is None:
            continue
        if isinstance(value, bool):
            errors[name] = [gettext("A number is required.")]
            continue
        try:
            number = Decimal(str(value))
        except ArithmeticError:
            errors[name] = [gettext("A number is required.")]
            continue
        if not setting.low <= number <= setting.high:
            errors[name] = [
                gettext("Between %(low)s and %(high)s.")
                % {"low": setting.low, "high": setting.high}
            ]
    return errors


def settings_snapshot(values: Mapping[str, Any]) -> dict[str, Any]:
    """The settings given as JSON, in declaration order (the audit log's before/after, the
    API's survey): decimals as text, moments in ISO 8601."""
    data: dict[str, Any] = {}
    for setting in SETTINGS:
        if setting.name not in values:
            continue
        value = values[setting.name]
        if setting.kind == DECIMAL:
            value = str(value)
        elif setting.kind == DATETIME:
            value = value.isoformat() if value else None
        data[setting.name] = value
    return data
