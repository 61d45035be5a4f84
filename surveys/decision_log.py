"""Where decide's Decision rows go: written in batches, once a second, by each web process.

Every decide call appends one Decision (fatigue analytics: which rule held what back). One
INSERT per call was the largest single cost of a refused decide on PostgreSQL — a round
trip, a commit and seven index updates, for a row nobody reads for minutes. So the rows
are queued in process memory and a daemon thread writes whatever has gathered with one
multi-row INSERT every DECISION_FLUSH_SECONDS; a process that exits normally writes the rest
on the way out. The cost of that choice, accepted for analytics and for nothing else: a
process killed outright loses its last second of decision rows. Displays and responses —
what the rules and the metrics rest on — are never buffered.

With DECISION_FLUSH_SECONDS = 0 (the embedded SQLite mode and the tests) each row is written
inline, in the request's own transaction.
"""

from __future__ import annotations

import atexit
import logging
import threading
from collections import deque

from django.conf import settings
from django.db import IntegrityError, close_old_connections, connection, transaction

from surveys.models import Decision
from vocsite.row_insert import insert_row

log = logging.getLogger(__name__)
BATCH_SIZE = 2000

_queue: deque[Decision] = deque()
_flusher: threading.Thread | None = None
_flusher_lock = threading.Lock()


def record(decision: Decision) -> None:
    """Append one decision: queued for the next batch, or written now when batching is off."""
    if not settings.DECISION_FLUSH_SECONDS:
        insert_row(decision)
        return
    _queue.append(decision)  # deque.append is atomic: no lock on the hot path
    if _flusher is None:
        _start_flusher()


def flush() -> int:
    """Write every queued decision now (the flusher thread, process exit, tests); returns how
    many were written. Rows that fail to write are logged and dropped, never retried forever."""
    written = 0
    while _queue:
        batch = []
        while _queue and len(batch) < BATCH_SIZE:
            batch.append(_queue.popleft())
        try:
            Decision.objects.bulk_create(batch)
            written += len(batch)
        except IntegrityError:  # a survey or contact deleted since: write the rest one by one
            written += _write_one_by_one(batch)
        except Exception:
            log.exception("could not write %d decision rows; dropped", len(batch))
    return written


def _write_one_by_one(batch: list[Decision]) -> int:
    written = 0
    for decision in batch:
        try:
            with transaction.atomic():
                insert_row(decision)
            written += 1
        except IntegrityError:
            log.warning("decision row for a deleted survey or contact dropped")
    return written


def _start_flusher() -> None:
    global _flusher
    with _flusher_lock:
        if _flusher is not None:
            return
        _flusher = threading.Thread(target=_flush_forever, name="decision-flusher", daemon=True)
        _flusher.start()
        atexit.register(_flush_at_exit)


def _flush_forever() -> None:
    stop = threading.Event()
    while not stop.wait(settings.DECISION_FLUSH_SECONDS):
        if _queue:
            flush()
            close_old_connections()  # the thread's own connection obeys CONN_MAX_AGE too


def _flush_at_exit() -> None:
    try:
        flush()
    finally:
        connection.close()
