"""Operational events from the company's servers: stored once (idempotent by `event_id`), they
move a contact's lifecycle (a churn event marks it churned, later activity makes it active
again), add revenue, and — when the event's name is a touchpoint with an e-mail survey — invite
the person to that survey by e-mail (the throttle ledger decides at sending time).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from feedback.models import OperationalEvent
from surveys.ledger import contact_resolve
from surveys.models import Contact, LifecycleStatus, Project

# Events that mean the customer left; any other event of a churned contact that shows
# activity (one of REACTIVATION_EVENTS, or any event with positive revenue) brings it back.
CHURN_EVENTS = frozenset({"subscription_cancelled", "account_closed", "churned"})
REACTIVATION_EVENTS = frozenset({"subscription_started", "subscription_renewed", "reactivated"})


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


def _lifecycle(contact: Contact, event: OperationalEvent) -> None:
    updates: dict[str, Any] = {}
    if event.event in CHURN_EVENTS:
        if contact.lifecycle != LifecycleStatus.CHURNED:
            updates = {"lifecycle": LifecycleStatus.CHURNED, "churned_at": event.occurred_at}
    elif (
        contact.lifecycle == LifecycleStatus.CHURNED
        and (event.event in REACTIVATION_EVENTS or (event.revenue or 0) > 0)
        and (contact.churned_at is None or event.occurred_at > contact.churned_at)
    ):
        updates = {"lifecycle": LifecycleStatus.ACTIVE, "churned_at": None}
    if event.revenue:
        updates["revenue_total"] = F("revenue_total") + event.revenue
    if updates:
        Contact.objects.filter(pk=contact.pk).update(**updates, updated_at=timezone.now())


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
                _lifecycle(contact, event)
                from surveys.email_surveys import invitation_schedule

                invitation = invitation_schedule(project=project, contact=contact, event=event)
                invitation_id = invitation.pk if invitation else None
    except IntegrityError:
        # A concurrent request stored the same event_id first: that one stands.
        existing = OperationalEvent.objects.filter(project=project, event_id=data.event_id).first()
        if existing is None:
            raise
        return EventResult(existing, created=False)
    return EventResult(event, created=True, invitation_id=invitation_id)
