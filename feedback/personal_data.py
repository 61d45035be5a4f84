"""The places `feedback` keeps a person's data, for export and erasure (surveys.contacts.personal_data).

Answers keep counting after erasure: a response keeps its scores, its choices and its place
in the rollups; what the person wrote, where they were and what names them goes. Segments and
their rollup cells are `metrics`' to move (metrics.personal_data).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db.models import CharField, F, Q, Value
from django.db.models.functions import Concat

from feedback.answering.models import Answer, Feedback, ProcessingFailure, Response
from feedback.cases.models import Case, CaseEvent
from feedback.cases.services import FREE_TEXT_CASE_FIELDS
from feedback.topics.models import Tag
from feedback.webhooks.models import ERASED_PAYLOAD, WebhookAttempt, WebhookDelivery
from surveys.contacts.models import Contact
from surveys.contacts.personal_data import PersonalData, contact_rows_repoint


def _responses(contacts: Sequence[Contact]):
    return Response.objects.filter(contact__in=contacts)


def _feedback(contacts: Sequence[Contact]):
    return Feedback.objects.filter(contact__in=contacts)


def _tags_export(tags) -> list[dict[str, Any]]:
    return [{"topic": t.topic.name, "matched": t.matched_text, "source": t.source} for t in tags]


def _responses_export(contacts: Sequence[Contact]) -> list[dict[str, Any]]:
    responses = (
        _responses(contacts)
        .select_related("survey", "touchpoint")
        .prefetch_related("answers__question", "answers__tags__topic")
        .order_by("created_at")
    )
    return [
        {
            "id": r.pk,
            "survey": r.survey.name,
            "touchpoint": r.touchpoint.key if r.touchpoint_id else None,
            "channel": r.channel,
            "language": r.language,
            "finished_at": r.finished_at,
            "meta": r.meta,
            "segment": r.segment,
            "answers": [
                {
                    "question": a.question.text,
                    "type": a.question_type,
                    "score": a.value_int,
                    "text": a.value_text,
                    "choices": a.value_choices,
                    "sentiment": a.sentiment,
                    "topics": _tags_export(a.tags.all()),
                }
                for a in r.answers.all()
            ],
        }
        for r in responses
    ]


def _responses_erase(contacts: Sequence[Contact]) -> None:
    responses = _responses(contacts)
    answers = Answer.objects.filter(response__in=responses)
    Tag.objects.filter(answer__in=answers).exclude(matched_text="").update(matched_text="")
    answers.exclude(value_text="").update(value_text="")
    responses.update(meta={})


def _feedback_export(contacts: Sequence[Contact]) -> list[dict[str, Any]]:
    return [
        {
            "id": f.pk,
            "category": f.category,
            "rating": f.rating,
            "text": f.text,
            "url": f.url,
            "meta": f.meta,
            "sentiment": f.sentiment,
            "created_at": f.created_at,
            "topics": _tags_export(f.tags.all()),
        }
        for f in _feedback(contacts).prefetch_related("tags__topic").order_by("created_at")
    ]


def _feedback_erase(contacts: Sequence[Contact]) -> None:
    feedback = _feedback(contacts)
    Tag.objects.filter(feedback__in=feedback).exclude(matched_text="").update(matched_text="")
    feedback.update(text="", url="", meta={})


def _cases(contacts: Sequence[Contact]):
    """Cases about the person: theirs, or opened from their answers or messages (a case's
    contact may be unset when it was opened from an anonymous answer)."""
    return Case.objects.filter(
        Q(contact__in=contacts)
        | Q(response__contact__in=contacts)
        | Q(feedback__contact__in=contacts)
    ).distinct()


def _cases_export(contacts: Sequence[Contact]) -> list[dict[str, Any]]:
    return [
        {
            "id": c.pk,
            "title": c.title,
            "status": c.status,
            "priority": c.priority,
            "root_cause": c.root_cause.name if c.root_cause_id else "",
            "resolution_note": c.resolution_note,
            "created_at": c.created_at,
            "events": [
                {
                    "kind": e.kind,
                    "from": e.from_value,
                    "to": e.to_value,
                    "note": e.note,
                    "at": e.created_at,
                }
                for e in c.events.all()
            ],
        }
        for c in _cases(contacts)
        .select_related("root_cause")
        .prefetch_related("events")
        .order_by("created_at")
    ]


def _cases_erase(contacts: Sequence[Contact]) -> None:
    ids = list(_cases(contacts).values_list("pk", flat=True))
    Case.objects.filter(pk__in=ids).update(
        title=Concat(
            Value("Case #"), F("pk"), Value(" (contact erased)"), output_field=CharField()
        ),
        resolution_note="",
    )
    events = CaseEvent.objects.filter(case__in=ids)
    events.exclude(note="").update(note="")
    # A change of a free-text field logs its old and new text.
    events.filter(kind__in=FREE_TEXT_CASE_FIELDS).update(from_value="", to_value="")


def _webhooks_export(contacts: Sequence[Contact]) -> list[dict[str, Any]]:
    return list(
        WebhookDelivery.objects.filter(contact__in=contacts)
        .order_by("created_at")
        .values("event", "endpoint__url", "status", "payload", "created_at", "delivered_at")
    )


def _webhooks_erase(contacts: Sequence[Contact]) -> None:
    """Deliveries are found by the contact they concern (set when they were queued), so a
    payload is emptied however its text was written; one still pending sends only the fact
    that it was erased."""
    deliveries = WebhookDelivery.objects.filter(contact__in=contacts)
    # A receiver's reply may echo what it was sent.
    WebhookAttempt.objects.filter(delivery__in=deliveries).update(error="", response_excerpt="")
    deliveries.update(payload=ERASED_PAYLOAD, last_error="")


def _failures(contacts: Sequence[Contact]):
    return ProcessingFailure.objects.filter(
        Q(response__contact__in=contacts) | Q(feedback__contact__in=contacts)
    )


def _failures_export(contacts: Sequence[Contact]) -> list[dict[str, Any]]:
    return list(
        _failures(contacts).values("response_id", "feedback_id", "steps", "reason", "attempts")
    )


def _failures_erase(contacts: Sequence[Contact]) -> None:
    """An error message can quote what was processed: the steps and reason go, the row (and a
    quarantine) stays for the admins."""
    _failures(contacts).update(steps={}, reason="(erased)")


FEEDBACK_PERSONAL_DATA = (
    PersonalData("responses", _responses_export, _responses_erase, contact_rows_repoint(Response)),
    PersonalData("feedback", _feedback_export, _feedback_erase, contact_rows_repoint(Feedback)),
    PersonalData("cases", _cases_export, _cases_erase, contact_rows_repoint(Case)),
    PersonalData("webhook_deliveries", _webhooks_export, _webhooks_erase),
    PersonalData("processing_failures", _failures_export, _failures_erase),
)
