"""The widget's install status (surveys.delivery.models.WidgetOrigin): each widget call notes
its origin, served or refused, and a web process writes what it noted every
WIDGET_ORIGIN_FLUSH_SECONDS in one upsert (a `vocsite.batcher.Batcher`), so a call costs a
queue append. A process killed outright loses its last interval of notes — a "last seen"
that is a few seconds old. With the interval at 0 (the embedded SQLite mode and the tests)
each call writes its note inline.

Refused origins come from a header anyone can set: a project keeps at most
REFUSED_ORIGINS_KEPT of them, the ones first seen; calls from origins already kept still
update their time."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from django.conf import settings
from django.db.models import Count

from surveys.delivery.models import WidgetOrigin
from surveys.delivery.sql import OriginSeen, widget_origins_seen
from surveys.tenancy.origins import normalise_origin
from vocsite.batcher import Batcher

REFUSED_ORIGINS_KEPT = 20
ORIGIN_MAX_LENGTH = WidgetOrigin._meta.get_field("origin").max_length

# (project id, normalised origin, served?, when)
Note = tuple[int, str, bool, datetime]


def _write(notes: Sequence[Note]) -> None:
    seen: OriginSeen = {}
    for project, origin, allowed, at in notes:
        last_allowed, last_refused = seen.get((project, origin), (None, None))
        if allowed:
            last_allowed = max(at, last_allowed) if last_allowed else at
        else:
            last_refused = max(at, last_refused) if last_refused else at
        seen[(project, origin)] = (last_allowed, last_refused)
    widget_origins_seen(_within_caps(seen))


def _within_caps(seen: OriginSeen) -> OriginSeen:
    """Drop refused-only notes of origins a project does not keep yet once it keeps
    REFUSED_ORIGINS_KEPT refused ones (one read, only when a batch has refused notes)."""
    refused_only = {key for key, (allowed, _refused) in seen.items() if allowed is None}
    if not refused_only:
        return seen
    projects = {project for project, _origin in refused_only}
    known = set(
        WidgetOrigin.objects.filter(project_id__in=projects).values_list("project_id", "origin")
    )
    kept = dict(
        WidgetOrigin.objects.filter(project_id__in=projects, last_allowed_at__isnull=True)
        .values("project_id")
        .annotate(n=Count("pk"))
        .values_list("project_id", "n")
    )
    out: OriginSeen = {}
    for key, value in sorted(seen.items()):
        if key in refused_only and key not in known:
            if kept.get(key[0], 0) >= REFUSED_ORIGINS_KEPT:
                continue
            kept[key[0]] = kept.get(key[0], 0) + 1
        out[key] = value
    return out


_batcher: Batcher[Note] = Batcher(
    "widget-origins", lambda: settings.WIDGET_ORIGIN_FLUSH_SECONDS, _write
)


def note(*, project_id: int, origin: str, allowed: bool, at: datetime) -> None:
    """Note one widget call's origin (ignored when longer than an origin can be)."""
    origin = normalise_origin(origin)
    if origin and len(origin) <= ORIGIN_MAX_LENGTH:
        _batcher.add((project_id, origin, allowed, at))


def flush() -> int:
    """Write every queued note now; returns how many."""
    return _batcher.flush()
