"""surveys.tenancy.selectors."""

from __future__ import annotations

from django.db import connection
from django.db.models import Q

from surveys.tenancy.models import Project


def origin_allowed_by_any_project(*, origin: str) -> bool:
    """Whether some project lists this origin (a CORS preflight carries no key).

    One indexed JSON containment query on PostgreSQL; SQLite (the embedded default, a handful
    of projects) has no JSON containment, so the lists are scanned there. Not cached: browsers
    cache the preflight for 10 minutes, and a stale "no" would break a freshly added site."""
    if connection.vendor == "postgresql":
        return Project.objects.filter(
            Q(allowed_origins__contains=[origin]) | Q(allowed_origins__contains=[origin + "/"])
        ).exists()
    return any(
        origin == allowed.strip().rstrip("/").lower()
        for origins in Project.objects.values_list("allowed_origins", flat=True)
        for allowed in origins or []
        if isinstance(allowed, str)
    )
