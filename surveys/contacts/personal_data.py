"""Where a person's data lives: one registry that subject-access export and erasure both walk.

Personal data sits in every app — visitor ids and display URLs here, answers, feedback, cases,
events and webhook payloads in `feedback`, breakdown values in `metrics`' rollups. The app
that owns a table registers one `PersonalData` entry for it (in its `AppConfig.ready()`),
giving both what it exports and how it erases, so whatever erasure removes is also in the
export, and a table added later is covered by adding its entry next to its model. `surveys`
declares the registry because it owns contacts and sits lowest; it imports no higher app.

A *person* is a contact together with every anonymous contact that was merged into it
(`Contact.merged_into`): what they did before they signed in is theirs too.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from surveys.contacts.models import Contact
from vocsite.registry import Registry

# What erased values become where a value must remain (a breakdown value, a segment): one
# bucket, so totals never change and nobody can be told apart inside it.
ERASED = "(erased)"


@dataclass(frozen=True)
class PersonalData:
    """One place personal data lives. `export` returns JSON-ready data (or None to add no
    section); `erase` removes or blanks it in the caller's transaction. Both take the person's
    contacts (`person_contacts`)."""

    name: str
    export: Callable[[Sequence[Contact]], Any]
    erase: Callable[[Sequence[Contact]], None]
    # Identify merges an anonymous contact into the person: rows of this place that name the
    # anonymous contact are re-pointed to the person (None: nothing here names a contact).
    repoint: Callable[[Contact, Contact], None] | None = None


# Every place known to hold personal data, in the order the export lists them; a place added
# later is declared here and registered by the app that owns its table.
PERSONAL_DATA: Registry[PersonalData] = Registry(
    "places that hold a person's data",
    expected=(
        "contact",
        "visitor_ids",
        "surveys_shown",
        "email_invitations",
        "lifecycle_history",
        "responses",
        "feedback",
        "cases",
        "events",
        "webhook_deliveries",
        "processing_failures",
        "segments",
    ),
)


def contact_rows_repoint(model) -> Callable[[Contact, Contact], None]:
    """The `repoint` of a place whose rows name their contact in a `contact` foreign key."""

    def repoint(anonymous: Contact, into: Contact) -> None:
        model.objects.filter(contact=anonymous).update(contact=into)

    return repoint


def personal_data_register(entry: PersonalData) -> None:
    PERSONAL_DATA.register(entry.name, entry)


def personal_data_entries() -> list[PersonalData]:
    return list(PERSONAL_DATA)


def person_contacts(contact: Contact) -> list[Contact]:
    """The contact and every contact merged into it, at any depth (identify merges an
    anonymous visitor into the person; that visitor may have absorbed another before)."""
    found = [contact]
    frontier = [contact.pk]
    while frontier:
        merged = list(Contact.objects.filter(merged_into_id__in=frontier))
        found.extend(merged)
        frontier = [c.pk for c in merged]
    return found
