"""Reads for the widget side of `surveys`: which surveys a touchpoint can show, a contact's
throttle ledger, a display seen through one project's key.

They live apart from `surveys.ledger` (the writes) so the decide hot path's queries are in one
place and can be counted: each function here is exactly one query, whatever the history size.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from django.db import connection
from django.db.models import Count, Q

from surveys import throttle
from surveys.models import (
    Contact,
    Display,
    DisplayStatus,
    Project,
    Survey,
    SurveyChannel,
    SurveyStatus,
    Touchpoint,
)


def touchpoint_by_key(*, project: Project, key: str) -> Touchpoint | None:
    return Touchpoint.objects.filter(project=project, key=key).first()


def surveys_for_touchpoint(
    *, project: Project, touchpoint: Touchpoint, channel: str, now: datetime
) -> list[Survey]:
    """Active, published, in-schedule surveys attached to the touchpoint on this channel
    (one query; the version snapshot comes along because the winner's is sent back)."""
    surveys = (
        Survey.objects.filter(
            project=project,
            status=SurveyStatus.ACTIVE,
            touchpoints=touchpoint,
            current_version__isnull=False,
        )
        .filter(Q(starts_at__isnull=True) | Q(starts_at__lte=now))
        .filter(Q(ends_at__isnull=True) | Q(ends_at__gt=now))
        .select_related("current_version")
    )
    # `channels` is a JSON list; filtering it in Python keeps the query portable (SQLite).
    return [s for s in surveys if channel in (s.channels or [])]


def contact_ledger(*, contact: Contact, now: datetime) -> tuple[throttle.LedgerEntry, ...]:
    """Every display of the contact that still counts, as the throttle's plain entries.

    One query over the (contact, claimed_at) index, whatever the length of the history.
    Expired claims are left out, and so are widget claims past CLAIM_TTL that the sweeper has
    not reached yet; claims on other channels (e-mail) are settled by their sender and count
    until then."""
    rows = (
        Display.objects.filter(contact=contact)
        .exclude(status=DisplayStatus.EXPIRED)
        .values_list("survey_id", "status", "claimed_at", "dismissed_at", "channel")
    )
    return tuple(
        throttle.LedgerEntry(
            survey_id=survey_id,
            status=status,
            claimed_at=claimed_at,
            dismissed_at=dismissed_at,
            responded=status == DisplayStatus.RESPONDED,
        )
        for survey_id, status, claimed_at, dismissed_at, channel in rows
        if channel != SurveyChannel.WIDGET or throttle.is_claim_live(status, claimed_at, now)
    )


def finished_response_counts(*, surveys: Sequence[Survey]) -> dict[int, int]:
    """Finished responses per survey, only for surveys with a response cap (else no query)."""
    from feedback.models import Response

    capped = [s.pk for s in surveys if s.response_cap is not None]
    if not capped:
        return {}
    rows = (
        Response.objects.filter(survey_id__in=capped, finished=True)
        .values("survey_id")
        .annotate(n=Count("id"))
    )
    return {row["survey_id"]: row["n"] for row in rows}


def display_for_project(*, project: Project, display_id: UUID | str | Any) -> Display | None:
    """A display seen through one project's key: another project's display is not found."""
    try:
        display_id = display_id if isinstance(display_id, UUID) else UUID(str(display_id))
    except ValueError:
        return None
    return (
        Display.objects.select_related("survey", "version", "contact", "touchpoint")
        .filter(project=project, pk=display_id)
        .first()
    )


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
