"""A read-through cache in the web process's own memory, for the widget's hot paths.

Decide and ingest read the same few rows on every call — the project behind a public key, a
touchpoint's active surveys with their published versions. Reading them from memory instead
of the database removes most of a decide's queries and ORM work. The price is staleness: a
change made in the staff UI (a survey paused, an origin added) reaches every web process
within `WIDGET_PROJECT_CACHE_SECONDS` (30 s by default; 0 turns the cache off, as the tests
do). The throttle's per-contact state (the ledger) is never cached.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

from django.conf import settings

V = TypeVar("V")


class ProcessCache(Generic[V]):
    """Values by key for `WIDGET_PROJECT_CACHE_SECONDS`, bounded so a flood of distinct keys
    cannot grow it without end. A load that finds nothing (None) is not kept."""

    def __init__(self, max_entries: int = 10_000) -> None:
        self.max_entries = max_entries
        self._entries: dict[Hashable, tuple[float, V]] = {}
        self._lock = threading.Lock()

    def get(self, key: Hashable, load: Callable[[], V]) -> V:
        ttl = settings.WIDGET_PROJECT_CACHE_SECONDS
        now = time.monotonic()
        cached = self._entries.get(key)
        if cached is not None and now - cached[0] < ttl:
            return cached[1]
        value = load()
        if ttl > 0 and value is not None:  # "not found" is not kept: it may exist a moment later
            with self._lock:
                if len(self._entries) >= self.max_entries:
                    self._entries.clear()
                self._entries[key] = (now, value)
        return value

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
