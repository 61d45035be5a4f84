"""Decide's memory of the visitors it has just refused, in each web process's own memory.

Most decides say "not now" to a visitor met a moment earlier: a returning visitor walks from
page to page, each page a touchpoint, and the ledger that refused them at one touchpoint
refuses them at the next (cooldowns, caps, sampling). Reading that visitor's contact and
ledger again was the one query of such a decide and the largest part of its cost
(README, "Operating"). So a refused decide leaves what it read here, and the next decide for
the same visitor within DECIDE_VISITOR_MEMORY_SECONDS is judged on it without reading the
contact or its ledger (`ledger.display_refusal_remembered`; a survey with a response cap still
has its finished responses counted, and the Decision row is still written).

Why this keeps the anti-nagging contract (DESIGN.md §5): memory is only ever used to say no.
When the rules would show a survey on the remembered ledger, that verdict is dropped and the
decide runs the usual way — a fresh read and a compare-and-set claim — so no survey is ever
shown on a ledger from memory, and two tabs racing still get one survey. The rules run at
each call's own time on the remembered rows, so the passing of time (a cooldown ending, an
unconfirmed claim expiring) is seen at once.

What it costs: a refusal may rest on a ledger up to DECIDE_VISITOR_MEMORY_SECONDS old.
- What another process adds to the ledger meanwhile (a claim, a dismissal, an answer, an
  opt-out) only adds reasons to say no: the answer stays "no", though its recorded reason may
  name a later rule than a fresh read would (fatigue analytics, for those seconds).
- What could turn the answer into "yes" reaches a process when its memory of the visitor
  lapses: attributes set through the contacts API, an identify in another process, a contact
  erased or deleted (its refusals' Decision rows are then dropped: surveys.delivery.decision_log).
- A refused call's Decision row names the contact remembered for the visitor: after an
  identify in another process, the anonymous contact the visitor was merged from.
A call that brings changes to save (attributes, language, the hourly `last_seen_at`) goes the
usual way, which saves them and remembers the result — changes as measured against the
remembered contact: a call that sends back a value the contacts API replaced in the last
seconds is not one, and does not overwrite the new value.

This process forgets a visitor, under the key of the call, when it claims for them, saves
changes to their contact, records their opt-out or decides without reading their ledger; and
the browser's anonymous key when a signed-in call identifies or relinks it. Other keys of the
same contact (another device, a call naming only the user id) keep what they remember until
it lapses — only ever to refuse.

Keyed by (project, visitor id, user id) exactly as the call names the visitor; bounded by
DECIDE_VISITOR_MEMORY_MAX visitors per process (enough for the target rate times the
seconds: 300 decides/s × 30 s = 9,000 visitors at most, spread over the processes); a full
memory drops what has expired, or else everything. Off with 0 seconds (the tests,
except those of this module).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, NamedTuple

from django.conf import settings

from surveys.contacts.models import Contact
from surveys.delivery import selectors
from vocsite.process_cache import ProcessCache


class Visitor(NamedTuple):
    """Who a widget call is about, as the call names them."""

    project_id: int
    visitor_id: str | None
    user_id: str | None


class Remembered(NamedTuple):
    """What the rules need of a contact, as a refused decide read it."""

    contact_id: int
    user_id: str | None
    opted_out: bool
    attributes: Mapping[str, Any]
    language: str
    last_seen_at: datetime | None
    ledger_rows: tuple[tuple, ...]


def _seconds() -> float:
    return settings.DECIDE_VISITOR_MEMORY_SECONDS


_memory: ProcessCache[tuple] = ProcessCache(
    max_entries=settings.DECIDE_VISITOR_MEMORY_MAX, seconds=_seconds
)


# Kept as plain tuples of numbers, strings, times and plain tuples (the attributes as their
# items), which the garbage collector stops tracking after a collection or two. Kept as
# objects (a dataclass, the attributes' dict), thousands of remembered visitors made every full
# collection of a web process walk them all: in one process deciding for 20,000 visitors, a
# full collection every ~2 s of up to 31 ms — a stall of every thread of the process — against
# 5 ms without the memory.
def recall(visitor: Visitor) -> Remembered | None:
    """What a refused decide for this visitor left in this process, if it is recent enough."""
    kept = _memory.recall(tuple(visitor))
    if kept is None:
        return None
    contact_id, user_id, opted_out, attribute_items, language, last_seen_at, rows = kept
    return Remembered(
        contact_id, user_id, opted_out, dict(attribute_items), language, last_seen_at, rows
    )


# The most one remembered visitor may hold (a contact with more is decided the usual way), so
# that a process's memory stays within DECIDE_VISITOR_MEMORY_MAX × ~6 KB whatever the callers
# send (measured: 6.1 KB at these limits; ~1.4 KB for a visitor with a plan attribute and a few
# displays).
MAX_LEDGER_ROWS = 12
MAX_ATTRIBUTES = 20
MAX_ATTRIBUTE_CHARACTERS = 1_000


def note(visitor: Visitor, *, shown: bool, contact: Contact | None) -> None:
    """After a decide the usual way: remember the contact it refused on, with the ledger it
    read; forget the visitor when it claimed a survey (their ledger just changed), when the
    decide did not read the ledger (an identified visitor at a touchpoint without surveys) and
    when the contact is too large to keep."""
    rows = selectors.ledger_rows_read(contact) if contact is not None and not shown else None
    if rows is None or not _small_enough(contact, rows):
        forget(visitor)
        return
    _memory.keep(
        tuple(visitor),
        (
            contact.pk,
            contact.user_id,
            contact.opted_out_at is not None,
            tuple(contact.attributes.items()),
            contact.language,
            contact.last_seen_at,
            tuple(tuple(row) for row in rows),
        ),
    )


def _small_enough(contact: Contact, rows: list[tuple]) -> bool:
    if len(rows) > MAX_LEDGER_ROWS or len(contact.attributes) > MAX_ATTRIBUTES:
        return False
    size = sum(len(str(key)) + len(str(value)) for key, value in contact.attributes.items())
    return size <= MAX_ATTRIBUTE_CHARACTERS


def forget(visitor: Visitor) -> None:
    _memory.forget(tuple(visitor))


def clear() -> None:
    _memory.clear()
