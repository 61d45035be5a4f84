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
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import re2

CLAIM_TTL = timedelta(minutes=10)
COUNTED_STATUSES = frozenset({"claimed", "shown", "responded", "dismissed"})

REASONS = (
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


def is_claim_live(status: str, claimed_at: datetime, now: datetime) -> bool:
    """A claim counts until it is confirmed shown, or until CLAIM_TTL has passed."""
    return status != "claimed" or now - claimed_at < CLAIM_TTL


def sample_bucket(contact_key: str, survey_id: int) -> float:
    """A number in [0, 100) fixed for a (contact, survey) pair: sampling is sticky."""
    digest = hashlib.sha256(f"{contact_key}:{survey_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 * 100


# ---------------------------------------------------------------- targeting

ATTRIBUTE_OPS = (
    "eq",
    "neq",
    "in",
    "not_in",
    "gt",
    "gte",
    "lt",
    "lte",
    "contains",
    "exists",
    "not_exists",
)
URL_OPS = ("contains", "starts_with", "ends_with", "equals", "regex")
_MAX_REGEX = 300


def _regex_options() -> re2.Options:
    options = re2.Options()
    options.log_errors = False  # a designer's invalid pattern is a field error, not a log line
    return options


_REGEX_OPTIONS = _regex_options()


def url_pattern(value: str):
    """A designer's URL pattern compiled by RE2, which matches in time linear in the URL's
    length: Python's backtracking `re` took seconds on a 25-character path for `(x+x+)+y`, on a
    URL the visitor chooses. RE2 has no look-around and no back-references; such a pattern
    raises `re2.error` here and is refused when the survey is saved (`validate_targeting`).
    Compiled patterns are kept by the `re2` module's own LRU cache (128 patterns)."""
    return re2.compile(value, options=_REGEX_OPTIONS)


def _regex_problem(error: re2.error) -> str:
    reason = error.args[0] if error.args else ""
    if isinstance(reason, bytes):
        reason = reason.decode("utf-8", "replace")
    return str(reason) or "not supported"


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _attribute_matches(rule: Mapping[str, Any], attributes: Mapping[str, Any]) -> bool:
    op, name, expected = rule.get("op"), rule.get("attribute"), rule.get("value")
    present = name in attributes
    actual = attributes.get(name)
    if op == "exists":
        return present
    if op == "not_exists":
        return not present
    if not present:
        return op in ("neq", "not_in")
    if op == "eq":
        return str(actual) == str(expected)
    if op == "neq":
        return str(actual) != str(expected)
    if op in ("in", "not_in"):
        values = {str(v) for v in expected} if isinstance(expected, list) else set()
        return (str(actual) in values) == (op == "in")
    if op == "contains":
        return str(expected).lower() in str(actual).lower()
    left, right = _number(actual), _number(expected)
    if left is None or right is None:
        return False
    return {"gt": left > right, "gte": left >= right, "lt": left < right, "lte": left <= right}.get(
        op, False
    )


def _url_matches(rule: Mapping[str, Any], url: str) -> bool:
    op, value = rule.get("op"), str(rule.get("value", ""))
    if op == "contains":
        return value in url
    if op == "starts_with":
        return url.startswith(value)
    if op == "ends_with":
        return url.endswith(value)
    if op == "equals":
        return url == value
    if op == "regex":
        try:
            return url_pattern(value[:_MAX_REGEX]).search(url) is not None
        except re2.error:  # saved before patterns were checked with RE2: it matches nothing
            return False
    return False


def primary_language(locale: str | None) -> str:
    return (locale or "").replace("_", "-").split("-")[0].lower()


def targeting_matches(targeting: Mapping[str, Any], contact: ContactState) -> bool:
    """All attribute rules must match; any URL rule may match; the language must be listed."""
    if not targeting:
        return True
    if not all(
        _attribute_matches(rule, contact.attributes) for rule in targeting.get("attributes") or []
    ):
        return False
    url_rules = targeting.get("urls") or []
    if url_rules and not any(_url_matches(rule, contact.url or "") for rule in url_rules):
        return False
    languages = [primary_language(lang) for lang in targeting.get("languages") or []]
    return not languages or primary_language(contact.language) in languages


def validate_targeting(targeting: Any) -> dict[str, list[str]]:
    """Field errors for a targeting block, keyed like `attributes.0.op`."""
    errors: dict[str, list[str]] = {}
    if not isinstance(targeting, Mapping):
        return {"": ["Targeting is an object with attributes, urls and languages."]}
    for key in set(targeting) - {"attributes", "urls", "languages"}:
        errors[key] = ["Unknown targeting rule kind."]
    for index, rule in enumerate(targeting.get("attributes") or []):
        prefix = f"attributes.{index}"
        if not isinstance(rule, Mapping) or not str(rule.get("attribute") or "").strip():
            errors[prefix] = ["Each attribute rule names an attribute."]
        elif rule.get("op") not in ATTRIBUTE_OPS:
            errors[f"{prefix}.op"] = [f"One of {', '.join(ATTRIBUTE_OPS)}."]
        elif rule["op"] in ("in", "not_in") and not isinstance(rule.get("value"), list):
            errors[f"{prefix}.value"] = ["A list of values."]
        elif rule["op"] in ("gt", "gte", "lt", "lte") and _number(rule.get("value")) is None:
            errors[f"{prefix}.value"] = ["A number."]
    for index, rule in enumerate(targeting.get("urls") or []):
        prefix = f"urls.{index}"
        if not isinstance(rule, Mapping) or rule.get("op") not in URL_OPS:
            errors[f"{prefix}.op"] = [f"One of {', '.join(URL_OPS)}."]
        elif not isinstance(rule.get("value"), str) or not rule["value"]:
            errors[f"{prefix}.value"] = ["A non-empty text."]
        elif rule["op"] == "regex":
            if len(rule["value"]) > _MAX_REGEX:
                errors[f"{prefix}.value"] = [f"At most {_MAX_REGEX} characters."]
            else:
                try:
                    url_pattern(rule["value"])
                except re2.error as error:
                    errors[f"{prefix}.value"] = [
                        f"Not a regular expression vocsite can run: {_regex_problem(error)}. "
                        "(RE2 syntax: no look-ahead, look-behind or back-references.)"
                    ]
    languages = targeting.get("languages") or []
    if not isinstance(languages, list) or not all(
        isinstance(lang, str) and lang for lang in languages
    ):
        errors["languages"] = ["A list of language codes."]
    return errors


# ---------------------------------------------------------------- the rules


def _counted(ledger: Sequence[LedgerEntry]) -> list[LedgerEntry]:
    return [entry for entry in ledger if entry.status in COUNTED_STATUSES]


def _refusal(
    survey: SurveyRules, project: ProjectRules, contact: ContactState, now: datetime
) -> str | None:
    """The first rule of §5 (after no_survey) this survey fails for this contact, or None."""
    if contact.opted_out:
        return "opted_out"
    if not targeting_matches(survey.targeting, contact):
        return "targeting"
    mine = [entry for entry in _counted(contact.ledger) if entry.survey_id == survey.survey_id]
    if survey.display_option in ("once", "until_responded", "limited") and any(
        e.responded for e in mine
    ):
        return "already_responded"
    if survey.display_option == "once" and mine:
        return "display_limit"
    if survey.display_option == "limited" and len(mine) >= (survey.display_limit or 0):
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


def _preference(survey: SurveyRules) -> tuple:
    """Highest priority first, then the oldest survey, then the lowest id."""
    return (-survey.priority, survey.created_at, survey.survey_id)


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
