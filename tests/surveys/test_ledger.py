"""surveys.ledger: identify/merge, claim expiry, sticky sampling, and decide's query count."""

from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from surveys.ledger import claims_expire, contact_resolve, display_claim, display_mark_shown
from surveys.models import Contact, Display, VisitorId
from tests.factories import ContactFactory, published_survey

pytestmark = pytest.mark.django_db


def test_identify_merges_the_anonymous_history_and_it_keeps_counting(project, touchpoint):
    published_survey(project, touchpoints=[touchpoint])
    anonymous = contact_resolve(project=project, visitor_id="browser-1")
    first = display_claim(project=project, contact=anonymous, touchpoint_key=touchpoint.key)
    assert first.verdict.show is True
    identified = contact_resolve(
        project=project, visitor_id="browser-1", user_id="user-42", attributes={"plan": "pro"}
    )
    assert identified.user_id == "user-42"
    assert Display.objects.get().contact == identified
    assert VisitorId.objects.get(visitor_id="browser-1").contact == identified
    assert Contact.objects.get(pk=anonymous.pk).merged_into == identified
    # The claim made while anonymous still counts for the identified person, on any device.
    second = display_claim(
        project=project,
        contact=contact_resolve(project=project, visitor_id="phone-2", user_id="user-42"),
        touchpoint_key=touchpoint.key,
    )
    assert (second.verdict.show, second.verdict.reason) == (False, "survey_cooldown")


def test_claims_not_shown_within_ten_minutes_expire_and_stop_counting(project, touchpoint):
    published_survey(project, touchpoints=[touchpoint])
    contact = ContactFactory(project=project)
    start = timezone.now()
    with time_machine.travel(start):
        claimed = display_claim(project=project, contact=contact, touchpoint_key=touchpoint.key)
    with time_machine.travel(start + timedelta(minutes=9)):
        assert claims_expire() == 0
        assert (
            display_claim(
                project=project, contact=contact, touchpoint_key=touchpoint.key
            ).verdict.reason
            == "survey_cooldown"
        )
    with time_machine.travel(start + timedelta(minutes=11)):
        assert (
            display_claim(
                project=project, contact=contact, touchpoint_key=touchpoint.key
            ).verdict.show
            is True
        )
        assert claims_expire() == 1
    assert Display.objects.get(pk=claimed.display.pk).status == "expired"


def test_shown_claims_do_not_expire(project, touchpoint):
    published_survey(project, touchpoints=[touchpoint])
    contact = ContactFactory(project=project)
    claim = display_claim(project=project, contact=contact, touchpoint_key=touchpoint.key)
    display_mark_shown(display=claim.display)
    with time_machine.travel(timezone.now() + timedelta(hours=1)):
        assert claims_expire() == 0
        assert (
            display_claim(
                project=project, contact=contact, touchpoint_key=touchpoint.key
            ).verdict.reason
            == "survey_cooldown"
        )


def test_sampling_is_sticky_per_contact_and_near_the_percent(project, touchpoint):
    survey = published_survey(project, touchpoints=[touchpoint], sample_percent=20)
    contacts = Contact.objects.bulk_create(
        [Contact(project=project, user_id=f"s-{i}") for i in range(2000)]
    )
    contacts = list(Contact.objects.filter(project=project))
    verdicts = [
        display_claim(project=project, contact=c, touchpoint_key=touchpoint.key).verdict
        for c in contacts
    ]
    shown = sum(v.show for v in verdicts)
    assert {v.reason for v in verdicts} == {"shown", "sampled_out"}
    assert 340 <= shown <= 460  # 20 % of 2,000 ± 3 percentage points (the pure test checks 10,000)
    out = next(c for c, v in zip(contacts, verdicts, strict=True) if not v.show)
    for _ in range(3):
        assert (
            display_claim(
                project=project, contact=out, touchpoint_key=touchpoint.key
            ).verdict.reason
            == "sampled_out"
        )
    assert survey.displays.count() == shown


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
            verdict = display_claim(
                project=project, contact=contact, touchpoint_key=touchpoint.key
            ).verdict
        return len(ctx.captured_queries), verdict.reason

    short, long = contact_with_history(1), contact_with_history(200)
    shown_short, shown_long = queries(short), queries(long)
    assert shown_short == shown_long
    assert shown_short[1] == "shown"
    refused_short, refused_long = queries(short), queries(long)
    assert refused_short == refused_long
    assert refused_short[1] == "survey_cooldown"
    assert shown_short[0] <= 8
