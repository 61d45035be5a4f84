"""Web origins as a project allows them: one comparison for the widget's CORS check, the
install status and Settings (case and a trailing slash do not matter)."""

from __future__ import annotations


def normalise_origin(origin: str) -> str:
    return origin.strip().rstrip("/").lower()


def origin_allowed(origin: str, allowed: list[str] | None) -> bool:
    return normalise_origin(origin) in {normalise_origin(o) for o in allowed or []}
