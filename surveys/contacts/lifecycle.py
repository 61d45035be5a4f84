"""A customer's lifecycle as a pure rule over their operational events (DESIGN.md §7).

A customer is an identified contact whose lifecycle began with an operational event: the first
event starts it. A churn event ends an active spell; a reactivation event, or any event with
positive revenue, after a churn starts a new one. Events are taken in the order they happened
(`occurred_at`, then the order they arrived), so an event sent late lands where it belongs.

No Django here: `surveys.delivery.events` feeds it a contact's events and stores what it returns as
`surveys.models.LifecycleChange` rows, and the migration that built the first history uses it
on the events stored before.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from itertools import pairwise

# Events that mean the customer left; any other event of a churned customer that shows
# activity (one of REACTIVATION_EVENTS, or any event with positive revenue) brings it back.
CHURN_EVENTS = frozenset({"subscription_cancelled", "account_closed", "churned"})
REACTIVATION_EVENTS = frozenset({"subscription_started", "subscription_renewed", "reactivated"})

STARTED, CHURNED, REACTIVATED = "started", "churned", "reactivated"
# Kinds that begin an active spell; every active spell ends with a churn (or is current).
ACTIVE_KINDS = (STARTED, REACTIVATED)


@dataclass(frozen=True)
class EventFact:
    """What the rule needs of one event: `key` is its id, for ordering ties and the link back."""

    key: int
    name: str
    occurred_at: datetime
    revenue: Decimal | None = None


@dataclass(frozen=True)
class Change:
    kind: str  # STARTED, CHURNED or REACTIVATED
    occurred_at: datetime
    event_key: int
    # When the next change happened (None: this is the customer's current state).
    ended_at: datetime | None = None


def lifecycle_changes(events: Iterable[EventFact], state: str | None = None) -> list[Change]:
    """The changes a run of events makes, given the customer's state before the first of them
    (None: not a customer yet; else the kind of their latest change). Events may come in any
    order; they are taken by (`occurred_at`, `key`). Each change's `ended_at` is the next
    change's time; the last one's is None."""
    changes: list[Change] = []
    for event in sorted(events, key=lambda e: (e.occurred_at, e.key)):
        if state is None:
            changes.append(Change(STARTED, event.occurred_at, event.key))
            state = STARTED
        if event.name in CHURN_EVENTS:
            if state != CHURNED:
                changes.append(Change(CHURNED, event.occurred_at, event.key))
                state = CHURNED
        elif state == CHURNED and (event.name in REACTIVATION_EVENTS or (event.revenue or 0) > 0):
            changes.append(Change(REACTIVATED, event.occurred_at, event.key))
            state = REACTIVATED
    return [
        Change(c.kind, c.occurred_at, c.event_key, nxt.occurred_at) for c, nxt in pairwise(changes)
    ] + changes[-1:]
