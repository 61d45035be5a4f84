"""Contacts as the company's systems know them: upsert by `user_id`, CSV import (all rows valid
or nothing imported), export of everything held about a person, and erasure.

Erasure removes personal data and free text everywhere it lives — the contact's identifiers
and attributes, visitor ids, open-text answers and their matched spans, Feedback-tab messages,
case titles and notes, event properties, webhook payloads about the person — while the
contact row stays as an anonymous shell, so every response still counts in the metrics
exactly once and the rollups are unchanged.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from surveys.ledger import clean_attributes
from surveys.models import Contact, Project, VisitorId
from vocsite.errors import ApplicationError

KNOWN_COLUMNS = ("user_id", "email", "phone", "language")
MAX_IMPORT_ROWS = 50_000
MAX_IMPORT_BYTES = 5 * 1024 * 1024


@dataclass(frozen=True)
class ContactIn:
    email: str | None = None
    phone: str | None = None
    language: str | None = None
    attributes: Mapping[str, Any] | None = None


def _check(user_id: str, data: ContactIn) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if not user_id or len(user_id) > 200:
        errors["user_id"] = ["1 to 200 characters."]
    if data.email:
        try:
            validate_email(data.email)
        except ValidationError:
            errors["email"] = ["Enter a valid e-mail address."]
    if data.phone and len(data.phone) > 40:
        errors["phone"] = ["At most 40 characters."]
    if data.language and len(data.language) > 16:
        errors["language"] = ["At most 16 characters."]
    try:
        clean_attributes(data.attributes)
    except ApplicationError as error:
        errors["attributes"] = [error.message]
    return errors


def _apply(contact: Contact, data: ContactIn) -> None:
    if data.email is not None:
        contact.email = data.email
    if data.phone is not None:
        contact.phone = data.phone
    if data.language is not None:
        contact.language = data.language
    if data.attributes:
        contact.attributes = {**contact.attributes, **clean_attributes(data.attributes)}


@transaction.atomic
def contact_upsert(*, project: Project, user_id: str, data: ContactIn) -> tuple[Contact, bool]:
    errors = _check(user_id, data)
    if errors:
        raise ApplicationError("invalid", "The contact is not valid.", errors)
    contact = Contact.objects.select_for_update().filter(project=project, user_id=user_id).first()
    created = contact is None
    if created:
        contact = Contact(project=project, user_id=user_id)
    _apply(contact, data)
    contact.save()
    return contact, created


def contact_get(*, project: Project, user_id: str) -> Contact:
    contact = Contact.objects.filter(project=project, user_id=user_id).first()
    if contact is None:
        raise ApplicationError("not_found", "No contact with this user_id.", status_code=404)
    return contact


# ---------------------------------------------------------------- CSV import


def contacts_import_csv(*, project: Project, content: bytes) -> dict[str, int]:
    """Columns user_id (required), email, phone, language; every other column is an
    attribute. All rows are checked first; any problem → a 400 listing each row's problems and
    nothing imported. Then one transaction upserts them all."""
    if len(content) > MAX_IMPORT_BYTES:
        raise ApplicationError("invalid", "The file is larger than 5 MB.", {"file": ["Too large."]})
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ApplicationError(
            "invalid", "The file is not UTF-8 text.", {"file": ["Save it as CSV UTF-8."]}
        ) from None
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in reader.fieldnames or []]
    if "user_id" not in header:
        raise ApplicationError(
            "invalid", "The file needs a user_id column.", {"file": ["No user_id column."]}
        )
    reader.fieldnames = header
    rows: list[tuple[str, ContactIn]] = []
    problems: list[str] = []
    seen: dict[str, int] = {}
    for number, row in enumerate(reader, start=2):  # row 1 is the header
        if number - 1 > MAX_IMPORT_ROWS:
            problems.append(f"More than {MAX_IMPORT_ROWS:,} rows; split the file.")
            break
        if None in row:
            problems.append(f"Row {number}: more values than columns.")
            continue
        values = {k: (v or "").strip() for k, v in row.items()}
        user_id = values.get("user_id", "")
        data = ContactIn(
            email=values.get("email") or None,
            phone=values.get("phone") or None,
            language=values.get("language") or None,
            attributes={k: v for k, v in values.items() if k not in KNOWN_COLUMNS and v},
        )
        for field, messages in _check(user_id, data).items():
            problems.extend(f"Row {number}: {field}: {m}" for m in messages)
        if user_id in seen:
            problems.append(f"Row {number}: user_id: Also on row {seen[user_id]}.")
        seen.setdefault(user_id, number)
        rows.append((user_id, data))
    if problems:
        raise ApplicationError(
            "invalid",
            f"{len(problems)} problem(s) in the file; nothing was imported.",
            {"rows": problems[:200]},
        )
    with transaction.atomic():
        existing = {
            c.user_id: c
            for c in Contact.objects.select_for_update().filter(
                project=project, user_id__in=[user_id for user_id, _ in rows]
            )
        }
        new, changed = [], []
        for user_id, data in rows:
            contact = existing.get(user_id)
            if contact is None:
                contact = Contact(project=project, user_id=user_id)
                new.append(contact)
            else:
                changed.append(contact)
            _apply(contact, data)
        Contact.objects.bulk_create(new, batch_size=1000)
        Contact.objects.bulk_update(
            changed, ["email", "phone", "language", "attributes", "updated_at"], batch_size=1000
        )
    return {"created": len(new), "updated": len(changed)}


# ---------------------------------------------------------------- export and erasure


def _iso(value) -> Any:
    """JSON for what the ORM returns: dates as ISO 8601, decimals and UUIDs as strings."""
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def contact_export(*, contact: Contact) -> dict[str, Any]:
    """Everything held about one person, as plain JSON (a subject-access request)."""
    from feedback.models import Case, Feedback, OperationalEvent, Response
    from surveys.models import Decision, Display, Invitation

    return json.loads(
        json.dumps(
            {
                "contact": {
                    "user_id": contact.user_id,
                    "email": contact.email,
                    "phone": contact.phone,
                    "language": contact.language,
                    "attributes": contact.attributes,
                    "lifecycle": contact.lifecycle,
                    "churned_at": contact.churned_at,
                    "revenue_total": str(contact.revenue_total),
                    "opted_out_at": contact.opted_out_at,
                    "created_at": contact.created_at,
                    "last_seen_at": contact.last_seen_at,
                },
                "visitor_ids": list(
                    VisitorId.objects.filter(contact=contact).values_list("visitor_id", flat=True)
                ),
                "surveys_shown": list(
                    Display.objects.filter(contact=contact)
                    .order_by("claimed_at")
                    .values("survey__name", "channel", "status", "claimed_at", "shown_at")
                ),
                "survey_decisions": list(
                    Decision.objects.filter(contact=contact)
                    .order_by("created_at")
                    .values("survey__name", "reason", "channel", "created_at")
                ),
                "responses": [
                    {
                        "survey": r.survey.name,
                        "finished_at": r.finished_at,
                        "channel": r.channel,
                        "language": r.language,
                        "answers": [
                            {
                                "question": a.question.text,
                                "type": a.question_type,
                                "score": a.value_int,
                                "text": a.value_text,
                                "choices": a.value_choices,
                            }
                            for a in r.answers.all()
                        ],
                    }
                    for r in Response.objects.filter(contact=contact)
                    .select_related("survey")
                    .prefetch_related("answers__question")
                    .order_by("created_at")
                ],
                "feedback": list(
                    Feedback.objects.filter(contact=contact).values(
                        "text", "rating", "category", "url", "created_at"
                    )
                ),
                "cases": [
                    {
                        "title": c.title,
                        "status": c.status,
                        "created_at": c.created_at,
                        "events": [
                            {"kind": e.kind, "note": e.note, "at": e.created_at}
                            for e in c.events.all()
                        ],
                    }
                    for c in Case.objects.filter(contact=contact).prefetch_related("events")
                ],
                "events": list(
                    OperationalEvent.objects.filter(contact=contact)
                    .order_by("occurred_at")
                    .values("event", "occurred_at", "properties", "revenue")
                ),
                "email_invitations": list(
                    Invitation.objects.filter(contact=contact).values(
                        "survey__name", "status", "sent_at"
                    )
                ),
            },
            default=_iso,
        )
    )


@transaction.atomic
def contact_erase(*, contact: Contact, actor=None) -> Contact:
    """Remove personal data and free text; keep anonymous counts (see the module docstring).
    The audit log records that contact #id was erased, and by whom — nothing about them."""
    from feedback.models import (
        Answer,
        Case,
        CaseEvent,
        Feedback,
        OperationalEvent,
        Response,
        Tag,
        WebhookAttempt,
        WebhookDelivery,
    )

    contact = Contact.objects.select_for_update().get(pk=contact.pk)
    identifiers = [v for v in (contact.user_id, contact.email, contact.phone) if v]
    responses = Response.objects.filter(contact=contact)
    answers = Answer.objects.filter(response__in=responses)
    feedback = Feedback.objects.filter(contact=contact)
    texts = [t for t in answers.exclude(value_text="").values_list("value_text", flat=True)]
    texts += [t for t in feedback.values_list("text", flat=True) if t]

    Tag.objects.filter(Q(answer__in=answers) | Q(feedback__in=feedback)).update(matched_text="")
    answers.exclude(value_text="").update(value_text="")
    responses.update(meta={})
    feedback.update(text="", url="", meta={})
    cases = Case.objects.filter(Q(contact=contact) | Q(response__in=responses))
    for case in cases.only("pk"):
        Case.objects.filter(pk=case.pk).update(
            title=f"Case #{case.pk} (contact erased)", resolution_note=""
        )
    CaseEvent.objects.filter(case__in=cases).update(note="")
    OperationalEvent.objects.filter(contact=contact).update(properties={})
    # Webhook payloads that name the person or quote their words.
    needles = [n for n in identifiers + texts if n]
    if needles:
        deliveries = WebhookDelivery.objects.filter(endpoint__project=contact.project_id)
        for delivery in deliveries.only("pk", "payload").iterator(chunk_size=500):
            body = json.dumps(delivery.payload, ensure_ascii=False)
            if any(needle in body for needle in needles):
                WebhookDelivery.objects.filter(pk=delivery.pk).update(
                    payload={"erased": True}, last_error=""
                )
                WebhookAttempt.objects.filter(delivery=delivery).update(error="")
    VisitorId.objects.filter(contact=contact).delete()
    contact.user_id = None
    contact.email = contact.phone = contact.language = ""
    contact.attributes = {}
    contact.erased_at = timezone.now()
    contact.save()
    from surveys.services import audit_record

    audit_record(
        project=contact.project,
        action="contact.erased",
        obj=contact,
        actor=actor,
        actor_label="" if actor is not None else "API",
    )
    return contact
