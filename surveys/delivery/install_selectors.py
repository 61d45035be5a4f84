"""The widget's install status for Settings: which allowed origins call, which refused ones
tried (surveys.delivery.origin_log writes what this reads)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from surveys.delivery.models import WidgetOrigin
from surveys.tenancy.models import Project
from surveys.tenancy.origins import normalise_origin


@dataclass(frozen=True)
class OriginStatus:
    origin: str
    allowed: bool  # in the project's allowed origins now
    last_served_at: datetime | None
    last_refused_at: datetime | None


def install_status(project: Project) -> tuple[list[OriginStatus], list[OriginStatus]]:
    """(the allowed origins, each with its last served call or None; the origins not allowed
    that were refused, latest first)."""
    seen = {row.origin: row for row in WidgetOrigin.objects.filter(project=project)}
    allowed = []
    for origin in project.allowed_origins or []:
        row = seen.get(normalise_origin(origin))
        allowed.append(
            OriginStatus(
                origin=origin,
                allowed=True,
                last_served_at=row.last_allowed_at if row else None,
                last_refused_at=row.last_refused_at if row else None,
            )
        )
    allowed_keys = {normalise_origin(o) for o in project.allowed_origins or []}
    refused = sorted(
        (
            OriginStatus(
                origin=row.origin,
                allowed=False,
                last_served_at=row.last_allowed_at,
                last_refused_at=row.last_refused_at,
            )
            for row in seen.values()
            if row.origin not in allowed_keys and row.last_refused_at is not None
        ),
        key=lambda status: status.last_refused_at,
        reverse=True,
    )
    return allowed, refused
