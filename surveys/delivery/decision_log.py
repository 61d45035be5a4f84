"""Where decide's Decision rows go: written in batches, five times a second, by each web process.

Every decide call appends one Decision (fatigue analytics: which rule held what back). One
INSERT per call was the largest single cost of a refused decide on PostgreSQL — a round
trip, a commit and seven index updates, for a row nobody reads for minutes. So the rows
go through a `vocsite.batcher.Batcher`: one COPY (PostgreSQL) every DECISION_FLUSH_SECONDS.

The batch is written by a thread of the web process, and the CPU it spends is taken from
the requests beside it: under the GIL a decide arriving during a flush waits for it. With a
one-second batch written by `bulk_create` (~10 ms of CPU for 250 rows) those waits were
decide's whole p99 tail at 300 req/s (every request slower than p99 fell within 50 ms after
a flush). Hence a short interval (small batches) and COPY (a quarter of the CPU per row).
The cost of that choice, accepted for analytics and for nothing else: a process killed
outright loses its last fifth of a second of decision rows. Displays and responses — what the rules
and the metrics rest on — are never buffered.

With DECISION_FLUSH_SECONDS = 0 (the embedded SQLite mode and the tests) each row is written
inline, in the request's own transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from contextlib import nullcontext

from django.conf import settings
from django.db import IntegrityError, connection, transaction

from surveys.delivery.models import Decision
from vocsite.batcher import Batcher
from vocsite.row_insert import copy_rows, insert_row

log = logging.getLogger(__name__)


def _write(decisions: Sequence[Decision]) -> None:
    """A decision about a survey or contact deleted meanwhile (a batched row is written up to
    DECISION_FLUSH_SECONDS after its decide) is dropped, unless it is written inside the
    caller's transaction: that failure is the caller's."""
    if len(decisions) == 1 and connection.in_atomic_block:
        insert_row(decisions[0])
    elif len(decisions) == 1:
        _insert_or_drop(decisions[0], savepoint=False)  # autocommit: nothing left to undo
    else:
        try:
            copy_rows(decisions)
        except IntegrityError:  # write them one by one
            for decision in decisions:
                _insert_or_drop(decision, savepoint=True)


def _insert_or_drop(decision: Decision, *, savepoint: bool) -> None:
    try:
        with transaction.atomic() if savepoint else nullcontext():
            insert_row(decision)
    except IntegrityError:
        log.warning("decision row for a deleted survey or contact dropped")


_batcher: Batcher[Decision] = Batcher(
    "decision-log", lambda: settings.DECISION_FLUSH_SECONDS, _write
)


def record(decision: Decision) -> None:
    """Append one decision: queued for the next batch, or written now when batching is off."""
    _batcher.add(decision)


def flush() -> int:
    """Write every queued decision now; returns how many."""
    return _batcher.flush()
