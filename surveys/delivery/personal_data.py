"""The places delivery keeps a person's data, for export, erasure and identify's merge
(surveys.contacts.personal_data): the surveys they were shown and their e-mail invitations.
Decide's decisions are daily counters that name nobody (surveys.delivery.models.DecisionCount)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from surveys.contacts.models import Contact
from surveys.contacts.personal_data import PersonalData, contact_rows_repoint
from surveys.delivery.models import Display, Invitation


def _displays_export(contacts: Sequence[Contact]) -> list[dict[str, Any]]:
    return list(
        Display.objects.filter(contact__in=contacts)
        .order_by("claimed_at")
        .values("survey__name", "channel", "status", "language", "url", "claimed_at", "shown_at")
    )


def _displays_erase(contacts: Sequence[Contact]) -> None:
    Display.objects.filter(contact__in=contacts).exclude(url="").update(url="")


def _invitations_export(contacts: Sequence[Contact]) -> list[dict[str, Any]]:
    return list(
        Invitation.objects.filter(contact__in=contacts)
        .order_by("send_after")
        .values("survey__name", "status", "skip_reason", "send_after", "sent_at")
    )


def _invitations_erase(contacts: Sequence[Contact]) -> None:
    """Invitations point only at the shell contact; its links answer 410 Gone from now on
    (`erased_at`), so nothing is left to remove here."""


DELIVERY_PERSONAL_DATA = (
    PersonalData("surveys_shown", _displays_export, _displays_erase, contact_rows_repoint(Display)),
    PersonalData(
        "email_invitations",
        _invitations_export,
        _invitations_erase,
        contact_rows_repoint(Invitation),
    ),
)
