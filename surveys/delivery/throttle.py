"""The anti-nagging rule table of DESIGN.md §5 as plain functions over plain data.

No Django here: `surveys.delivery.ledger` loads the contact's ledger and the candidate surveys, calls
`decide`, and writes the claim. Keeping the rules pure lets every rule be tested alone, and
keeps the order of the table (which reason a refusal reports) in one place.

Counting displays: a display counts as "shown to the contact" for cooldowns, the frequency cap
and display limits when it is a live claim, shown, responded or dismissed. Expired claims are
not passed in at all (the caller filters them), so a claim the widget never confirmed stops
counting after `CLAIM_TTL`.

Cooldowns: a survey's own cooldown is its `recontact_days`, or the project's when unset. A
survey may wait longer than the project floor, never shorter — so without
`bypass_global_cooldown` the survey cooldown is max(survey, project). With the bypass (for
transactional surveys such as post-ticket CSAT) only the survey's own value applies (0 when
unset) and the global cooldown rule is skipped; the frequency cap still applies.

Recurring surveys: with `recurrence_days` N a survey asks each contact again, round after
round (a relationship NPS every 90 days). A round is the contact's displays of the survey with
less than N days between one and the next; a new round starts once the newest display is N
days old. "Already responded" and the display limits look at the current round only, so
`once` means once per round and `until_responded` until an answer in this round. Every other
rule — snooze, both cooldowns, the frequency cap — still looks at the whole ledger: a
recurring survey never asks sooner than a one-off one would.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from surveys.design.targeting import targeting_matches

CLAIM_TTL = timedelta(minutes=10)
COUNTED_STATUSES = frozenset({"claimed", "shown", "responded", "dismissed"})

REASONS = (
    "touchpoint_retired",  # decided before the table: the touchpoint offers nothing any more
    "stage_retired",  # decided before the table: the touchpoint's stage offers nothing any more
    "no_survey",
    "opted_out",
    "targeting",
    "already_responded",
    "display_limit",
    "snoozed",
    "survey_cooldown",
    "global_cooldown",
    "frequency_cap",
    "response_cap",
    "sampled_out",
)


@dataclass(frozen=True)
class ProjectRules:
    recontact_days: int
    frequency_cap: int
    frequency_window_days: int


@dataclass(frozen=True)
class SurveyRules:
    survey_id: int
    priority: int
    created_at: datetime
    display_option: str  # "once" | "until_responded" | "limited" | "always"
    display_limit: int | None
    recontact_days: int | None
    bypass_global_cooldown: bool
    snooze_days_after_dismiss: int
    response_cap: int | None
    finished_responses: int
    sample_percent: Decimal | float
    targeting: Mapping[str, Any]
    recurrence_days: int | None = None  # None: ask once (per the display option)


@dataclass(frozen=True)
class LedgerEntry:
    """One display of this contact (any survey, any channel); expired claims are left out."""

    survey_id: int
    status: str  # claimed | shown | responded | dismissed
    claimed_at: datetime
    dismissed_at: datetime | None
    responded: bool  # the contact finished a response to it


@dataclass(frozen=True)
class ContactState:
    contact_key: str
    opted_out: bool
    attributes: Mapping[str, Any]
    language: str | None
    url: str | None
    ledger: Sequence[LedgerEntry]


@dataclass(frozen=True)
class Verdict:
    show: bool
    reason: str  # "shown" when show is True
    survey_id: int | None


# A retired touchpoint, or a touchpoint of a retired stage (surveys.journey.services), offers
# no survey, whoever asks.
TOUCHPOINT_RETIRED = Verdict(show=False, reason="touchpoint_retired", survey_id=None)
STAGE_RETIRED = Verdict(show=False, reason="stage_retired", survey_id=None)


def retired_verdict(*, touchpoint_retired: bool, stage_retired: bool) -> Verdict | None:
    """The refusal of a touchpoint that offers nothing any more, or None when it is live; the
    touchpoint's own retirement is named first (restoring the stage would not bring it back)."""
    if touchpoint_retired:
        return TOUCHPOINT_RETIRED
    if stage_retired:
        return STAGE_RETIRED
    return None


def is_claim_live(status: str, claimed_at: datetime, now: datetime) -> bool:
    """A claim counts until it is confirmed shown, or until CLAIM_TTL has passed."""
    return status != "claimed" or now - claimed_at < CLAIM_TTL


def sample_bucket(contact_key: str, survey_id: int) -> float:
    """A number in [0, 100) fixed for a (contact, survey) pair: sampling is sticky."""
    digest = hashlib.sha256(f"{contact_key}:{survey_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 * 100


# ---------------------------------------------------------------- the rules


def _counted(ledger: Sequence[LedgerEntry]) -> list[LedgerEntry]:
    return [entry for entry in ledger if entry.status in COUNTED_STATUSES]


def current_round(
    mine: Sequence[LedgerEntry], recurrence_days: int | None, now: datetime
) -> list[LedgerEntry]:
    """The displays of one survey that count for its "already responded" and display limits:
    all of them, or for a recurring survey those of the contact's current round (newest first,
    back to the first gap of `recurrence_days` or more; none once the newest is that old)."""
    if recurrence_days is None:
        return list(mine)
    gap = timedelta(days=recurrence_days)
    round_entries: list[LedgerEntry] = []
    later = now
    for entry in sorted(mine, key=lambda e: e.claimed_at, reverse=True):
        if later - entry.claimed_at >= gap:
            break
        round_entries.append(entry)
        later = entry.claimed_at
    return round_entries


def _refusal(
    survey: SurveyRules, project: ProjectRules, contact: ContactState, now: datetime
) -> str | None:
    """The first rule of §5 (after no_survey) this survey fails for this contact, or None."""
    if contact.opted_out:
        return "opted_out"
    if not targeting_matches(survey.targeting, contact):
        return "targeting"
    mine = [entry for entry in _counted(contact.ledger) if entry.survey_id == survey.survey_id]
    this_round = current_round(mine, survey.recurrence_days, now)
    if survey.display_option in ("once", "until_responded", "limited") and any(
        e.responded for e in this_round
    ):
        return "already_responded"
    if survey.display_option == "once" and this_round:
        return "display_limit"
    if survey.display_option == "limited" and len(this_round) >= (survey.display_limit or 0):
        return "display_limit"
    snooze = timedelta(days=survey.snooze_days_after_dismiss)
    if any(e.dismissed_at is not None and now - e.dismissed_at < snooze for e in mine):
        return "snoozed"
    own_days = survey.recontact_days
    if survey.bypass_global_cooldown:
        survey_days = own_days or 0
    else:
        survey_days = max(
            own_days if own_days is not None else project.recontact_days, project.recontact_days
        )
    if any(now - e.claimed_at < timedelta(days=survey_days) for e in mine):
        return "survey_cooldown"
    counted = _counted(contact.ledger)
    if not survey.bypass_global_cooldown and any(
        now - e.claimed_at < timedelta(days=project.recontact_days) for e in counted
    ):
        return "global_cooldown"
    window = timedelta(days=project.frequency_window_days)
    if sum(1 for e in counted if now - e.claimed_at < window) >= project.frequency_cap:
        return "frequency_cap"
    if survey.response_cap is not None and survey.finished_responses >= survey.response_cap:
        return "response_cap"
    if sample_bucket(contact.contact_key, survey.survey_id) >= float(survey.sample_percent):
        return "sampled_out"
    return None


def preference(*, priority: int, created_at: datetime, survey_id: int) -> tuple:
    """Which survey wins when several are eligible at a touchpoint, as a sort key (smallest
    first): the highest priority, then the oldest survey, then the lowest id. Decide on every
    channel and the e-mail invitation's choice of survey both sort by it."""
    return (-priority, created_at, survey_id)


def _preference(survey: SurveyRules) -> tuple:
    return preference(
        priority=survey.priority, created_at=survey.created_at, survey_id=survey.survey_id
    )


def decide(
    *, now: datetime, project: ProjectRules, surveys: Sequence[SurveyRules], contact: ContactState
) -> Verdict:
    """Which survey, if any, to show. `surveys` are the active, in-schedule surveys attached to
    the touchpoint on this channel. When none passes, the reason is the best candidate's."""
    if not surveys:
        return Verdict(show=False, reason="no_survey", survey_id=None)
    first_refusal: Verdict | None = None
    for survey in sorted(surveys, key=_preference):
        reason = _refusal(survey, project, contact, now)
        if reason is None:
            return Verdict(show=True, reason="shown", survey_id=survey.survey_id)
        if first_refusal is None:
            first_refusal = Verdict(show=False, reason=reason, survey_id=survey.survey_id)
    return first_refusal
