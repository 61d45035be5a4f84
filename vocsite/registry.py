"""Registries: how a higher app plugs work into a lower one without the lower one importing it.

The app order is `vocsite` ← `surveys` ← `feedback` ← `metrics` (DESIGN.md §3). Where a lower
app needs something done by a higher one — processing steps for a finished answer, what to
re-point, export and erase for a contact, what to do when a project is created — the lower
app declares a `Registry` naming every entry it expects, in the order they run; the higher
app registers each entry in its `AppConfig.ready()`; and `registries_check()` (called once
every app is ready) refuses to start when a declared entry is missing, so a step cannot be
lost silently. Every registry in the code base is listed by `registries()`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Generic, TypeVar

from django.core.exceptions import ImproperlyConfigured

T = TypeVar("T")

_registries: list[Registry] = []


class Registry(Generic[T]):
    """Named entries, each declared up front by its key; iterated in the declared order."""

    def __init__(self, name: str, *, expected: Sequence[str]) -> None:
        self.name = name
        self.expected = tuple(expected)
        self._entries: dict[str, T] = {}
        _registries.append(self)

    def register(self, key: str, entry: T) -> None:
        if key not in self.expected:
            raise ImproperlyConfigured(f"{self.name}: {key!r} is not a declared entry.")
        if key in self._entries and self._entries[key] != entry:
            raise ImproperlyConfigured(f"{self.name}: {key!r} is registered twice.")
        self._entries[key] = entry

    def items(self) -> list[tuple[str, T]]:
        return [(key, self._entries[key]) for key in self.expected if key in self._entries]

    def __iter__(self) -> Iterator[T]:
        return iter([entry for _, entry in self.items()])

    def __getitem__(self, key: str) -> T:
        return self._entries[key]

    def missing(self) -> list[str]:
        return [key for key in self.expected if key not in self._entries]

    @contextmanager
    def overridden(self, entries: Mapping[str, T]) -> Iterator[None]:
        """Run with exactly these entries instead (declared keys only): how a test puts its
        own step in the pipeline, the way `override_settings` swaps a setting."""
        unknown = set(entries) - set(self.expected)
        if unknown:
            raise ImproperlyConfigured(f"{self.name}: {sorted(unknown)} are not declared entries.")
        saved, self._entries = self._entries, dict(entries)
        try:
            yield
        finally:
            self._entries = saved


def registries() -> list[Registry]:
    return list(_registries)


def registries_check(checked: Sequence[Registry] | None = None) -> None:
    """Start-up check: every declared entry of every registry (or of `checked`) is registered."""
    gaps = [f"{r.name}: {', '.join(r.missing())}" for r in (checked or _registries) if r.missing()]
    if gaps:
        raise ImproperlyConfigured("Missing registrations — " + "; ".join(gaps))
