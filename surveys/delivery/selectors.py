"""Reads for the widget side of surveys: which surveys a touchpoint can show, a contact's
throttle ledger, a display seen through one project's key.

They live apart from `surveys.delivery.ledger` (the writes) so the decide hot path's queries are
in one place and can be counted: each function here is one query, whatever the history size."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from surveys.contacts.models import Contact
from surveys.delivery import sql, throttle
from surveys.delivery.models import Display, DisplayStatus
from surveys.design.models import Survey, SurveyChannel, SurveyStatus
from surveys.journey.models import Touchpoint
from surveys.tenancy.models import Project
from vocsite import caches
from vocsite.registry import Registry


@dataclass(frozen=True)
class TouchpointSurveys:
    """A touchpoint and the active, published surveys attached to it (any channel, any
    schedule): what decide reads on every call, so it is kept in process memory. A retired
    touchpoint, or one in a retired stage, offers no survey."""

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
    stage_retired = touchpoint.stage is not None and touchpoint.stage.retired_at is not None
    if touchpoint.retired_at is not None or stage_retired:
        return TouchpointSurveys(touchpoint=touchpoint, surveys=())
    surveys = Survey.objects.filter(
        project=project,
        status=SurveyStatus.ACTIVE,
        touchpoints=touchpoint,
        current_version__isnull=False,
    ).select_related("current_version")
    return TouchpointSurveys(touchpoint=touchpoint, surveys=tuple(surveys))


def contact_ledger(*, contact: Contact, now: datetime) -> tuple[throttle.LedgerEntry, ...]:
    """Every display of the contact that still counts, as the throttle's plain entries.

    One query whatever the length of the history (`sql.ledger_rows`) — or none, when the
    contact was read with its ledger (ledger._visitor_link; used once)."""
    raw = contact.__dict__.pop("_prefetched_ledger", None)
    if raw is None:
        raw = sql.ledger_rows(contact.pk)
    return ledger_entries(raw, now)


def ledger_entries(raw: Sequence[tuple], now: datetime) -> tuple[throttle.LedgerEntry, ...]:
    """The ledger rows (`sql.ledger_rows`) that still count at `now`, as the throttle's plain
    entries. Expired claims are left out, and so are widget claims past CLAIM_TTL that the
    sweeper has not reached yet; claims on other channels (e-mail) are settled by their sender
    and count until then."""
    return tuple(
        throttle.LedgerEntry(
            survey_id=survey_id,
            status=status,
            claimed_at=claimed_at,
            dismissed_at=dismissed_at,
            responded=status == DisplayStatus.RESPONDED,
        )
        for survey_id, status, claimed_at, dismissed_at, channel in raw
        if channel != SurveyChannel.WIDGET or throttle.is_claim_live(status, claimed_at, now)
    )


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
    # A display of an erased person is not found either: nothing more is stored about them.
    return sql.display_of_project(display_id, project.pk)
