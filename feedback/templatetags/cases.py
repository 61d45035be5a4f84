"""Template helpers for the inbox: SLA time left, status and priority badges."""

from __future__ import annotations

from datetime import datetime

from django import template
from django.utils import timezone
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from feedback.cases.models import OPEN_CASE_STATUSES, CasePriority, CaseStatus, ContactMethod

register = template.Library()

STATUS_BADGES = {
    "new": "text-bg-primary",
    "in_progress": "text-bg-info",
    "contacted": "text-bg-warning",
    "resolved": "text-bg-success",
    "closed": "text-bg-secondary",
    "reopened": "text-bg-danger",
}
PRIORITY_BADGES = {
    "low": "text-bg-light border",
    "normal": "text-bg-secondary",
    "high": "text-bg-warning",
    "urgent": "text-bg-danger",
}


def _span(seconds: float) -> str:
    minutes = int(abs(seconds) // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return gettext("%(days)s d %(hours)s h") % {"days": days, "hours": hours}
    if hours:
        return gettext("%(hours)s h %(minutes)s min") % {"hours": hours, "minutes": minutes}
    return gettext("%(minutes)s min") % {"minutes": minutes}


@register.simple_tag
def sla_left(case, now: datetime | None = None) -> dict:
    """{"text", "css"}: time left until due, or how long overdue, for open cases."""
    now = now or timezone.now()
    if case.status not in OPEN_CASE_STATUSES:
        done = case.resolved_at or case.closed_at
        met = done is not None and done <= case.due_at
        text = gettext("met SLA") if met else gettext("missed SLA")
        return {"text": text, "css": "text-muted"}
    seconds = (case.due_at - now).total_seconds()
    if seconds < 0:
        return {
            "text": gettext("overdue %(span)s") % {"span": _span(seconds)},
            "css": "sla-overdue",
        }
    text = gettext("%(span)s left") % {"span": _span(seconds)}
    return {"text": text, "css": "sla-soon" if seconds < 4 * 3600 else ""}


@register.filter
def status_badge(status: str) -> str:
    return STATUS_BADGES.get(status, "text-bg-secondary")


@register.filter
def priority_badge(priority: str) -> str:
    return PRIORITY_BADGES.get(priority, "text-bg-secondary")


@register.filter
def answer_value(answer) -> str:
    if answer.value_int is not None:
        return str(answer.value_int)
    if answer.value_choices:
        return ", ".join(str(c) for c in answer.value_choices)
    return answer.value_text


@register.filter
def question_text(question, language: str = "en") -> str:
    texts = question.text or {}
    return texts.get(language) or next(iter(texts.values()), "") or question.get_type_display()


@register.filter
def is_open(case) -> bool:
    return case.status in OPEN_CASE_STATUSES


EVENT_LABELS = {
    "created": pgettext_lazy("case event", "Opened"),
    "assigned": pgettext_lazy("case event", "Assigned"),
    "claimed": pgettext_lazy("case event", "Claimed"),
    "status": _("Status"),
    "note": _("Note"),
    "priority": _("Priority"),
    "root_cause": _("Root cause"),
    "resolution_note": _("Resolution note"),
    "contact_method": _("Contact method"),
    "escalated": _("Escalated: SLA breached"),
    "email_failed": _("E-mail not sent"),
    "recovered": _("Recovered"),
}


@register.filter
def event_label(kind: str) -> str:
    return EVENT_LABELS.get(kind, kind.replace("_", " ").capitalize())


@register.filter
def event_value(value: str, kind: str) -> str:
    """Status and priority changes read as their labels ("In progress", not in_progress)."""

    choices = {
        "status": CaseStatus,
        "created": CaseStatus,
        "priority": CasePriority,
        "escalated": CasePriority,
        "contact_method": ContactMethod,
    }.get(kind)
    if choices is not None and value in choices.values:
        return str(choices(value).label)
    return value
