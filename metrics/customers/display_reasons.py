"""Why a survey was put in front of a person, in words: the touchpoint that asked, the e-mail
invitation's event, the survey's targeting and sampling. Decide keeps no per-person record of
its refusals (only daily counters, `surveys.delivery.models.DecisionCount`), so a display is
explained by what it was claimed for: the rules that had to hold for it to be claimed."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from surveys.delivery.models import Display
from surveys.design.models import SurveyChannel

ATTRIBUTE_OP_WORDS = {
    "eq": gettext_lazy("is"),
    "neq": gettext_lazy("is not"),
    "in": gettext_lazy("is one of"),
    "not_in": gettext_lazy("is none of"),
    "gt": gettext_lazy("is more than"),
    "gte": gettext_lazy("is at least"),
    "lt": gettext_lazy("is less than"),
    "lte": gettext_lazy("is at most"),
    "contains": gettext_lazy("contains"),
    "exists": gettext_lazy("is set"),
    "not_exists": gettext_lazy("is not set"),
}
URL_OP_WORDS = {
    "contains": gettext_lazy("contains"),
    "starts_with": gettext_lazy("starts with"),
    "ends_with": gettext_lazy("ends with"),
    "equals": gettext_lazy("is"),
    "regex": gettext_lazy("matches the pattern"),
}


def _value(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return "" if value is None else str(value)


def _attribute_rule(rule: Mapping[str, Any]) -> str:
    op = rule.get("op")
    words = str(ATTRIBUTE_OP_WORDS.get(op, op))
    if op in ("exists", "not_exists"):
        return _("attribute “%(name)s” %(op)s") % {"name": rule.get("attribute"), "op": words}
    return _("attribute “%(name)s” %(op)s “%(value)s”") % {
        "name": rule.get("attribute"),
        "op": words,
        "value": _value(rule.get("value")),
    }


def targeting_in_words(targeting: Mapping[str, Any] | None) -> list[str]:
    """Each rule of a survey's targeting as a sentence; every rule had to hold (any one of the
    URL rules). Empty targeting: the survey is for everyone."""
    targeting = targeting or {}
    sentences = [_attribute_rule(rule) for rule in targeting.get("attributes") or []]
    urls = [
        _("page URL %(op)s “%(value)s”")
        % {"op": str(URL_OP_WORDS.get(rule.get("op"), rule.get("op"))), "value": rule["value"]}
        for rule in targeting.get("urls") or []
        if isinstance(rule, Mapping) and "value" in rule
    ]
    if urls:
        sentences.append(_(" or ").join(urls))
    languages = targeting.get("languages") or []
    if languages:
        sentences.append(
            _("language is one of %(languages)s") % {"languages": ", ".join(languages)}
        )
    return sentences or [_("the survey is for everyone (no targeting)")]


def display_reasons(display: Display) -> list[str]:
    """Why this display was claimed: where it was asked, then what the survey required of the
    person. The survey's targeting is read as it is now (versions do not freeze it)."""
    reasons = []
    invitation = getattr(display, "invitation", None)
    if display.channel == SurveyChannel.EMAIL:
        event = invitation.operational_event if invitation is not None else None
        if event is not None:
            reasons.append(
                _("e-mail invitation after the event “%(event)s”") % {"event": event.event}
            )
        else:
            reasons.append(_("e-mail invitation"))
    if display.touchpoint is not None:
        reasons.append(_("asked at the touchpoint “%(name)s”") % {"name": display.touchpoint.name})
    reasons.extend(targeting_in_words(display.survey.targeting))
    sample = Decimal(display.survey.sample_percent)
    if sample < 100:
        reasons.append(
            _("drawn in the survey's %(percent)s %% sample")
            % {"percent": f"{sample.normalize():f}"}
        )
    return reasons
