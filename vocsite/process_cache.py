"""A read-through cache in the web process's own memory, for the widget's hot paths.

This module is the mechanism; `vocsite.caches` declares every cache of configuration built on
it, with what each holds, for how long, and which services forget it.

An entry is kept for `seconds()` (`WIDGET_PROJECT_CACHE_SECONDS` unless given; 0 turns the
cache off). A service that changes what a cache holds forgets the entries it made stale
(`forget`, `forget_where`); a read that raced that forgetting does not keep its value, so the
next read after the change loads the new rows.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

from django.conf import settings

V = TypeVar("V")


def _widget_cache_seconds() -> float:
    return settings.WIDGET_PROJECT_CACHE_SECONDS


class ProcessCache(Generic[V]):
    """Values by key for `seconds()` (`WIDGET_PROJECT_CACHE_SECONDS` unless given; read on
    every call, so a setting of 0 turns the cache off at once), bounded so a flood of distinct
    keys cannot grow it without end: a full cache drops what has expired, or else everything.
    None is never kept. Ages are read from `clock` (seconds that only go forward)."""

    def __init__(
        self,
        max_entries: int = 10_000,
        seconds: Callable[[], float] = _widget_cache_seconds,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_entries = max_entries
        self._seconds = seconds
        self._clock = clock
        self._entries: dict[Hashable, tuple[float, V]] = {}
        self._lock = threading.Lock()
        # Counts the forgettings: a value loaded while one happened may predate the change.
        self._forgotten = 0

    def get(self, key: Hashable, load: Callable[[], V]) -> V:
        """The value kept for `key`, else `load()`'s, kept ("not found" is not: it may exist a
        moment later) unless something was forgotten while it loaded (it may be the old
        value of what was forgotten)."""
        value = self.recall(key)
        if value is None:
            forgotten = self._forgotten
            value = load()
            if forgotten == self._forgotten:
                self.keep(key, value)
        return value

    def recall(self, key: Hashable) -> V | None:
        """The value kept for `key` if it is younger than `seconds()`, else None."""
        cached = self._entries.get(key)
        if cached is not None and self._clock() - cached[0] < self._seconds():
            return cached[1]
        return None

    def keep(self, key: Hashable, value: V | None) -> None:
        """Keep `value` for `key` from now on (nothing when the cache is off or value is None)."""
        seconds = self._seconds()
        if value is None or seconds <= 0:
            return
        now = self._clock()
        with self._lock:
            if len(self._entries) >= self.max_entries:
                self._entries = {
                    k: kept for k, kept in self._entries.items() if now - kept[0] < seconds
                }
                if len(self._entries) >= self.max_entries:
                    self._entries = {}
            self._entries[key] = (now, value)

    def __len__(self) -> int:
        """How many values are kept, expired or not."""
        return len(self._entries)

    def forget(self, key: Hashable) -> None:
        with self._lock:
            self._forgotten += 1
            self._entries.pop(key, None)

    def forget_where(self, stale: Callable[[Hashable, V], bool]) -> None:
        """Forget every entry for which `stale(key, value)` is true (a scan: for the rare
        change of configuration, not for the hot path)."""
        with self._lock:
            self._forgotten += 1
            self._entries = {
                key: kept for key, kept in self._entries.items() if not stale(key, kept[1])
            }

    def clear(self) -> None:
        with self._lock:
            self._forgotten += 1
            self._entries.clear()
