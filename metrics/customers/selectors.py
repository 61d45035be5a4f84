"""Reads for a customer's page: who they are (identity, attributes, lifecycle, revenue), their NPS
over time, and one timeline of everything that happened with them — displays, responses,
Feedback-tab messages, cases and operational events — newest first, a page at a time.

A person is the contact and the anonymous visitors merged into it
(`surveys.contacts.personal_data.person_contacts`). The timeline is one UNION of the five
tables' (kind, id, time) ordered by time, so a page costs the same few queries whether the
customer has ten rows or ten thousand: the union's count, its page of keys, then one query (and
its prefetches) per kind present on the page."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import CharField, F, Prefetch, QuerySet, Value
from django.db.models.functions import Cast, Coalesce
from django.utils.translation import get_language, gettext

from feedback.answering.models import Answer, Feedback, Response
from feedback.cases.models import Case
from metrics.customers.display_reasons import display_reasons
from surveys.contacts.models import Contact, LifecycleChange, OperationalEvent, VisitorId
from surveys.contacts.personal_data import person_contacts
from surveys.delivery.models import Display
from surveys.design.scales import nps_category
from surveys.design.targeting import primary_language
from surveys.tenancy.models import Project

TIMELINE_PAGE_SIZE = 50
# The NPS series shows at most this many of the latest answers (a sparkline, not an export).
NPS_SERIES_MAX = 60


@dataclass(frozen=True)
class NpsPoint:
    at: datetime
    score: int
    category: str


@dataclass(frozen=True)
class CustomerProfile:
    contact: Contact
    contact_ids: list[int]
    visitor_ids: list[str]
    lifecycle: list[LifecycleChange]
    nps: list[NpsPoint]

    @property
    def nps_category(self) -> str | None:
        """The category of their latest NPS answer, the last point of the series shown (it
        includes what an anonymous visitor answered before being merged into them)."""
        return self.nps[-1].category if self.nps else None


@dataclass(frozen=True)
class AnswerLine:
    question: str
    value: str
    question_type: str


@dataclass(frozen=True)
class TimelineEntry:
    """One row of the timeline: `kind` is display, response, feedback, case or event; `item`
    is that row; `reasons` (displays) say why it was shown, `answers` (responses) what was
    answered."""

    kind: str
    at: datetime
    item: Any
    reasons: list[str] = field(default_factory=list)
    answers: list[AnswerLine] = field(default_factory=list)


def customer_contact(*, project: Project, contact_id: int) -> Contact | None:
    """The project's contact with this id, or None (another project's contact is not found)."""
    return Contact.objects.filter(project=project, pk=contact_id).first()


def customer_profile(contact: Contact) -> CustomerProfile:
    contacts = person_contacts(contact)
    ids = [c.pk for c in contacts]
    visitor_ids = list(
        VisitorId.objects.filter(contact_id__in=ids)
        .order_by("created_at", "pk")
        .values_list("visitor_id", flat=True)
    )
    lifecycle = list(
        LifecycleChange.objects.filter(contact_id__in=ids).order_by("occurred_at", "pk")
    )
    return CustomerProfile(contact, ids, visitor_ids, lifecycle, _nps_series(ids))


def _nps_series(contact_ids: Sequence[int]) -> list[NpsPoint]:
    """The person's NPS answers of finished responses, oldest first (the latest
    `NPS_SERIES_MAX`)."""
    rows = (
        Answer.objects.filter(
            response__contact_id__in=contact_ids,
            response__finished=True,
            question_type="nps",
            value_int__isnull=False,
        )
        .annotate(at=Coalesce("response__finished_at", "response__created_at"))
        .order_by("-at", "-pk")
        .values_list("at", "value_int")[:NPS_SERIES_MAX]
    )
    return [NpsPoint(at, score, nps_category(score)) for at, score in reversed(rows)]


# ---------------------------------------------------------------- the timeline


def _keys(queryset: QuerySet, kind: str, time_field) -> QuerySet:
    return (
        queryset.annotate(
            entry_kind=Value(kind, output_field=CharField()),
            entry_key=Cast("pk", output_field=CharField()),
            entry_at=time_field,
        )
        .order_by()
        .values_list("entry_kind", "entry_key", "entry_at")
    )


def _timeline_keys(contact_ids: Sequence[int]) -> QuerySet:
    ids = list(contact_ids)
    parts = [
        _keys(Display.objects.filter(contact_id__in=ids), "display", F("claimed_at")),
        _keys(
            Response.objects.filter(contact_id__in=ids),
            "response",
            Coalesce("finished_at", "created_at"),
        ),
        _keys(Feedback.objects.filter(contact_id__in=ids), "feedback", F("created_at")),
        _keys(Case.objects.filter(contact_id__in=ids), "case", F("created_at")),
        _keys(OperationalEvent.objects.filter(contact_id__in=ids), "event", F("occurred_at")),
    ]
    first, *rest = parts
    return first.union(*rest, all=True).order_by("-entry_at", "-entry_kind", "-entry_key")


def _text(texts: Any, language: str, fallback: str) -> str:
    if not isinstance(texts, dict):
        return str(texts or "")
    for lang in (language, fallback):
        if texts.get(lang):
            return texts[lang]
    return next((v for v in texts.values() if v), "")


def _answer_value(answer: Answer, language: str, fallback: str) -> str:
    if answer.question_type == "yes_no" and answer.value_int is not None:
        return gettext("yes") if answer.value_int else gettext("no")
    if answer.value_int is not None:
        return str(answer.value_int)
    if answer.value_choices:
        labels = {
            c.get("id"): _text(c.get("text"), language, fallback)
            for c in answer.question.choices or []
            if isinstance(c, dict)
        }
        return ", ".join(labels.get(c) or str(c) for c in answer.value_choices)
    return answer.value_text


def _answer_lines(response: Response, fallback: str) -> list[AnswerLine]:
    language = primary_language(get_language())
    return [
        AnswerLine(
            question=_text(a.question.text, language, fallback) or a.question.get_type_display(),
            value=_answer_value(a, language, fallback),
            question_type=a.question_type,
        )
        for a in response.answers.all()
    ]


def _rows(kind: str, keys: list[str]) -> dict[str, Any]:
    """The page's rows of one kind, by their key, with what their entry shows."""
    if kind == "display":
        rows = Display.objects.filter(pk__in=keys).select_related(
            "survey", "touchpoint", "invitation__operational_event"
        )
    elif kind == "response":
        rows = (
            Response.objects.filter(pk__in=keys)
            .select_related("survey", "touchpoint", "project")
            .prefetch_related(
                Prefetch(
                    "answers",
                    Answer.objects.select_related("question").order_by("question__position"),
                ),
                Prefetch("cases", Case.objects.order_by("pk")),
            )
        )
    elif kind == "feedback":
        rows = Feedback.objects.filter(pk__in=keys)
    elif kind == "case":
        rows = Case.objects.filter(pk__in=keys).select_related("rule", "assignee")
    else:
        rows = OperationalEvent.objects.filter(pk__in=keys).prefetch_related(
            Prefetch("lifecycle_changes", LifecycleChange.objects.order_by("occurred_at", "pk"))
        )
    return {str(row.pk): row for row in rows}


def _entry(kind: str, at: datetime, row: Any) -> TimelineEntry:
    if kind == "display":
        return TimelineEntry(kind, at, row, reasons=display_reasons(row))
    if kind == "response":
        return TimelineEntry(
            kind, at, row, answers=_answer_lines(row, row.project.default_language)
        )
    return TimelineEntry(kind, at, row)


def _normal_key(kind: str, key: str) -> str:
    return str(uuid.UUID(key)) if kind == "display" else key


def customer_timeline(*, contact_ids: Sequence[int], page_number: Any) -> Page:
    """One page of the person's timeline, newest first; its `object_list` is TimelineEntry."""
    page = Paginator(_timeline_keys(contact_ids), TIMELINE_PAGE_SIZE).get_page(page_number)
    by_kind: dict[str, list[str]] = defaultdict(list)
    # Display ids are UUIDs, which SQLite's cast writes without dashes: keys are compared as
    # the row's own id prints.
    keys = [(kind, _normal_key(kind, key), at) for kind, key, at in page.object_list]
    for kind, key, _at in keys:
        by_kind[kind].append(key)
    rows = {kind: _rows(kind, kind_keys) for kind, kind_keys in by_kind.items()}
    page.object_list = [
        _entry(kind, at, rows[kind][key]) for kind, key, at in keys if key in rows[kind]
    ]
    return page
