"""surveys.delivery.throttle: the eleven rules of DESIGN.md §5, each flipped alone, and their order."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from surveys.delivery.throttle import (
    CLAIM_TTL,
    REASONS,
    ContactState,
    LedgerEntry,
    ProjectRules,
    SurveyRules,
    decide,
    is_claim_live,
    sample_bucket,
)
from surveys.design.targeting import validate_targeting

NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
PROJECT = ProjectRules(recontact_days=7, frequency_cap=2, frequency_window_days=30)
SURVEY = SurveyRules(
    survey_id=1,
    priority=0,
    created_at=NOW - timedelta(days=100),
    display_option="until_responded",
    display_limit=None,
    recontact_days=None,
    bypass_global_cooldown=False,
    snooze_days_after_dismiss=14,
    response_cap=None,
    finished_responses=0,
    sample_percent=100,
    targeting={},
)
CONTACT = ContactState(
    contact_key="c-1",
    opted_out=False,
    attributes={"plan": "pro"},
    language="en-US",
    url="https://shop.example/cart",
    ledger=(),
)


def days_ago(days: float) -> datetime:
    return NOW - timedelta(days=days)


def entry(survey_id=1, status="shown", days=60.0, dismissed=None, responded=False) -> LedgerEntry:
    return LedgerEntry(
        survey_id=survey_id,
        status=status,
        claimed_at=days_ago(days),
        dismissed_at=dismissed,
        responded=responded,
    )


def verdict(survey=SURVEY, contact=CONTACT, project=PROJECT):
    return decide(now=NOW, project=project, surveys=[survey], contact=contact)


def test_base_scenario_is_shown():
    assert verdict().show is True
    assert verdict().reason == "shown"


def test_no_survey():
    result = decide(now=NOW, project=PROJECT, surveys=[], contact=CONTACT)
    assert (result.show, result.reason, result.survey_id) == (False, "no_survey", None)


# One test per rule: start from the base scenario and flip only that rule.
@pytest.mark.parametrize(
    ("reason", "survey", "contact"),
    [
        ("opted_out", SURVEY, replace(CONTACT, opted_out=True)),
        (
            "targeting",
            replace(
                SURVEY,
                targeting={"attributes": [{"attribute": "plan", "op": "eq", "value": "free"}]},
            ),
            CONTACT,
        ),
        (
            "already_responded",
            SURVEY,
            replace(CONTACT, ledger=(entry(status="responded", responded=True),)),
        ),
        (
            "display_limit",
            replace(SURVEY, display_option="once"),
            replace(CONTACT, ledger=(entry(),)),
        ),
        (
            "snoozed",
            SURVEY,
            replace(CONTACT, ledger=(entry(status="dismissed", days=60, dismissed=days_ago(3)),)),
        ),
        (
            "survey_cooldown",
            replace(SURVEY, recontact_days=90),
            replace(CONTACT, ledger=(entry(days=60),)),
        ),
        ("global_cooldown", SURVEY, replace(CONTACT, ledger=(entry(survey_id=2, days=3),))),
        (
            "frequency_cap",
            SURVEY,
            replace(CONTACT, ledger=(entry(survey_id=2, days=10), entry(survey_id=3, days=20))),
        ),
        ("response_cap", replace(SURVEY, response_cap=100, finished_responses=100), CONTACT),
        ("sampled_out", replace(SURVEY, sample_percent=0), CONTACT),
    ],
)
def test_each_rule_alone_gives_its_reason(reason, survey, contact):
    result = verdict(survey=survey, contact=contact)
    assert (result.show, result.reason, result.survey_id) == (False, reason, 1)


def test_limited_display_option_counts_displays():
    limited = replace(SURVEY, display_option="limited", display_limit=2)
    assert verdict(limited, replace(CONTACT, ledger=(entry(days=60),))).show is True
    assert (
        verdict(limited, replace(CONTACT, ledger=(entry(days=60), entry(days=50)))).reason
        == "display_limit"
    )


def test_always_ignores_previous_answers_but_not_cooldowns():
    always = replace(SURVEY, display_option="always")
    assert (
        verdict(
            always, replace(CONTACT, ledger=(entry(status="responded", responded=True, days=60),))
        ).show
        is True
    )
    assert (
        verdict(
            always, replace(CONTACT, ledger=(entry(status="responded", responded=True, days=2),))
        ).reason
        == "survey_cooldown"
    )


def test_survey_cooldown_never_shorter_than_the_project_floor():
    short = replace(SURVEY, recontact_days=1)
    assert verdict(short, replace(CONTACT, ledger=(entry(days=3),))).reason == "survey_cooldown"


def test_bypass_global_cooldown_uses_only_the_surveys_own_cooldown():
    transactional = replace(
        SURVEY, bypass_global_cooldown=True, recontact_days=1, display_option="always"
    )
    other_yesterday = replace(CONTACT, ledger=(entry(survey_id=2, days=1),))
    assert verdict(transactional, other_yesterday).show is True
    assert verdict(SURVEY, other_yesterday).reason == "global_cooldown"
    assert (
        verdict(transactional, replace(CONTACT, ledger=(entry(days=0.5),))).reason
        == "survey_cooldown"
    )


def test_expired_claims_are_not_counted_and_claims_live_ten_minutes():
    assert is_claim_live("claimed", NOW - CLAIM_TTL + timedelta(seconds=1), NOW) is True
    assert is_claim_live("claimed", NOW - CLAIM_TTL, NOW) is False
    assert is_claim_live("shown", NOW - timedelta(days=30), NOW) is True
    assert verdict(contact=replace(CONTACT, ledger=(entry(status="expired", days=1),))).show is True


# Order: when two rules fail, the earlier one is reported — for each adjacent pair.
FLIPS = {
    "opted_out": lambda s, c: (s, replace(c, opted_out=True)),
    "targeting": lambda s, c: (replace(s, targeting={"languages": ["zh"]}), c),
    "already_responded": lambda s, c: (
        s,
        replace(c, ledger=(*c.ledger, entry(status="responded", responded=True, days=200))),
    ),
    "display_limit": lambda s, c: (
        replace(s, display_option="once"),
        replace(c, ledger=(*c.ledger, entry(days=300))),
    ),
    "snoozed": lambda s, c: (
        s,
        replace(c, ledger=(*c.ledger, entry(status="dismissed", days=400, dismissed=days_ago(1)))),
    ),
    "survey_cooldown": lambda s, c: (
        replace(s, recontact_days=9000),
        replace(c, ledger=(*c.ledger, entry(days=500))),
    ),
    "global_cooldown": lambda s, c: (s, replace(c, ledger=(*c.ledger, entry(survey_id=9, days=2)))),
    "frequency_cap": lambda s, c: (
        replace(s, display_option="always"),
        replace(c, ledger=(*c.ledger, entry(survey_id=8, days=20), entry(survey_id=7, days=25))),
    ),
    "response_cap": lambda s, c: (replace(s, response_cap=1, finished_responses=1), c),
    "sampled_out": lambda s, c: (replace(s, sample_percent=0), c),
}
ORDER = list(FLIPS)


@pytest.mark.parametrize("index", range(len(ORDER) - 1))
def test_adjacent_rules_report_the_earlier_one(index):
    earlier, later = ORDER[index], ORDER[index + 1]
    survey, contact = FLIPS[later](SURVEY, CONTACT)
    survey, contact = FLIPS[earlier](survey, contact)
    assert verdict(survey, contact).reason == earlier


def test_highest_priority_then_oldest_wins():
    low = replace(SURVEY, survey_id=1, priority=0)
    high = replace(SURVEY, survey_id=2, priority=5)
    older_high = replace(SURVEY, survey_id=3, priority=5, created_at=NOW - timedelta(days=400))
    assert decide(now=NOW, project=PROJECT, surveys=[low, high], contact=CONTACT).survey_id == 2
    assert (
        decide(now=NOW, project=PROJECT, surveys=[low, high, older_high], contact=CONTACT).survey_id
        == 3
    )


def test_when_the_best_is_refused_the_next_one_is_shown_and_all_refused_reports_the_best():
    best = replace(SURVEY, survey_id=2, priority=5, sample_percent=0)
    fallback = replace(SURVEY, survey_id=1)
    assert (
        decide(now=NOW, project=PROJECT, surveys=[best, fallback], contact=CONTACT).survey_id == 1
    )
    refused = replace(fallback, response_cap=0)
    result = decide(now=NOW, project=PROJECT, surveys=[best, refused], contact=CONTACT)
    assert (result.show, result.reason, result.survey_id) == (False, "sampled_out", 2)


def test_sampling_is_sticky_and_lands_near_its_percent():
    assert sample_bucket("c-1", 7) == sample_bucket("c-1", 7)
    survey = replace(SURVEY, sample_percent=20)
    shown = sum(
        verdict(survey, replace(CONTACT, contact_key=f"contact-{i}")).show for i in range(10_000)
    )
    assert 1850 <= shown <= 2150
    assert [verdict(survey, replace(CONTACT, contact_key="contact-42")).show for _ in range(5)] == [
        verdict(survey, replace(CONTACT, contact_key="contact-42")).show
    ] * 5


@pytest.mark.parametrize(
    ("rule", "attributes", "matches"),
    [
        ({"attribute": "plan", "op": "eq", "value": "pro"}, {"plan": "pro"}, True),
        ({"attribute": "plan", "op": "neq", "value": "pro"}, {"plan": "pro"}, False),
        ({"attribute": "plan", "op": "in", "value": ["pro", "team"]}, {"plan": "team"}, True),
        ({"attribute": "plan", "op": "not_in", "value": ["pro"]}, {"plan": "free"}, True),
        ({"attribute": "orders", "op": "gt", "value": 3}, {"orders": 4}, True),
        ({"attribute": "orders", "op": "gte", "value": 3}, {"orders": 2}, False),
        ({"attribute": "orders", "op": "lt", "value": "10"}, {"orders": "9"}, True),
        ({"attribute": "orders", "op": "lte", "value": 3}, {"orders": "many"}, False),
        ({"attribute": "email", "op": "contains", "value": "ACME"}, {"email": "x@acme.com"}, True),
        ({"attribute": "vip", "op": "exists"}, {}, False),
        ({"attribute": "vip", "op": "not_exists"}, {}, True),
    ],
)
def test_attribute_targeting_ops(rule, attributes, matches):
    contact = replace(CONTACT, attributes=attributes)
    assert verdict(replace(SURVEY, targeting={"attributes": [rule]}), contact).show is matches


@pytest.mark.parametrize(
    ("rules", "matches"),
    [
        ([{"op": "contains", "value": "/cart"}], True),
        ([{"op": "starts_with", "value": "https://shop"}], True),
        ([{"op": "ends_with", "value": "/checkout"}], False),
        ([{"op": "equals", "value": "https://shop.example/cart"}], True),
        ([{"op": "regex", "value": r"/ca+rt$"}], True),
        ([{"op": "regex", "value": "("}], False),
        ([{"op": "equals", "value": "x"}, {"op": "contains", "value": "shop"}], True),
    ],
)
def test_url_targeting_any_rule_may_match(rules, matches):
    assert verdict(replace(SURVEY, targeting={"urls": rules})).show is matches


def test_language_targeting_uses_the_primary_subtag():
    assert verdict(replace(SURVEY, targeting={"languages": ["en"]})).show is True
    assert (
        verdict(
            replace(SURVEY, targeting={"languages": ["zh"]}), replace(CONTACT, language="zh-CN")
        ).show
        is True
    )
    assert verdict(replace(SURVEY, targeting={"languages": ["zh"]})).reason == "targeting"


def test_validate_targeting_names_each_bad_field():
    assert (
        validate_targeting({"attributes": [{"attribute": "plan", "op": "eq", "value": "pro"}]})
        == {}
    )
    errors = validate_targeting(
        {
            "attributes": [
                {"attribute": "plan", "op": "like"},
                {"attribute": "n", "op": "gt", "value": "x"},
            ],
            "urls": [{"op": "regex", "value": "("}],
            "languages": [3],
            "weather": [],
        }
    )
    assert set(errors) == {
        "attributes.0.op",
        "attributes.1.value",
        "urls.0.value",
        "languages",
        "weather",
    }


ledgers = st.lists(
    st.builds(
        LedgerEntry,
        survey_id=st.integers(1, 3),
        status=st.sampled_from(["claimed", "shown", "responded", "dismissed"]),
        claimed_at=st.integers(0, 90 * 24).map(lambda h: NOW - timedelta(hours=h)),
        dismissed_at=st.none(),
        responded=st.booleans(),
    ),
    max_size=6,
)


@given(ledgers, st.booleans(), st.sampled_from(["once", "until_responded", "limited", "always"]))
def test_decide_is_deterministic_and_respects_opt_out_and_once(ledger, opted_out, option):
    survey = replace(SURVEY, display_option=option, display_limit=2)
    contact = replace(CONTACT, ledger=tuple(ledger), opted_out=opted_out)
    first, second = verdict(survey, contact), verdict(survey, contact)
    assert first == second
    if opted_out:
        assert first.show is False
    if option == "once" and any(e.survey_id == 1 for e in ledger):
        assert first.show is False


# ---------------------------------------------------------------- recurring surveys

RECURRING = replace(SURVEY, recurrence_days=90)
ANSWERED = entry(status="responded", responded=True, days=89)


def test_a_recurring_survey_asks_again_n_days_after_the_last_display():
    assert verdict(SURVEY, replace(CONTACT, ledger=(ANSWERED,))).reason == "already_responded"
    assert verdict(RECURRING, replace(CONTACT, ledger=(ANSWERED,))).reason == "already_responded"
    due = replace(CONTACT, ledger=(replace(ANSWERED, claimed_at=days_ago(90)),))
    assert verdict(RECURRING, due).show is True
    assert verdict(SURVEY, due).reason == "already_responded"


def test_a_round_runs_until_a_gap_of_n_days():
    """Shown at 200 days (answered), then 100 and 20 days ago without an answer: the answer
    is in an older round (a 100-day gap), the round now holds the other two."""
    ledger = (
        entry(status="responded", responded=True, days=200),
        entry(days=100),
        entry(days=20),
    )
    assert verdict(RECURRING, replace(CONTACT, ledger=ledger)).show is True
    once = replace(RECURRING, display_option="once")
    assert verdict(once, replace(CONTACT, ledger=ledger)).reason == "display_limit"
    limited = replace(RECURRING, display_option="limited", display_limit=3)
    assert verdict(limited, replace(CONTACT, ledger=ledger)).show is True
    assert (
        verdict(limited, replace(CONTACT, ledger=(*ledger, entry(days=60)))).reason
        == "display_limit"
    )


@pytest.mark.parametrize(
    ("ledger", "reason"),
    [
        (
            (replace(ANSWERED, claimed_at=days_ago(90)), entry(survey_id=2, days=3)),
            "global_cooldown",
        ),
        (
            (
                replace(ANSWERED, claimed_at=days_ago(90)),
                entry(survey_id=2, days=20),
                entry(survey_id=3, days=10),
            ),
            "frequency_cap",
        ),
        ((entry(status="dismissed", days=95, dismissed=days_ago(5)),), "snoozed"),
    ],
)
def test_a_due_recurring_survey_still_obeys_cooldown_cap_and_snooze(ledger, reason):
    result = verdict(RECURRING, replace(CONTACT, ledger=ledger))
    assert (result.show, result.reason) == (False, reason)


def test_a_recurring_survey_never_asks_sooner_than_its_own_cooldown():
    quick = replace(RECURRING, recurrence_days=10, recontact_days=30)
    ledger = (entry(status="responded", responded=True, days=20),)
    assert verdict(quick, replace(CONTACT, ledger=ledger)).reason == "survey_cooldown"
    ledger = (entry(status="responded", responded=True, days=30),)
    assert verdict(quick, replace(CONTACT, ledger=ledger)).show is True


long_ledgers = st.lists(
    st.builds(
        LedgerEntry,
        survey_id=st.sampled_from([1, 2]),
        status=st.sampled_from(["shown", "responded", "dismissed"]),
        claimed_at=st.integers(0, 400 * 24).map(lambda h: NOW - timedelta(hours=h)),
        dismissed_at=st.none(),
        responded=st.booleans(),
    ),
    max_size=8,
)


@given(
    long_ledgers,
    st.integers(1, 200),
    st.sampled_from(["once", "until_responded", "limited"]),
)
def test_recurrence_only_ever_lifts_already_responded_and_display_limit(ledger, days, option):
    """Whatever the history, a recurring survey is refused for the same reason as the one-off
    survey, unless that reason was "already responded" or a display limit — and it is then
    refused, if at all, only by a later rule of §5: cooldowns, the frequency cap and the rest
    hold a recurring survey back as they hold any other."""
    one_off = replace(SURVEY, display_option=option, display_limit=2)
    contact = replace(CONTACT, ledger=tuple(ledger))
    before = verdict(one_off, contact)
    after = verdict(replace(one_off, recurrence_days=days), contact)
    if before.reason not in ("already_responded", "display_limit"):
        assert after == before
    else:
        assert after.show or REASONS.index(after.reason) >= REASONS.index(before.reason)
        mine = [e for e in ledger if e.survey_id == 1]
        if all(NOW - e.claimed_at >= timedelta(days=days) for e in mine):
            assert after.reason not in ("already_responded", "display_limit")
