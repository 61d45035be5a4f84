"""Operational events from the company's servers: stored once (idempotent by `event_id`), they
write a customer's lifecycle history (the first event starts it, a churn event ends an active
spell, later activity starts another: the rule is surveys.contacts.lifecycle), add revenue, and — when the
event's name is a touchpoint with an e-mail survey — invite the person to that survey by e-mail
(the throttle ledger decides at sending time).

History is kept in event time: an event sent late (`occurred_at` in the past) rewrites the
contact's history from its moment on, so churn per period counts it where it happened.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext

from surveys.contacts.lifecycle import CHURNED, Change, EventFact, lifecycle_changes
from surveys.contacts.models import Contact, LifecycleChange, LifecycleStatus, OperationalEvent
from surveys.delivery.email_surveys import invitation_schedule
from surveys.delivery.ledger import contact_resolve
from surveys.tenancy.models import Project
from vocsite.errors import ApplicationError


@dataclass(frozen=True)
class EventIn:
    event: str
    user_id: str | None = None
    event_id: str = ""
    occurred_at: datetime | None = None
    properties: dict[str, Any] = field(default_factory=dict)
    revenue: Decimal | None = None
    email: str = ""


@dataclass(frozen=True)
class EventResult:
    event: OperationalEvent
    created: bool
    invitation_id: int | None = None


def _facts(events) -> list[EventFact]:
    return [EventFact(pk, name, occurred_at, revenue) for pk, name, occurred_at, revenue in events]


def _event_facts(queryset) -> list[EventFact]:
    return _facts(queryset.values_list("pk", "event", "occurred_at", "revenue"))


def _change_rows(contact: Contact, changes: list[Change]) -> list[LifecycleChange]:
    return [
        LifecycleChange(
            project_id=contact.project_id,
            contact=contact,
            kind=c.kind,
            occurred_at=c.occurred_at,
            ended_at=c.ended_at,
            event_id=c.event_key,
        )
        for c in changes
    ]


def _state_fields(latest_kind: str | None, latest_at) -> dict[str, Any]:
    """The contact's current state is its latest change."""
    if latest_kind == CHURNED:
        return {"lifecycle": LifecycleStatus.CHURNED, "churned_at": latest_at}
    return {"lifecycle": LifecycleStatus.ACTIVE, "churned_at": None}


def _lifecycle(contact: Contact, event: OperationalEvent) -> None:
    """Rewrite the contact's history from the new event's moment on: the changes before it
    stand (they depend only on earlier events), the ones from it on are replayed with it. An
    event in order replays just itself; a back-dated one replays what came after it."""
    # One event of a contact at a time: two replays of the same history must not interleave.
    list(Contact.objects.select_for_update().filter(pk=contact.pk).values_list("pk"))
    moment = event.occurred_at
    before = (
        LifecycleChange.objects.filter(contact=contact, occurred_at__lt=moment)
        .order_by("-occurred_at", "-pk")
        .first()
    )
    changes = lifecycle_changes(
        _event_facts(OperationalEvent.objects.filter(contact=contact, occurred_at__gte=moment)),
        state=before.kind if before else None,
    )
    LifecycleChange.objects.filter(contact=contact, occurred_at__gte=moment).delete()
    LifecycleChange.objects.bulk_create(_change_rows(contact, changes))
    updates: dict[str, Any] = {}
    if before is not None:
        ended_at = changes[0].occurred_at if changes else None
        if before.ended_at != ended_at:
            before.ended_at = ended_at
            before.save(update_fields=["ended_at", "updated_at"])
    latest = changes[-1] if changes else before
    if latest is not None:
        updates = _state_fields(latest.kind, latest.occurred_at)
    if updates:
        Contact.objects.filter(pk=contact.pk).update(**updates, updated_at=timezone.now())


@transaction.atomic
def contacts_lifecycle_rebuild(*, project: Project) -> int:
    """Replay the whole history of every contact of the project that has events, for events
    written in bulk without `event_record` (the demo seed). Returns the changes written."""
    LifecycleChange.objects.filter(project=project).delete()
    events = (
        OperationalEvent.objects.filter(project=project, contact__isnull=False)
        .order_by("contact_id", "occurred_at", "pk")
        .values_list("contact_id", "pk", "event", "occurred_at", "revenue")
    )
    by_contact: dict[int, list] = {}
    for contact_id, *fact in events.iterator(chunk_size=5000):
        by_contact.setdefault(contact_id, []).append(fact)
    contacts = Contact.objects.filter(pk__in=by_contact).only("pk", "project_id")
    rows, states = [], []
    for contact in contacts:
        changes = lifecycle_changes(_facts(by_contact[contact.pk]))
        rows.extend(_change_rows(contact, changes))
        fields = _state_fields(changes[-1].kind, changes[-1].occurred_at)
        contact.lifecycle, contact.churned_at = fields["lifecycle"], fields["churned_at"]
        states.append(contact)
    LifecycleChange.objects.bulk_create(rows, batch_size=5000)
    Contact.objects.bulk_update(states, ["lifecycle", "churned_at"], batch_size=2000)
    return len(rows)


_REVENUE_TOTAL = Contact._meta.get_field("revenue_total")
# The largest running total the column holds (±999,999,999,999.99): beyond it SQLite stored a
# number no page could read back, and PostgreSQL refused every later revenue of the contact.
REVENUE_TOTAL_MAX = Decimal(10) ** (
    _REVENUE_TOTAL.max_digits - _REVENUE_TOTAL.decimal_places
) - Decimal(1).scaleb(-_REVENUE_TOTAL.decimal_places)


def _revenue_add(contact: Contact, revenue: Decimal) -> None:
    """Add the event's revenue to the contact's total in one conditional UPDATE, or refuse the
    event (a 400; its transaction rolls back) when the total would leave the column's range."""
    added = Contact.objects.filter(
        pk=contact.pk,
        revenue_total__lte=REVENUE_TOTAL_MAX - revenue,
        revenue_total__gte=-REVENUE_TOTAL_MAX - revenue,
    ).update(revenue_total=F("revenue_total") + revenue, updated_at=timezone.now())
    if not added:
        raise ApplicationError(
            "invalid",
            gettext(
                "The event was not stored: its revenue would take the contact's total beyond "
                "±%(limit)s."
            )
            % {"limit": f"{REVENUE_TOTAL_MAX:,}"},
            {
                "revenue": [
                    gettext("The contact's revenue total must stay within ±%(limit)s.")
                    % {"limit": f"{REVENUE_TOTAL_MAX:,}"}
                ]
            },
        )


def event_record(*, project: Project, data: EventIn) -> EventResult:
    """Store one event; the same `event_id` again returns the stored one and changes nothing."""
    if data.event_id:
        existing = OperationalEvent.objects.filter(project=project, event_id=data.event_id).first()
        if existing is not None:
            return EventResult(existing, created=False)
    try:
        with transaction.atomic():
            contact = None
            if data.user_id:
                contact = contact_resolve(project=project, visitor_id=None, user_id=data.user_id)
                if data.email and not contact.email:
                    contact.email = data.email
                    contact.save(update_fields=["email", "updated_at"])
            event = OperationalEvent.objects.create(
                project=project,
                contact=contact,
                event_id=data.event_id,
                event=data.event,
                occurred_at=data.occurred_at or timezone.now(),
                properties=data.properties,
                revenue=data.revenue,
            )
            invitation_id = None
            if contact is not None:
                if event.revenue:
                    _revenue_add(contact, event.revenue)
                _lifecycle(contact, event)

                invitation = invitation_schedule(project=project, contact=contact, event=event)
                invitation_id = invitation.pk if invitation else None
    except IntegrityError:
        # A concurrent request stored the same event_id first: that one stands.
        existing = OperationalEvent.objects.filter(project=project, event_id=data.event_id).first()
        if existing is None:
            raise
        return EventResult(existing, created=False)
    return EventResult(event, created=True, invitation_id=invitation_id)
