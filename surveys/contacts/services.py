"""Contacts as the company's systems know them: upsert by `user_id`, CSV import (all rows valid
or nothing imported), export of everything held about a person, and erasure.

Erasure removes personal data and free text everywhere it lives (each app registers its
places in `surveys.contacts.personal_data`): identifiers and attributes of the person and of the
anonymous visitors merged into them, visitor ids, display URLs, answers' text and segments,
Feedback-tab messages, case titles and notes, event ids and properties, webhook payloads
about them. The contact rows stay as anonymous shells, so every response still counts in the
metrics exactly once: breakdown values move to one "(erased)" bucket and totals never change.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf.locale import LANG_INFO
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import CharField, F, Value
from django.db.models.functions import Concat
from django.utils import timezone
from django.utils.translation import gettext, ngettext

from surveys.contacts.attributes import clean_attributes
from surveys.contacts.models import Contact, LifecycleChange, OperationalEvent, VisitorId
from surveys.contacts.personal_data import (
    PersonalData,
    contact_rows_repoint,
    person_contacts,
    personal_data_entries,
)
from surveys.tenancy.models import Project
from surveys.tenancy.services import audit_record
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


def language_known(code: str) -> bool:
    """A language tag whose language Django knows (en, zh, zh-Hans, pt-BR…): a contact's
    language picks the texts they get, so "english" or "xx" would silently fall back."""
    parts = re.split(r"[-_]", code.strip().lower())
    if not all(re.fullmatch(r"[a-z0-9]{1,8}", part) for part in parts):
        return False
    return any(known.split("-")[0] == parts[0] for known in LANG_INFO)


def _check(user_id: str, data: ContactIn) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if not user_id or len(user_id) > 200:
        errors["user_id"] = [gettext("1 to 200 characters.")]
    if data.email:
        try:
            validate_email(data.email)
        except ValidationError:
            errors["email"] = [gettext("Enter a valid e-mail address.")]
    if data.phone and len(data.phone) > 40:
        errors["phone"] = [gettext("At most 40 characters.")]
    if data.language and len(data.language) > 16:
        errors["language"] = [gettext("At most 16 characters.")]
    elif data.language and not language_known(data.language):
        errors["language"] = [
            gettext("“%(code)s” is not a language code: use one such as en, zh or pt-BR.")
            % {"code": data.language}
        ]
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
        raise ApplicationError("invalid", gettext("The contact is not valid."), errors)
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
        raise ApplicationError(
            "not_found", gettext("No contact with this user_id."), status_code=404
        )
    return contact


# ---------------------------------------------------------------- CSV import


def _row_problem(number: int, field: str, message: str) -> str:
    return gettext("Row %(row)s: %(field)s: %(message)s") % {
        "row": number,
        "field": field,
        "message": message,
    }


def contacts_import_csv(*, project: Project, content: bytes) -> dict[str, int]:
    """Columns user_id (required), email, phone, language; every other column is an
    attribute. All rows are checked first; any problem → a 400 listing each row's problems and
    nothing imported. Then one transaction upserts them all."""
    if len(content) > MAX_IMPORT_BYTES:
        raise ApplicationError(
            "invalid", gettext("The file is larger than 5 MB."), {"file": [gettext("Too large.")]}
        )
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ApplicationError(
            "invalid",
            gettext("The file is not UTF-8 text."),
            {"file": [gettext("Save it as CSV UTF-8.")]},
        ) from None
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in reader.fieldnames or []]
    if "user_id" not in header:
        raise ApplicationError(
            "invalid",
            gettext("The file needs a user_id column."),
            {"file": [gettext("No user_id column.")]},
        )
    reader.fieldnames = header
    rows: list[tuple[str, ContactIn]] = []
    problems: list[str] = []
    seen: dict[str, int] = {}
    for number, row in enumerate(reader, start=2):  # row 1 is the header
        if number - 1 > MAX_IMPORT_ROWS:
            problems.append(
                gettext("More than %(n)s rows; split the file.") % {"n": f"{MAX_IMPORT_ROWS:,}"}
            )
            break
        if None in row:
            problems.append(gettext("Row %(row)s: more values than columns.") % {"row": number})
            continue
        values = {k: (v or "").strip() for k, v in row.items()}
        # PostgreSQL's text and jsonb refuse NUL (SQLite stored it): a 500 at the upsert.
        refused = [k for k, v in values.items() if "\x00" in k or "\x00" in v]
        if refused:
            problems.extend(
                _row_problem(number, k, gettext("Null characters are not allowed."))
                for k in refused
            )
            continue
        user_id = values.get("user_id", "")
        data = ContactIn(
            email=values.get("email") or None,
            phone=values.get("phone") or None,
            language=values.get("language") or None,
            attributes={k: v for k, v in values.items() if k not in KNOWN_COLUMNS and v},
        )
        for field, messages in _check(user_id, data).items():
            problems.extend(_row_problem(number, field, m) for m in messages)
        if user_id in seen:
            problems.append(
                _row_problem(
                    number, "user_id", gettext("Also on row %(row)s.") % {"row": seen[user_id]}
                )
            )
        seen.setdefault(user_id, number)
        rows.append((user_id, data))
    if problems:
        raise ApplicationError(
            "invalid",
            ngettext(
                "%(n)s problem in the file; nothing was imported.",
                "%(n)s problems in the file; nothing was imported.",
                len(problems),
            )
            % {"n": len(problems)},
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


def contact_for_visitor(*, project: Project, visitor_id: str) -> Contact:
    """The person an anonymous visitor id stands for (the contact it was merged into, if any)."""
    link = VisitorId.objects.filter(project=project, visitor_id=visitor_id).first()
    if link is None:
        raise ApplicationError(
            "not_found", gettext("No visitor with this visitor_id."), status_code=404
        )
    return contact_person_root(link.contact)


def contact_person_root(contact: Contact) -> Contact:
    """The contact a (possibly merged) contact row now belongs to."""
    seen = set()
    while contact.merged_into_id is not None and contact.pk not in seen:
        seen.add(contact.pk)
        contact = Contact.objects.get(pk=contact.merged_into_id)
    return contact


def contact_export(*, contact: Contact) -> dict[str, Any]:
    """Everything held about one person, as plain JSON (a subject-access request): one section
    per registered place their data lives (surveys.contacts.personal_data), the same places erasure
    empties."""
    contacts = person_contacts(contact_person_root(contact))
    sections = {}
    for entry in personal_data_entries():
        exported = entry.export(contacts)
        if exported is not None:
            sections[entry.name] = exported
    return json.loads(json.dumps(sections, default=_iso))


@transaction.atomic
def contact_erase(*, contact: Contact, actor=None) -> Contact:
    """Remove every trace of the person while their answers keep counting anonymously (see the
    module docstring). Every registered place is emptied (surveys.contacts.personal_data); the audit log
    records that contact #id was erased, and by whom — nothing about them."""
    root = Contact.objects.select_for_update().get(pk=contact_person_root(contact).pk)
    contacts = person_contacts(root)
    for entry in personal_data_entries():
        entry.erase(contacts)
    root.refresh_from_db()
    audit_record(
        project=root.project,
        action="contact.erased",
        obj=root,
        actor=actor,
        actor_label="" if actor is not None else "API",
    )
    return root


# ---------------------------------------------------------------- this app's personal data


def _contact_fields(c: Contact) -> dict[str, Any]:
    return {
        "user_id": c.user_id,
        "email": c.email,
        "phone": c.phone,
        "language": c.language,
        "attributes": c.attributes,
        "lifecycle": c.lifecycle,
        "churned_at": c.churned_at,
        "revenue_total": str(c.revenue_total),
        "opted_out_at": c.opted_out_at,
        "created_at": c.created_at,
        "last_seen_at": c.last_seen_at,
    }


def _contacts_export(contacts: Sequence[Contact]) -> dict[str, Any]:
    """The person (the first contact) and the anonymous visitors merged into them."""
    person, *merged = contacts
    return {**_contact_fields(person), "merged_visitors": [_contact_fields(c) for c in merged]}


def _contacts_erase(contacts: Sequence[Contact]) -> None:
    Contact.objects.filter(pk__in=[c.pk for c in contacts]).update(
        user_id=None,
        email="",
        phone="",
        language="",
        attributes={},
        erased_at=timezone.now(),
        updated_at=timezone.now(),
    )


def _visitor_ids_export(contacts: Sequence[Contact]) -> list[str]:
    return list(
        VisitorId.objects.filter(contact__in=contacts)
        .order_by("created_at")
        .values_list("visitor_id", flat=True)
    )


def _visitor_ids_erase(contacts: Sequence[Contact]) -> None:
    VisitorId.objects.filter(contact__in=contacts).delete()


def _lifecycle_export(contacts: Sequence[Contact]) -> list[dict[str, Any]]:
    return list(
        LifecycleChange.objects.filter(contact__in=contacts)
        .order_by("occurred_at", "pk")
        .values("kind", "occurred_at", "ended_at")
    )


def _lifecycle_erase(contacts: Sequence[Contact]) -> None:
    """The history says only when the customer started, churned or came back, tied to the
    anonymous shell; an erased contact is no longer a customer, so it counts nowhere."""


def _events_export(contacts: Sequence[Contact]) -> list[dict[str, Any]]:
    return list(
        OperationalEvent.objects.filter(contact__in=contacts)
        .order_by("occurred_at")
        .values("event", "event_id", "occurred_at", "properties", "revenue")
    )


def _events_erase(contacts: Sequence[Contact]) -> None:
    """Properties go; the idempotency key may be an e-mail or an order number, so it becomes a
    key that names only the row (still unique: a retry of an erased person's event counts as
    new, as the person now is)."""
    events = OperationalEvent.objects.filter(contact__in=contacts)
    events.update(properties={})
    events.exclude(event_id="").update(
        event_id=Concat(Value("erased:"), F("pk"), output_field=CharField())
    )


SURVEYS_PERSONAL_DATA = (
    PersonalData("contact", _contacts_export, _contacts_erase),
    PersonalData(
        "visitor_ids", _visitor_ids_export, _visitor_ids_erase, contact_rows_repoint(VisitorId)
    ),
    PersonalData("lifecycle_history", _lifecycle_export, _lifecycle_erase),
    PersonalData("events", _events_export, _events_erase, contact_rows_repoint(OperationalEvent)),
)
