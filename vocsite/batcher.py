"""Per-process batching for work a request hands off but need not do itself.

Some per-request side work costs far more one item at a time than in bulk: decide's Decision
rows (one INSERT, commit and seven index updates each) and the Celery message that starts a
finished response's processing (kombu builds and sends one message each). A `Batcher`
queues the items in process memory and a daemon thread hands everything gathered to
`flush_items` every `interval` seconds; a process that exits normally flushes the rest on the
way out. With an interval of 0 items are flushed one at a time, inline.

Only for work whose loss in a killed process is either harmless (analytics) or repaired
elsewhere (the sweeper re-enqueues unprocessed responses from the database).
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

from django.db import close_old_connections, connections

T = TypeVar("T")
log = logging.getLogger(__name__)


class Batcher(Generic[T]):
    _every: list[Batcher] = []

    def __init__(
        self,
        name: str,
        interval: Callable[[], float],
        flush_items: Callable[[Sequence[T]], None],
        batch_size: int = 2000,
    ) -> None:
        self.name = name
        self._interval = interval  # read on every call: tests change the setting
        self._flush_items = flush_items
        self._batch_size = batch_size
        self._queue: deque[T] = deque()
        self._stopped = False
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._flushing = threading.Lock()
        Batcher._every.append(self)
        # A forked child (a prefork worker) inherits the queue but not the thread: it starts
        # its own on its first item, and the parent's queued items stay the parent's.
        os.register_at_fork(after_in_child=self._forget_parent)

    def _forget_parent(self) -> None:
        self._queue = deque()
        self._thread = None
        self._lock = threading.Lock()
        self._flushing = threading.Lock()

    def add(self, item: T) -> None:
        """Queue one item (deque.append is atomic: no lock on the hot path), or with batching
        off hand it over at once."""
        if not self._interval():
            self._flush_items([item])
            return
        self._queue.append(item)
        if self._thread is None:
            self._start()

    def flush(self) -> int:
        """Hand over everything queued now; returns how many items. A failing batch is
        logged and dropped, never retried forever. One flush at a time: an exit-time flush
        waits for the thread's batch in flight instead of racing it."""
        handed = 0
        with self._flushing:
            while self._queue:
                batch = []
                while self._queue and len(batch) < self._batch_size:
                    batch.append(self._queue.popleft())
                try:
                    self._flush_items(batch)
                    handed += len(batch)
                except Exception:
                    log.exception("%s: could not flush %d items; dropped", self.name, len(batch))
        return handed

    def stop(self) -> None:
        """Drop what is queued and let the thread end (a throwaway batcher in a test)."""
        self._stopped = True
        with self._flushing:
            self._queue.clear()
        if self in Batcher._every:
            Batcher._every.remove(self)

    @classmethod
    def flush_all(cls) -> None:
        """Every batcher of this process (a Celery child leaving, which skips atexit)."""
        for batcher in list(cls._every):
            batcher.flush()

    def _start(self) -> None:
        with self._lock:
            if self._thread is not None:
                return
            self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
            self._thread.start()
            atexit.register(self._flush_at_exit)

    def _run(self) -> None:
        while not self._stopped:
            time.sleep(self._interval() or 1.0)
            try:
                if self._queue:
                    self.flush()
                close_old_connections()  # the thread's own connection obeys CONN_MAX_AGE too
            except Exception:  # keep the thread alive whatever happens to one round
                log.exception("%s: flusher round failed", self.name)

    def _flush_at_exit(self) -> None:
        try:
            self.flush()
        finally:
            connections.close_all()
