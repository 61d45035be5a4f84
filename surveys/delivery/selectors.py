"""Reads for the widget side of surveys: which surveys a touchpoint can show, a contact's
throttle ledger, a display seen through one project's key.

They live apart from `surveys.delivery.ledger` (the writes) so the decide hot path's queries are
in one place and can be counted: each function here is one query, whatever the history size."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from django.db import connection

from surveys.contacts.models import Contact
from surveys.delivery import throttle
from surveys.delivery.models import Display, DisplayStatus
from surveys.design.models import Survey, SurveyChannel, SurveyStatus
from surveys.journey.models import Touchpoint
from surveys.tenancy.models import Project
from vocsite import caches
from vocsite.registry import Registry
from vocsite.row_select import select_rows


@dataclass(frozen=True)
class TouchpointSurveys:
    """A touchpoint and the active, published surveys attached to it (any channel, any
    schedule): what decide reads on every call, so it is kept in process memory. A retired
    touchpoint offers no survey."""

    touchpoint: Touchpoint
    surveys: tuple[Survey, ...]

    def live(self, *, channel: str, now: datetime) -> list[Survey]:
        """Those that run on this channel now (schedule and channel filtered here, per call,
        so a cached entry never outlives a survey's start or end)."""
        return [
            s
            for s in self.surveys
            if channel in (s.channels or [])
            and (s.starts_at is None or s.starts_at <= now)
            and (s.ends_at is None or s.ends_at > now)
        ]


def touchpoint_surveys(*, project: Project, key: str) -> TouchpointSurveys | None:
    """The touchpoint named `key` with its surveys, or None; from memory
    (vocsite.caches.TOUCHPOINT_SURVEYS), else two queries."""
    return caches.TOUCHPOINT_SURVEYS.get(
        (project.pk, key), lambda: _touchpoint_surveys_load(project=project, key=key)
    )


def _touchpoint_surveys_load(*, project: Project, key: str) -> TouchpointSurveys | None:
    touchpoint = Touchpoint.objects.filter(project=project, key=key).select_related("stage").first()
    if touchpoint is None:
        return None
    if touchpoint.retired_at is not None:
        return TouchpointSurveys(touchpoint=touchpoint, surveys=())
    surveys = Survey.objects.filter(
        project=project,
        status=SurveyStatus.ACTIVE,
        touchpoints=touchpoint,
        current_version__isnull=False,
    ).select_related("current_version")
    return TouchpointSurveys(touchpoint=touchpoint, surveys=tuple(surveys))


# The ledger's columns and join, shared with ledger._visitor_link (which reads them with the
# contact in one query on decide's hot path). The first column is never null on a display.
LEDGER_COLUMNS = "d.survey_id, d.status, d.claimed_at, d.dismissed_at, d.channel"


LEDGER_JOIN = "d.contact_id = c.id AND d.status <> %s"


def contact_ledger(*, contact: Contact, now: datetime) -> tuple[throttle.LedgerEntry, ...]:
    """Every display of the contact that still counts, as the throttle's plain entries.

    One query over the (contact, claimed_at) index, whatever the length of the history — or
    none, when the contact was read with its ledger (ledger._visitor_link; used once)."""
    raw = contact.__dict__.pop("_prefetched_ledger", None)
    if raw is None:
        # SQL rather than the ORM: this runs on every decide (see ledger._visitor_link).
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {LEDGER_COLUMNS} FROM surveys_display d"  # noqa: S608 — constants
                " WHERE d.contact_id = %s AND d.status <> %s",
                [contact.pk, DisplayStatus.EXPIRED.value],
            )
            raw = cursor.fetchall()
    return ledger_entries(raw, now)


def ledger_entries(raw: Sequence[tuple], now: datetime) -> tuple[throttle.LedgerEntry, ...]:
    """The ledger rows that still count at `now`, as the throttle's plain entries. Expired
    claims are left out, and so are widget claims past CLAIM_TTL that the sweeper has not
    reached yet; claims on other channels (e-mail) are settled by their sender and count until
    then."""
    rows = [
        (survey_id, status, utc(claimed_at), utc(dismissed_at), channel)
        for survey_id, status, claimed_at, dismissed_at, channel in raw
    ]
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


def utc(value: datetime | None) -> datetime | None:
    """SQLite hands raw SQL its timestamps naive (they are stored in UTC); PostgreSQL aware."""
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


# How many finished answers each survey has, for surveys with a response cap: answers are the
# feedback app's, which registers its count here.
FINISHED_RESPONSE_COUNTS: Registry[Callable[[Sequence[int]], dict[int, int]]] = Registry(
    "finished answers per capped survey", expected=("responses",)
)


def finished_response_counts(*, surveys: Sequence[Survey]) -> dict[int, int]:
    """Finished responses per survey, only for surveys with a response cap (else no query)."""
    capped = [s.pk for s in surveys if s.response_cap is not None]
    if not capped:
        return {}
    return FINISHED_RESPONSE_COUNTS["responses"](capped)


def display_for_project(*, project: Project, display_id: UUID | str | Any) -> Display | None:
    """A display seen through one project's key: another project's display is not found."""
    try:
        display_id = display_id if isinstance(display_id, UUID) else UUID(str(display_id))
    except ValueError:
        return None
    # No joins: planning a five-table join cost PostgreSQL more than running it (3 ms), and
    # the callers need only the display's own columns (questions come from process memory).
    # Every answer and every shown/dismissed call runs it (vocsite.row_select says why not
    # through the ORM).
    # A display of an erased person is not found either: nothing more is stored about them.
    pk = Display._meta.pk.get_db_prep_value(display_id, connection)
    rows = select_rows(
        Display,
        "id = %s AND project_id = %s AND NOT EXISTS (SELECT 1 FROM surveys_contact c"
        " WHERE c.id = surveys_display.contact_id AND c.erased_at IS NOT NULL)",
        [pk, project.pk],
    )
    return rows[0] if rows else None
