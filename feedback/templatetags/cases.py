"""Template helpers for the inbox: SLA time left, status and priority badges."""

from __future__ import annotations

from datetime import datetime

from django import template
from django.utils import timezone

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
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min"


@register.simple_tag
def sla_left(case, now: datetime | None = None) -> dict:
    """{"text", "css"}: time left until due, or how long overdue, for open cases."""
    now = now or timezone.now()
    if case.status not in OPEN_CASE_STATUSES:
        done = case.resolved_at or case.closed_at
        met = done is not None and done <= case.due_at
        return {"text": "met SLA" if met else "missed SLA", "css": "text-muted"}
    seconds = (case.due_at - now).total_seconds()
    if seconds < 0:
        return {"text": f"overdue {_span(seconds)}", "css": "sla-overdue"}
    return {"text": f"{_span(seconds)} left", "css": "sla-soon" if seconds < 4 * 3600 else ""}


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
    "created": "Opened",
    "assigned": "Assigned",
    "claimed": "Claimed",
    "status": "Status",
    "note": "Note",
    "priority": "Priority",
    "root_cause": "Root cause",
    "resolution_note": "Resolution note",
    "contact_method": "Contact method",
    "escalated": "Escalated: SLA breached",
    "email_failed": "E-mail not sent",
    "recovered": "Recovered",
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
