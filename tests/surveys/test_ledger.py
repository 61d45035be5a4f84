"""surveys.delivery.ledger: identify/merge, claims and their expiry, dismiss → snooze, opt-out, sticky
sampling (its share over 10,000 keys), the e-mail channel sharing the ledger, languages, and decide's
query count as history grows. Time is moved with time-machine and values asserted exactly."""

from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from feedback.answering.models import Response
from surveys.contacts.models import Contact, VisitorId
from surveys.delivery import throttle
from surveys.delivery.ledger import (
    claims_expire,
    contact_merge,
    contact_opt_out,
    contact_resolve,
    contact_sampling_key,
    display_claim,
    display_mark_dismissed,
    display_mark_shown,
    sampling_key,
    survey_payload,
)
from surveys.delivery.models import DecisionCount, Display
from surveys.delivery.tasks import expire_stale_claims
from surveys.design.services import QuestionIn, survey_set_status
from tests.factories import ContactFactory, TouchpointFactory, decisions_counted, published_survey
from tests.widget_texts import ZH_WIDGET_TEXTS

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def claim(project, contact, touchpoint, **kwargs):
    return display_claim(project=project, contact=contact, touchpoint_key=touchpoint.key, **kwargs)


def is_ledger_read(sql: str) -> bool:
    """The query a decide reads a contact's displays with before it claims."""
    return sql.startswith("SELECT") and "FROM surveys_display" in sql and "contact_id" in sql


@contextmanager
def after_the_first_ledger_read(action):
    """Run `action` once, right after the first ledger read on this connection: another
    request slipping in between a decide's read and its claim, as two web processes racing
    would, replayed on one connection (Django's execute_wrapper). The reads in these tests
    find no rows, so nothing is left to fetch when `action` writes."""
    done = False

    def wrapper(execute, sql, params, many, context):
        nonlocal done
        result = execute(sql, params, many, context)
        if not done and is_ledger_read(sql):
            done = True
            action()
        return result

    with connection.execute_wrapper(wrapper):
        yield


# ---------------------------------------------------------------- identify / merge


def test_identify_merges_the_anonymous_history_and_it_keeps_counting(project, touchpoint):
    published_survey(project, touchpoints=[touchpoint])
    anonymous = contact_resolve(project=project, visitor_id="browser-1")
    first = claim(project, anonymous, touchpoint)
    assert first.verdict.show is True
    identified = contact_resolve(
        project=project, visitor_id="browser-1", user_id="user-42", attributes={"plan": "pro"}
    )
    assert identified.user_id == "user-42"
    assert identified.attributes == {"plan": "pro"}
    assert Display.objects.get().contact == identified
    assert decisions_counted(project) == {"shown": 1}
    assert VisitorId.objects.get(visitor_id="browser-1").contact == identified
    assert Contact.objects.get(pk=anonymous.pk).merged_into == identified
    # The claim made while anonymous still counts for the identified person, on any device.
    second = claim(
        project,
        contact_resolve(project=project, visitor_id="phone-2", user_id="user-42"),
        touchpoint,
    )
    assert (second.verdict.show, second.verdict.reason) == (False, "survey_cooldown")
    # The browser id alone does not prove the person (identity verification is on): a call
    # without the signed user id is a fresh anonymous visitor, never the person.
    stranger = contact_resolve(project=project, visitor_id="browser-1")
    assert stranger != identified and stranger.user_id is None
    # With verification off, the browser id stands for the person it was last linked to.
    project.identity_verification = False
    contact_resolve(project=project, visitor_id="browser-2", user_id="user-42")
    assert contact_resolve(project=project, visitor_id="browser-2") == identified


def test_a_merge_between_a_decides_read_and_its_claim_sends_it_the_slow_way(project, touchpoint):
    """The person's ledger was read empty; before the claim, an identify moves a fresh
    display of the anonymous browser onto the person. The merge raises the person's claim
    count, so the compare-and-set misses and the re-read ledger refuses."""
    published_survey(project, touchpoints=[touchpoint], display_option="always")
    anonymous = contact_resolve(project=project, visitor_id="browser-9")
    assert claim(project, anonymous, touchpoint).verdict.show is True
    person = contact_resolve(project=project, visitor_id="phone-9", user_id="user-9")

    def merge():
        contact_merge(
            anonymous=Contact.objects.get(pk=anonymous.pk), into=Contact.objects.get(pk=person.pk)
        )

    with after_the_first_ledger_read(merge):
        verdict = claim(project, person, touchpoint).verdict
    assert (verdict.show, verdict.reason) == (False, "survey_cooldown")
    assert Display.objects.filter(contact=person).count() == 1  # the moved one only
    assert Contact.objects.get(pk=person.pk).claim_count == 2  # its own 0, the merged 1, +1


def test_merge_carries_opt_out_and_keeps_the_identified_attributes(project):
    anonymous = contact_resolve(project=project, visitor_id="b", attributes={"plan": "free"})
    with time_machine.travel(T0, tick=False):
        contact_opt_out(contact=anonymous)
    ContactFactory(project=project, user_id="u-1", attributes={"plan": "pro", "region": "eu"})
    person = contact_resolve(project=project, visitor_id="b", user_id="u-1")
    assert person.opted_out_at == T0
    assert person.attributes == {"plan": "pro", "region": "eu"}


def test_a_claim_with_a_stale_anonymous_contact_lands_on_the_person(project, touchpoint):
    """A decide that resolved the anonymous contact just before identify merged it."""
    published_survey(project, touchpoints=[touchpoint])
    stale = contact_resolve(project=project, visitor_id="tab-1")
    person = contact_resolve(project=project, visitor_id="tab-1", user_id="u-7")
    result = claim(project, stale, touchpoint)
    assert result.display.contact_id == person.pk
    assert decisions_counted(project) == {"shown": 1}


def test_a_browser_signed_in_as_another_user_is_not_merged(project, touchpoint):
    published_survey(project, touchpoints=[touchpoint])
    alice = contact_resolve(project=project, visitor_id="shared-pc", user_id="alice")
    claim(project, alice, touchpoint)
    bob = contact_resolve(project=project, visitor_id="shared-pc", user_id="bob")
    assert bob != alice
    assert VisitorId.objects.get(visitor_id="shared-pc").contact == bob
    assert Display.objects.get().contact == alice  # Alice's history stays hers
    assert claim(project, bob, touchpoint).verdict.show is True


# ---------------------------------------------------------------- claims, expiry, dismiss


def test_claims_not_shown_within_ten_minutes_expire_and_stop_counting(project, touchpoint):
    published_survey(project, touchpoints=[touchpoint])
    contact = ContactFactory(project=project)
    with time_machine.travel(T0, tick=False):
        claimed = claim(project, contact, touchpoint)
    with time_machine.travel(T0 + timedelta(minutes=9, seconds=59), tick=False):
        assert claims_expire() == 0
        assert claim(project, contact, touchpoint).verdict.reason == "survey_cooldown"
    with time_machine.travel(T0 + timedelta(minutes=10), tick=False):
        # Not swept yet, but no longer live: it already stops counting.
        assert claim(project, contact, touchpoint).verdict.show is True
        assert claims_expire() == 1
    display = Display.objects.get(pk=claimed.display.pk)
    assert (display.status, display.expired_at) == ("expired", T0 + timedelta(minutes=10))


def test_a_backlog_of_stale_claims_expires_chunk_by_chunk(project, touchpoint):
    published_survey(project, touchpoints=[touchpoint])
    contacts = [ContactFactory(project=project) for _ in range(5)]
    with time_machine.travel(T0, tick=False):
        claims = [claim(project, contact, touchpoint).display for contact in contacts]
    display_mark_shown(display=claims[2])  # confirmed in time: never expired
    with time_machine.travel(T0 + timedelta(minutes=11), tick=False):
        assert claims_expire(chunk=2, pause=0) == 4
        assert claims_expire(chunk=2, pause=0) == 0
    statuses = dict(Display.objects.filter(project=project).values_list("contact_id", "status"))
    assert statuses == {
        contacts[0].pk: "expired",
        contacts[1].pk: "expired",
        contacts[2].pk: "shown",
        contacts[3].pk: "expired",
        contacts[4].pk: "expired",
    }


def test_the_periodic_task_expires_stale_claims(project, touchpoint):
    published_survey(project, touchpoints=[touchpoint])
    with time_machine.travel(T0, tick=False):
        claim(project, ContactFactory(project=project), touchpoint)
        claim(project, ContactFactory(project=project), touchpoint)
    with time_machine.travel(T0 + timedelta(minutes=11), tick=False):
        assert expire_stale_claims.delay().get() == 2
        assert expire_stale_claims.delay().get() == 0


def test_shown_claims_do_not_expire(project, touchpoint):
    published_survey(project, touchpoints=[touchpoint])
    contact = ContactFactory(project=project)
    result = claim(project, contact, touchpoint)
    display_mark_shown(display=result.display)
    with time_machine.travel(timezone.now() + timedelta(hours=1)):
        assert claims_expire() == 0
        assert claim(project, contact, touchpoint).verdict.reason == "survey_cooldown"


def test_a_late_shown_revives_an_expired_claim(project, touchpoint):
    published_survey(project, touchpoints=[touchpoint])
    contact = ContactFactory(project=project)
    with time_machine.travel(T0, tick=False):
        result = claim(project, contact, touchpoint)
    with time_machine.travel(T0 + timedelta(minutes=15), tick=False):
        claims_expire()
        display_mark_shown(display=Display.objects.get(pk=result.display.pk))
        display = Display.objects.get(pk=result.display.pk)
        assert (display.status, display.shown_at, display.expired_at) == (
            "shown",
            T0 + timedelta(minutes=15),
            None,
        )


def test_dismiss_snoozes_the_survey_for_its_snooze_days(project, touchpoint):
    published_survey(
        project, touchpoints=[touchpoint], display_option="always", snooze_days_after_dismiss=14
    )
    contact = ContactFactory(project=project)
    with time_machine.travel(T0, tick=False):
        result = claim(project, contact, touchpoint)
        display_mark_shown(display=result.display)
        display_mark_dismissed(display=result.display)
    display = Display.objects.get(pk=result.display.pk)
    assert (display.status, display.dismissed_at) == ("dismissed", T0)
    # Past the 7-day cooldowns the dismiss still holds the survey back…
    with time_machine.travel(T0 + timedelta(days=13, hours=23), tick=False):
        assert claim(project, contact, touchpoint).verdict.reason == "snoozed"
    # …until 14 days have passed.
    with time_machine.travel(T0 + timedelta(days=14), tick=False):
        assert claim(project, contact, touchpoint).verdict.show is True


def test_opt_out_is_kept_with_its_first_timestamp(project, touchpoint):
    published_survey(project, touchpoints=[touchpoint])
    contact = ContactFactory(project=project)
    with time_machine.travel(T0, tick=False):
        contact_opt_out(contact=contact)
    with time_machine.travel(T0 + timedelta(days=1), tick=False):
        contact_opt_out(contact=contact)
    contact.refresh_from_db()
    assert contact.opted_out_at == T0
    assert claim(project, contact, touchpoint).verdict.reason == "opted_out"


# ---------------------------------------------------------------- what can be shown


def test_paused_and_out_of_schedule_surveys_are_not_candidates(project, touchpoint):
    paused = published_survey(project, touchpoints=[touchpoint], name="Paused")
    survey_set_status(survey=paused, action="pause")
    published_survey(
        project,
        touchpoints=[touchpoint],
        name="Later",
        starts_at=T0 + timedelta(days=1),
        ends_at=T0 + timedelta(days=2),
    )
    contact = ContactFactory(project=project)
    with time_machine.travel(T0, tick=False):
        assert claim(project, contact, touchpoint).verdict.reason == "no_survey"
    with time_machine.travel(T0 + timedelta(days=1), tick=False):
        assert claim(project, contact, touchpoint).survey.name == "Later"


def test_unknown_touchpoint_is_no_survey_and_still_counted(project):
    contact = ContactFactory(project=project)
    result = display_claim(project=project, contact=contact, touchpoint_key="nowhere")
    assert (result.verdict.show, result.verdict.reason) == (False, "no_survey")
    counter = DecisionCount.objects.get()
    assert (counter.reason, counter.touchpoint_key, counter.survey, counter.count) == (
        "no_survey",
        "",
        None,
        1,
    )


def test_an_email_survey_yesterday_holds_back_the_widget_today(project, touchpoint):
    """One ledger for every channel (DESIGN.md §5)."""
    email_tp = TouchpointFactory(project=project, key="order_delivered", channel="email")
    published_survey(project, touchpoints=[email_tp], name="Delivery", channels=["email"])
    published_survey(project, touchpoints=[touchpoint], name="Checkout")
    contact = ContactFactory(project=project)
    with time_machine.travel(T0, tick=False):
        by_email = display_claim(
            project=project, contact=contact, touchpoint_key=email_tp.key, channel="email"
        )
        assert (by_email.verdict.show, by_email.display.channel) == (True, "email")
    with time_machine.travel(T0 + timedelta(hours=2), tick=False):
        # An e-mail claim is settled by its sender, not by the widget's 10-minute TTL.
        assert claims_expire() == 0
        assert claim(project, contact, touchpoint).verdict.reason == "global_cooldown"
        display_mark_shown(display=by_email.display)  # the invitation was sent
    with time_machine.travel(T0 + timedelta(days=1), tick=False):
        assert claim(project, contact, touchpoint).verdict.reason == "global_cooldown"
        # and the widget never shows an e-mail-only survey
        assert claim(project, contact, email_tp).verdict.reason == "no_survey"


def test_response_cap_counts_finished_responses(project, touchpoint):
    survey = published_survey(project, touchpoints=[touchpoint], response_cap=1)
    first = ContactFactory(project=project)
    display = claim(project, first, touchpoint).display
    Response.objects.create(
        project=project,
        survey=survey,
        version=survey.current_version,
        display=display,
        contact=first,
        submission_id="00000000-0000-0000-0000-000000000001",
        finished=True,
    )
    assert claim(project, ContactFactory(project=project), touchpoint).verdict.reason == (
        "response_cap"
    )


def test_the_survey_is_sent_in_one_language_with_fallbacks(project, touchpoint):
    survey = published_survey(
        project,
        allow_missing_translations=True,  # some texts fall back to English
        touchpoints=[touchpoint],
        questions=[
            QuestionIn(
                type="csat",
                text={"en": "Happy?", "zh": "满意吗？"},
                labels={"min": {"en": "Not at all"}, "max": {"en": "Very", "zh": "非常"}},
            ),
            QuestionIn(
                type="single_choice",
                text={"en": "Why?"},
                choices=[{"en": "Price", "zh": "价格"}, {"en": "Speed"}],
            ),
        ],
        thank_you={"en": "Thanks!", "zh": "谢谢！"},
    )
    contact = ContactFactory(project=project)
    result = claim(project, contact, touchpoint, locale="zh-Hant-TW")
    payload = survey_payload(display=result.display, project=project)
    ids = [q["id"] for q in survey.current_version.snapshot["questions"]]
    assert payload == {
        "id": survey.pk,
        "version": 1,
        "language": "zh",
        "delay_seconds": 0,
        "auto_close_seconds": None,
        "questions": [
            {
                "id": ids[0],
                "type": "csat",
                "text": "满意吗？",
                "required": True,
                "scale": {"min": 1, "max": 5},
                "labels": {"min": "Not at all", "max": "非常"},
            },
            {
                "id": ids[1],
                "type": "single_choice",
                "text": "Why?",
                "required": True,
                "choices": [{"id": "c1", "text": "价格"}, {"id": "c2", "text": "Speed"}],
            },
        ],
        "thank_you": "谢谢！",
        "texts": ZH_WIDGET_TEXTS,
        "theme": {"primary_color": "#2563eb", "text_color": "#ffffff"},
    }
    other = ContactFactory(project=project)
    french = claim(project, other, touchpoint, locale="fr-FR").display
    assert french.language == "en"  # the project does not speak French: its default


# ---------------------------------------------------------------- sampling


def test_sampling_is_sticky_and_lands_within_one_and_a_half_points_over_10000(project, touchpoint):
    """The share the service's own sampling key puts inside 20 % is within 20 ± 1.5 % over
    10,000 keys (anonymous and identified; a pure function, so counted without rows), and
    real decides for 300 contacts (half of each kind) agree with it one by one — and again on a
    second visit (sticky, not a coin per visit). Agreement is exact per contact, so a few
    hundred decides check the service; the share is a statistic, so it takes the 10,000."""
    survey = published_survey(
        project, touchpoints=[touchpoint], sample_percent=20, display_option="always"
    )
    keys = [sampling_key(user_id=f"s-{i}" if i % 2 else None, contact_id=i) for i in range(10_000)]
    inside = sum(throttle.sample_bucket(key, survey.pk) < 20 for key in keys)
    assert 1850 <= inside <= 2150  # 20 % ± 1.5 points of 10,000
    Contact.objects.bulk_create(
        [Contact(project=project, user_id=f"s-{i}" if i % 2 else None) for i in range(300)]
    )
    checked = list(Contact.objects.filter(project=project).order_by("pk"))
    assert {c.user_id is None for c in checked} == {True, False}
    predicted = {
        c.pk: throttle.sample_bucket(contact_sampling_key(c), survey.pk) < 20 for c in checked
    }
    verdicts = {c.pk: claim(project, c, touchpoint).verdict for c in checked}
    assert {v.reason for v in verdicts.values()} == {"shown", "sampled_out"}
    assert {pk: v.show for pk, v in verdicts.items()} == predicted
    assert survey.displays.count() == sum(predicted.values())
    with time_machine.travel(timezone.now() + timedelta(days=8)):  # past every cooldown
        again = {c.pk: claim(project, c, touchpoint).verdict.show for c in checked}
    assert again == predicted


# ---------------------------------------------------------------- the hot path's queries


def test_decide_query_count_is_constant_as_history_grows(project, touchpoint):
    survey = published_survey(project, touchpoints=[touchpoint], display_option="always")
    old = timezone.now() - timedelta(days=400)

    def contact_with_history(displays: int) -> Contact:
        contact = ContactFactory(project=project)
        Display.objects.bulk_create(
            [
                Display(
                    project=project,
                    contact=contact,
                    survey=survey,
                    version=survey.current_version,
                    status="responded",
                    claimed_at=old - timedelta(days=i),
                )
                for i in range(displays)
            ]
        )
        return contact

    def queries(contact: Contact) -> tuple[int, str]:
        with CaptureQueriesContext(connection) as ctx:
            verdict = claim(project, contact, touchpoint).verdict
        return len(ctx.captured_queries), verdict.reason

    short, long = contact_with_history(1), contact_with_history(200)
    shown_short, shown_long = queries(short), queries(long)
    assert shown_short == shown_long
    assert shown_short[1] == "shown"
    refused_short, refused_long = queries(short), queries(long)
    assert refused_short == refused_long
    assert refused_short[1] == "survey_cooldown"
    # A refusal: touchpoint, surveys, ledger, and the decision counters' upsert (the tests
    # flush them at once) — nothing locked. A claim adds its write: on PostgreSQL one statement
    # (the compare-and-set UPDATE and the display's INSERT); SQLite, which cannot put an UPDATE
    # in a WITH clause, runs the two in a transaction (here a savepoint: UPDATE, INSERT, RELEASE).
    claim_statements = 1 if connection.vendor == "postgresql" else 4
    assert (shown_short[0], refused_short[0]) == (4 + claim_statements, 4)


def test_a_claim_on_a_ledger_that_changed_since_it_was_read_takes_the_slow_path(
    project, touchpoint
):
    """Two decides read the same contact before either claims: the first claims; the second's
    compare-and-set finds the claim count moved, locks, re-reads, and is refused."""
    survey = published_survey(project, touchpoints=[touchpoint], display_option="always")
    contact = ContactFactory(project=project)
    first, second = (Contact.objects.get(pk=contact.pk) for _ in range(2))
    other_verdicts = []

    def the_other_decide_claims():
        other_verdicts.append(claim(project, first, touchpoint).verdict.reason)

    with (
        CaptureQueriesContext(connection) as ctx,
        after_the_first_ledger_read(the_other_decide_claims),
    ):
        late = claim(project, second, touchpoint).verdict
    assert (other_verdicts, late.reason) == (["shown"], "survey_cooldown")
    sql = [q["sql"] for q in ctx.captured_queries]
    # The late decide read the ledger (empty: it decided "show"), the other one read it and
    # claimed, and the late one, its compare-and-set missing, read it again and refused.
    assert sum(is_ledger_read(q) for q in sql) == 3
    # The other decide's compare-and-set, which won, and the late one's, which missed (the
    # slow path then refused, so it bumped nothing).
    assert sum("claim_count = claim_count + 1" in q for q in sql) == 2
    assert survey.displays.count() == 1
    contact.refresh_from_db()
    assert contact.claim_count == 1
