"""The throttle ledger on the database side: who the contact is, whether to show a survey now,
and the display rows that record what was shown (DESIGN.md §5).

`display_claim` is the decide call: it loads the contact's whole ledger in one query, asks
the pure `surveys.delivery.throttle.decide`, records a Decision and — when a survey is shown — claims
the display with a compare-and-set on the contact's row. Two tabs or devices racing for the
same contact serialise on that row, so a cooldown can never be claimed twice. The query count
is constant however long the contact's history grows.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext

from surveys.contacts.attributes import clean_attributes
from surveys.contacts.models import Contact, VisitorId
from surveys.contacts.personal_data import personal_data_entries
from surveys.delivery import decision_log, selectors, sql, throttle
from surveys.delivery.models import Display, DisplayStatus
from surveys.design.models import Survey, SurveyChannel
from surveys.design.payload import payload_from_snapshot, resolve_language
from surveys.design.targeting import primary_language
from surveys.tenancy.models import Project
from vocsite.errors import ApplicationError
from vocsite.sql import insert_row, update_row

# ---------------------------------------------------------------- contacts


def _contact_for_visitor(
    project: Project,
    visitor_id: str,
    with_ledger: bool = False,
    attributes: Mapping[str, Any] | None = None,
    language: str = "",
) -> Contact:
    """The contact behind an anonymous visitor id, created on first sight (race-safe) with the
    call's attributes and language and seen now — so nothing is left to update, and a new
    contact's ledger is known to be empty."""
    link = _visitor_link(project, visitor_id, with_ledger=with_ledger)
    if link is not None and not (link.contact.user_id and project.identity_verification):
        return link.contact
    if link is not None:
        # The browser was last a verified signed-in user, and this call does not prove it is
        # still them (no signed user_id): it must not act on that person. The visitor id starts
        # afresh as an anonymous visitor (surveys.contacts.identity).
        VisitorId.objects.filter(pk=link.pk).delete()
    try:
        with transaction.atomic():
            now = timezone.now()
            contact = insert_row(
                Contact(
                    project=project,
                    attributes=dict(attributes or {}),
                    language=language,
                    last_seen_at=now,
                    created_at=now,
                ),
                returning_pk=True,
            )
            insert_row(
                VisitorId(project=project, visitor_id=visitor_id, contact=contact, created_at=now)
            )
            if with_ledger:
                contact._prefetched_ledger = []
            return contact
    except IntegrityError:  # another request created it first
        return (
            VisitorId.objects.select_related("contact")
            .get(project=project, visitor_id=visitor_id)
            .contact
        )


@transaction.atomic
def contact_merge(*, anonymous: Contact, into: Contact) -> Contact:
    """Fold an anonymous contact's history into an identified one, so its displays keep
    counting for cooldowns and its answers stay attached to the person."""

    if anonymous.pk == into.pk:
        return into
    # Lock both rows (in pk order) so a decide running for the anonymous contact finishes
    # before its displays move, and one arriving later sees `merged_into` and follows it.
    locked = {
        c.pk: c
        for c in Contact.objects.select_for_update()
        .filter(pk__in=[anonymous.pk, into.pk])
        .order_by("pk")
    }
    anonymous, into = locked[anonymous.pk], locked[into.pk]
    # Every place that names a contact moves its rows (surveys.contacts.personal_data).
    for entry in personal_data_entries():
        if entry.repoint is not None:
            entry.repoint(anonymous, into)
    if anonymous.opted_out_at and not into.opted_out_at:
        into.opted_out_at = anonymous.opted_out_at
    into.attributes = {**anonymous.attributes, **into.attributes}
    # The displays just moved change `into`'s ledger: a decide that read it before must not
    # win its compare-and-set (surveys.delivery.ledger.display_claim).
    into.claim_count += anonymous.claim_count + 1
    into.save(update_fields=["opted_out_at", "attributes", "claim_count", "updated_at"])
    anonymous.merged_into = into
    anonymous.save(update_fields=["merged_into", "updated_at"])
    return into


def contact_resolve(
    *,
    project: Project,
    visitor_id: str | None,
    user_id: str | None = None,
    attributes: Mapping[str, Any] | None = None,
    language: str | None = None,
    touch: bool = True,
    with_ledger: bool = False,
) -> Contact:
    """The contact a widget call is about. An identified user_id wins; a visitor id seen
    before as anonymous is merged into it (identify).

    New attributes, the language and `last_seen_at` (hourly) are saved at once, or with
    touch=False left on the instance for the caller to write (`contact_touch_fields` says
    which): decide folds them into its claim's single UPDATE. With with_ledger=True the
    contact's ledger comes in the same query as the visitor's link, for decide's first read."""
    attributes = clean_attributes(attributes)
    if not user_id and not visitor_id:
        raise ApplicationError(
            "invalid",
            gettext("A visitor_id or user_id is required."),
            {"visitor_id": [gettext("Required.")]},
        )
    if user_id:
        # The browser's link, with its contact's ledger for decide: a signed-in user's usual
        # call reads both in one query.
        link = _visitor_link(project, visitor_id, with_ledger) if visitor_id else None
        if link is not None and link.contact.user_id == user_id:
            contact = link.contact  # the usual call of a signed-in user: one query
        else:
            contact = _identified_contact(project, user_id)
            if link is None:
                if visitor_id:
                    VisitorId.objects.get_or_create(
                        project=project, visitor_id=visitor_id, defaults={"contact": contact}
                    )
            elif link.contact.user_id is None:
                contact = contact_merge(anonymous=link.contact, into=contact)  # identify
            else:  # the browser now belongs to another signed-in user
                VisitorId.objects.filter(pk=link.pk).update(contact=contact)
    else:
        contact = _contact_for_visitor(
            project,
            visitor_id,
            with_ledger=with_ledger,
            attributes=attributes,
            language=(primary_language(language) or "")[:16],
        )
    changes = contact_changes(
        attributes_now=contact.attributes,
        language_now=contact.language,
        last_seen_at=contact.last_seen_at,
        attributes=attributes,
        language=language,
        now=timezone.now(),
    )
    for field, value in changes.items():
        setattr(contact, field, value)
    contact._touched = list(changes)
    if touch:
        _contact_touch_write(contact)
    return contact


def contact_changes(
    *,
    attributes_now: Mapping[str, Any],
    language_now: str,
    last_seen_at: datetime | None,
    attributes: Mapping[str, Any],
    language: str | None,
    now: datetime,
) -> dict[str, Any]:
    """What a widget call changes on its contact: new attribute values (merged), a new
    language, and `last_seen_at` once an hour. `attributes` are clean (`clean_attributes`)."""
    changes: dict[str, Any] = {}
    if attributes and {**attributes_now, **attributes} != attributes_now:
        changes["attributes"] = {**attributes_now, **attributes}
    lang = primary_language(language)
    if lang and lang != language_now:
        changes["language"] = lang[:16]
    if last_seen_at is None or (now - last_seen_at).total_seconds() > 3600:
        changes["last_seen_at"] = now
    return changes


def contact_touch_fields(contact: Contact) -> list[str]:
    """The fields `contact_resolve(touch=False)` changed on the instance and did not save."""
    return getattr(contact, "_touched", [])


def _contact_touch_write(contact: Contact) -> None:
    fields = contact_touch_fields(contact)
    if fields:
        contact.updated_at = timezone.now()
        update_row(contact, [*fields, "updated_at"])
        contact._touched = []


def _visitor_link(
    project: Project, visitor_id: str, with_ledger: bool = False
) -> sql.VisitorLink | None:
    """The visitor id's link and its contact, in one query; with_ledger: the contact's ledger
    rows too (left on the contact for `selectors.contact_ledger`), still one query."""
    link = sql.visitor_link_read(project.pk, visitor_id, with_ledger=with_ledger)
    if link is not None and with_ledger:
        link.contact._prefetched_ledger = link.ledger
    return link


def _identified_contact(project: Project, user_id: str) -> Contact:
    """The contact with this user id, created on first sight (race-safe)."""
    contact = Contact.objects.filter(project=project, user_id=user_id).first()
    if contact is not None:
        return contact
    try:
        with transaction.atomic():
            return Contact.objects.create(project=project, user_id=user_id)
    except IntegrityError:  # another request created it first
        return Contact.objects.get(project=project, user_id=user_id)


def visitor_opt_out(*, project: Project, visitor_id: str | None, user_id: str | None) -> Contact:
    """The widget's opt-out: the visitor's contact asked never to be surveyed."""
    return contact_opt_out(
        contact=contact_resolve(project=project, visitor_id=visitor_id, user_id=user_id)
    )


def contact_opt_out(*, contact: Contact) -> Contact:
    if contact.opted_out_at is None:
        contact.opted_out_at = timezone.now()
        contact.save(update_fields=["opted_out_at", "updated_at"])
    return contact


# ---------------------------------------------------------------- decide / claim


@dataclass(frozen=True)
class ClaimResult:
    verdict: throttle.Verdict
    display: Display | None
    survey: Survey | None
    # The contact as the verdict saw it (locked and re-read on the slow path); None when the
    # verdict came from decide's memory of the visitor.
    contact: Contact | None = None


def _project_rules(project: Project) -> throttle.ProjectRules:
    return throttle.ProjectRules(
        recontact_days=project.recontact_days,
        frequency_cap=project.frequency_cap,
        frequency_window_days=project.frequency_window_days,
    )


def survey_preferred(surveys: Sequence[Survey]) -> Survey:
    """The survey that wins among several eligible ones (`throttle.preference`)."""
    return min(
        surveys,
        key=lambda s: throttle.preference(
            priority=s.priority, created_at=s.created_at, survey_id=s.pk
        ),
    )


def _survey_rules(survey: Survey, finished: dict[int, int]) -> throttle.SurveyRules:
    return throttle.SurveyRules(
        survey_id=survey.pk,
        priority=survey.priority,
        created_at=survey.created_at,
        display_option=survey.display_option,
        display_limit=survey.display_limit,
        recontact_days=survey.recontact_days,
        bypass_global_cooldown=survey.bypass_global_cooldown,
        snooze_days_after_dismiss=survey.snooze_days_after_dismiss,
        response_cap=survey.response_cap,
        finished_responses=finished.get(survey.pk, 0),
        sample_percent=survey.sample_percent,
        targeting=survey.targeting or {},
        recurrence_days=survey.recurrence_days,
    )


def contact_sampling_key(contact: Contact) -> str:
    return sampling_key(user_id=contact.user_id, contact_id=contact.pk)


def sampling_key(*, user_id: str | None, contact_id: int) -> str:
    """What sticky sampling hashes: the host app's user id when known (stable across devices
    and re-imports), else the contact row."""
    return str(user_id or f"contact:{contact_id}")


def _lock_contact(contact: Contact) -> Contact:
    """Lock the contact row and return it as it is now; a contact merged meanwhile hands over
    to the one it merged into."""
    locked = sql.contact_lock_read(contact.pk)
    while locked.merged_into_id is not None:
        locked = sql.contact_lock_read(locked.merged_into_id)
    return locked


def visitor_decide(
    *,
    project: Project,
    visitor_id: str | None,
    user_id: str | None,
    attributes: Mapping[str, Any] | None,
    touchpoint_key: str,
    url: str | None = None,
    locale: str | None = None,
) -> ClaimResult:
    """The widget's decide for the visitor a call names: the contact and its ledger in one
    read (`contact_resolve`), then `display_claim`."""
    contact = contact_resolve(
        project=project,
        visitor_id=visitor_id,
        user_id=user_id,
        attributes=attributes,
        language=locale,
        touch=False,  # the claim writes the changes in its own UPDATE
        with_ledger=True,  # and its first read comes with the contact
    )
    return display_claim(
        project=project, contact=contact, touchpoint_key=touchpoint_key, url=url, locale=locale
    )


def display_claim(
    *,
    project: Project,
    contact: Contact,
    touchpoint_key: str,
    channel: str = SurveyChannel.WIDGET,
    url: str | None = None,
    locale: str | None = None,
) -> ClaimResult:
    """Decide for one contact at one touchpoint and, if a survey wins, claim its display.

    Most decides show nothing (cooldowns, caps, sampling), so the rules first run on the
    ledger as read, without a lock: a "no" from that read is final — deciding on a ledger one
    millisecond old is the same as the call arriving a millisecond earlier, and a claim racing
    in can only add reasons to say no.

    A "show" is claimed by compare-and-set: the contact's `claim_count` goes up by one only if
    it is still the value read with the ledger (one UPDATE, which also writes what
    `contact_resolve(touch=False)` left on the instance), and the Display is inserted only if
    that UPDATE matched, both in one statement (`sql.display_claim_write`). A claim that raced
    in meanwhile changed the count, so the UPDATE matches nothing and the slow path runs: lock
    the row, read the ledger again, decide again.
    Either way concurrent decides for one contact serialise on its row: a cooldown can never
    be claimed twice.

    Queries, whatever the history: the ledger (plus finished counts when a survey has a
    response cap) and, for pending contact changes on a refusal, one UPDATE; a claim adds the
    claim's one statement. Decisions are counted in memory
    (surveys.delivery.decision_log); the touchpoint and its surveys come from memory."""
    now = timezone.now()
    # The claim count as read with (or before) the ledger: a claim committed after this read
    # changes it, so the compare-and-set below cannot succeed on a ledger that missed it.
    claims_seen = contact.claim_count
    touchpoint, surveys = _live_surveys(project, touchpoint_key, channel, now)
    finished = selectors.finished_response_counts(surveys=surveys)
    retired = None
    if touchpoint is not None:
        retired = throttle.retired_verdict(
            touchpoint_retired=touchpoint.retired_at is not None,
            stage_retired=touchpoint.stage is not None and touchpoint.stage.retired_at is not None,
        )
    verdict = retired or _verdict(project, contact, surveys, finished, now, url, locale)
    if not verdict.show:
        _contact_touch_write(contact)
        survey = _decision_record(project, surveys, touchpoint, channel, verdict, now)
        return ClaimResult(verdict=verdict, display=None, survey=survey, contact=contact)
    survey = next(s for s in surveys if s.pk == verdict.survey_id)
    display = _display_new(project, contact, survey, touchpoint, channel, url, locale, now)
    if _claim_write(contact, display, expected=claims_seen):
        _decision_record(project, surveys, touchpoint, channel, verdict, now)
        return ClaimResult(verdict=verdict, display=display, survey=survey, contact=contact)
    with transaction.atomic():  # the slow path: another claim changed the ledger meanwhile
        _contact_touch_write(contact)
        contact = _lock_contact(contact)
        verdict = _verdict(project, contact, surveys, finished, now, url, locale)
        survey = _decision_record(project, surveys, touchpoint, channel, verdict, now)
        display = None
        if verdict.show:
            display = _display_new(project, contact, survey, touchpoint, channel, url, locale, now)
            _claim_write(contact, display, expected=None)
    return ClaimResult(verdict=verdict, display=display, survey=survey, contact=contact)


def _live_surveys(
    project: Project, touchpoint_key: str, channel: str, now: datetime
) -> tuple[Any, list[Survey]]:
    """The touchpoint (None if unknown) and its surveys that run now on `channel`."""
    found = selectors.touchpoint_surveys(project=project, key=touchpoint_key)
    if found is None:
        return None, []
    return found.touchpoint, found.live(channel=channel, now=now)


def _claim_write(contact: Contact, display: Display, *, expected: int | None) -> bool:
    """Claim `display`: one more claim counted on the contact (writing the fields
    `contact_resolve` left pending too) and the display inserted, if the contact's count is
    still `expected` and it was not merged away; with expected=None unconditionally (the
    caller holds the row lock)."""
    contact.updated_at = timezone.now()
    written = sql.display_claim_write(
        contact, [*contact_touch_fields(contact), "updated_at"], display, expected=expected
    )
    if written:
        # The instance's claim_count is left as read: it is only ever a "seen" value, and
        # raising it here (before the commit) let a request sharing the instance
        # compare-and-set against a count whose claim it had not seen.
        contact._touched = []
    return written


def _display_new(
    project, contact, survey, touchpoint, channel, url, locale, now, link=None, display_id=None
) -> Display:
    return Display(
        id=display_id or uuid.uuid4(),
        project=project,
        contact=contact,
        survey=survey,
        version=survey.current_version,
        touchpoint=touchpoint,
        channel=channel,
        link=link,
        language=resolve_language(project, locale or contact.language),
        url=(url or "")[:2000],
        claimed_at=now,
        created_at=now,
    )


def _verdict(
    project: Project,
    contact: Contact,
    surveys: list[Survey],
    finished: dict[int, int],
    now: datetime,
    url: str | None,
    locale: str | None,
) -> throttle.Verdict:
    state = throttle.ContactState(
        contact_key=contact_sampling_key(contact),
        opted_out=contact.opted_out_at is not None,
        attributes=contact.attributes,
        language=locale or contact.language,
        url=url,
        ledger=selectors.contact_ledger(contact=contact, now=now) if surveys else (),
    )
    return _ask(project, surveys, finished, state, now)


def _ask(
    project: Project,
    surveys: list[Survey],
    finished: dict[int, int],
    state: throttle.ContactState,
    now: datetime,
) -> throttle.Verdict:
    return throttle.decide(
        now=now,
        project=_project_rules(project),
        surveys=[_survey_rules(s, finished) for s in surveys],
        contact=state,
    )


def _decision_record(
    project: Project,
    surveys: list[Survey],
    touchpoint,
    channel: str,
    verdict: throttle.Verdict,
    now: datetime,
) -> Survey | None:
    """Count the decide (surveys.delivery.decision_log); returns the survey the verdict is
    about."""
    survey = next((s for s in surveys if s.pk == verdict.survey_id), None)
    decision_log.record(
        project=project,
        survey_id=survey.pk if survey else None,
        touchpoint=touchpoint,
        delivery_channel=channel,
        reason=verdict.reason,
        now=now,
    )
    return survey


# ---------------------------------------------------------------- one survey, chosen by the respondent


def survey_verdict(
    *, project: Project, contact: Contact, survey: Survey, now: datetime | None = None
) -> throttle.Verdict:
    """Whether the anti-nagging rules let `contact` be asked `survey` now when the person
    came to it (a survey link) instead of decide choosing it: the rules of §5 in their order,
    except targeting and sampling — they choose whom to ask, and have no say over someone who
    asked to answer. Reads only."""
    now = now or timezone.now()
    finished = selectors.finished_response_counts(surveys=[survey])
    rules = replace(_survey_rules(survey, finished), targeting={}, sample_percent=100)
    state = throttle.ContactState(
        contact_key=contact_sampling_key(contact),
        opted_out=contact.opted_out_at is not None,
        attributes=contact.attributes,
        language=contact.language,
        url=None,
        ledger=selectors.contact_ledger(contact=contact, now=now),
    )
    return throttle.decide(now=now, project=_project_rules(project), surveys=[rules], contact=state)


def survey_claim(
    *,
    project: Project,
    contact: Contact,
    survey: Survey,
    touchpoint,
    channel: str,
    link=None,
    locale: str | None = None,
    display_id: uuid.UUID | None = None,
) -> ClaimResult:
    """`survey_verdict` and, when it allows, the display claimed (with `display_id` when
    given) — under the contact's row lock, as decide's slow path, so two answers racing
    cannot both pass a cooldown. The decision is counted like decide's
    (surveys.delivery.decision_log)."""
    now = timezone.now()
    with transaction.atomic():
        contact = _lock_contact(contact)
        verdict = survey_verdict(project=project, contact=contact, survey=survey, now=now)
        _decision_record(project, [survey], touchpoint, channel, verdict, now)
        if not verdict.show:
            return ClaimResult(verdict=verdict, display=None, survey=survey, contact=contact)
        display = _display_new(
            project,
            contact,
            survey,
            touchpoint,
            channel,
            None,
            locale,
            now,
            link=link,
            display_id=display_id,
        )
        _claim_write(contact, display, expected=None)
    return ClaimResult(verdict=verdict, display=display, survey=survey, contact=contact)


def survey_payload(*, display: Display, project: Project) -> dict[str, Any]:
    """The decide reply's `survey`: the shown version, texts resolved to one language."""
    return payload_from_snapshot(
        snapshot=display.version.snapshot,
        survey=display.survey,
        project=project,
        version_number=display.version.number,
        language=display.language or project.default_language,
        fallback=project.default_language,
    )


# ---------------------------------------------------------------- display lifecycle


def display_get(*, project: Project, display_id: Any) -> Display:
    """The display through this project's key, or a 404 (another project's display too)."""
    display = selectors.display_for_project(project=project, display_id=display_id)
    if display is None:
        raise ApplicationError("not_found", gettext("Unknown display."), status_code=404)
    return display


def display_mark_shown(*, display: Display) -> Display:
    """The widget rendered the survey. A late confirmation of an expired claim still counts:
    the customer did see it."""
    if display.status in (DisplayStatus.CLAIMED, DisplayStatus.EXPIRED):
        display.status = DisplayStatus.SHOWN
        display.shown_at = timezone.now()
        display.expired_at = None
        display.save(update_fields=["status", "shown_at", "expired_at", "updated_at"])
    return display


def display_mark_dismissed(*, display: Display) -> Display:
    if display.status in (DisplayStatus.CLAIMED, DisplayStatus.SHOWN, DisplayStatus.EXPIRED):
        display.status = DisplayStatus.DISMISSED
        display.dismissed_at = timezone.now()
        display.shown_at = display.shown_at or display.dismissed_at
        display.save(update_fields=["status", "dismissed_at", "shown_at", "updated_at"])
    return display


CLAIM_EXPIRY_CHUNK = 500
CLAIM_EXPIRY_PAUSE_SECONDS = 0.2


def claims_expire(
    *,
    now: datetime | None = None,
    chunk: int = CLAIM_EXPIRY_CHUNK,
    pause: float = CLAIM_EXPIRY_PAUSE_SECONDS,
) -> int:
    """Widget claims never confirmed as shown within CLAIM_TTL stop counting.

    Only the widget confirms what it rendered; an e-mail invitation's claim is settled by the
    invitation sender (sent → shown, skipped → expired), so it is left alone here.

    `chunk` rows per UPDATE, with a `pause` between full chunks: a backlog of unconfirmed
    claims (an ad blocker eating the widget, a burst of new visitors) expired in one UPDATE
    held a core of PostgreSQL for a second — thousands of rows, each a new entry in every
    index of the table; one such UPDATE took 960 ms during the 300 req/s load test, beside
    the decides it was meant to serve. Sweeping slowly changes no decision: the rules
    already ignore a claim past CLAIM_TTL (`throttle.is_claim_live`)."""
    now = now or timezone.now()
    stale = Display.objects.filter(
        status=DisplayStatus.CLAIMED,
        channel=SurveyChannel.WIDGET,
        claimed_at__lte=now - throttle.CLAIM_TTL,
    )
    expired = 0
    while True:
        # The ids first, as a list: with `pk__in=<LIMIT subquery>` PostgreSQL planned a nested
        # loop that ran the subquery again for every stale row (1–2.7 s per chunk of 500).
        ids = list(stale.values_list("pk", flat=True)[:chunk])
        # The conditions again: a claim confirmed meanwhile is not expired.
        expired += stale.filter(pk__in=ids).update(
            status=DisplayStatus.EXPIRED, expired_at=now, updated_at=now
        )
        if len(ids) < chunk:
            return expired
        time.sleep(pause)
