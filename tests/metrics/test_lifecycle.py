"""Churn, revenue and CLV per period, and outcomes by last NPS category and by recovery — exact
figures from small hand-built populations whose lifecycle comes from operational events sent
through the events service or API (DESIGN.md §7: customers, history in event time, CLV over
the whole window)."""

from __future__ import annotations

import importlib
import random
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.db.migrations.loader import MigrationLoader

from feedback.answering.models import Answer, Response
from feedback.answering.services import contacts_backfill_last_nps
from feedback.cases.models import Case
from metrics.churn.services import CHURN_METHOD, churn_series, outcomes_by_nps, outcomes_by_recovery
from surveys.contacts.lifecycle import EventFact, lifecycle_changes
from surveys.contacts.models import Contact, LifecycleChange, OperationalEvent
from surveys.contacts.services import ContactIn, contact_erase, contact_upsert
from surveys.delivery.events import EventIn, contacts_lifecycle_rebuild, event_record
from surveys.design.models import Question
from tests.factories import published_survey

pytestmark = pytest.mark.django_db


def at(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(tzinfo=UTC)


def send(project, user: str | None, event: str, day: str, revenue: str | None = None):
    return event_record(
        project=project,
        data=EventIn(
            event=event,
            user_id=user,
            occurred_at=at(day),
            revenue=None if revenue is None else Decimal(revenue),
        ),
    ).event


def history(contact) -> list[tuple[str, str, str | None]]:
    return [
        (kind, occurred.date().isoformat(), ended and ended.date().isoformat())
        for kind, occurred, ended in LifecycleChange.objects.filter(contact=contact)
        .order_by("occurred_at", "pk")
        .values_list("kind", "occurred_at", "ended_at")
    ]


@pytest.fixture
def population(project, touchpoint):
    """Ten customers since 1 December, their events sent now (all back-dated). In January two
    churn; in February one more. Revenue: January 100 (c3), February 50 (c4)."""
    for i in range(10):
        send(project, f"c{i}", "subscription_started", "2025-12-01")
    send(project, "c0", "subscription_cancelled", "2026-01-10")
    send(project, "c1", "subscription_cancelled", "2026-01-20")
    send(project, "c2", "account_closed", "2026-02-05")
    send(project, "c3", "order_placed", "2026-01-15", "100")
    send(project, "c4", "order_placed", "2026-02-15", "50")
    return [Contact.objects.get(project=project, user_id=f"c{i}") for i in range(10)]


JANUARY_FEBRUARY = [
    {
        "period_start": "2026-01-01",
        "partial": False,
        "active_at_start": 10,
        "churned": 2,
        "churn_events": 2,
        "churn_rate": 20.0,
        "churn_rate_ci_low": 5.67,
        "churn_rate_ci_high": 50.98,
        "churn_rate_n": 10,
        "active_in_period": 10,
        "revenue": "100.00",
        "revenue_per_contact": 10.0,
    },
    {
        "period_start": "2026-02-01",
        "partial": False,
        "active_at_start": 8,
        "churned": 1,
        "churn_events": 1,
        "churn_rate": 12.5,
        "churn_rate_ci_low": 2.24,
        "churn_rate_ci_high": 47.09,
        "churn_rate_n": 8,
        "active_in_period": 8,
        "revenue": "50.00",
        "revenue_per_contact": 6.25,
    },
]


def test_churn_rate_revenue_and_clv_per_month(project, population):
    report = churn_series(project, since=date(2026, 1, 1), until=date(2026, 2, 28), margin=0.5)
    # The contact rows were made today: only their history puts them in January.
    assert all(c.created_at > at("2026-11-01") for c in population)
    assert report["series"] == JANUARY_FEBRUARY
    # average revenue per customer per month 8.125 × margin 0.5 / average churn 16.25 % = 25.0
    assert (report["clv"], report["clv_reason"], report["clv_periods"]) == (25.0, None, 2)
    assert (report["average_churn_rate"], report["average_revenue_per_contact"]) == (16.25, 8.12)
    assert report["method"] == CHURN_METHOD


def test_a_thousand_anonymous_visitors_change_nothing(project, population):
    # Widget visitors since November: the rows the old count took for active customers.
    Contact.objects.bulk_create(
        [Contact(project=project, created_at=at("2025-11-01")) for _ in range(1000)]
    )
    # Neither is a contact known to the company's systems but without any event, nor revenue
    # sent without a user_id.
    contact_upsert(project=project, user_id="no-events", data=ContactIn(email="n@example.com"))
    send(project, None, "order_placed", "2026-01-12", "999")
    assert Contact.objects.filter(project=project).count() == 1011
    report = churn_series(project, since=date(2026, 1, 1), until=date(2026, 2, 28), margin=0.5)
    assert report["series"] == JANUARY_FEBRUARY
    assert report["clv"] == 25.0


def test_back_dated_events_give_past_periods_their_customers(server_client, project):
    def post(user: str, event: str, day: str, **extra):
        body = {"user_id": user, "event": event, "occurred_at": f"{day}T12:00:00+00:00", **extra}
        assert server_client.post("/api/v1/events", body, format="json").status_code == 201

    # Sent in this order: the March order first, then the rest of the story, late.
    post("late-1", "order_placed", "2026-03-03", revenue="30.00")
    post("late-1", "subscription_started", "2026-01-05")
    post("late-1", "subscription_cancelled", "2026-02-10")
    post("late-1", "order_placed", "2025-12-20", revenue="10.00")  # the earliest, sent last
    post("late-2", "subscription_started", "2025-12-01")
    post("late-2", "subscription_cancelled", "2026-03-20")
    export = server_client.get("/api/v1/contacts/late-1").json()
    assert export["lifecycle_history"] == [
        {
            "kind": "started",
            "occurred_at": "2025-12-20T12:00:00+00:00",
            "ended_at": "2026-02-10T12:00:00+00:00",
        },
        {
            "kind": "churned",
            "occurred_at": "2026-02-10T12:00:00+00:00",
            "ended_at": "2026-03-03T12:00:00+00:00",
        },
        {"kind": "reactivated", "occurred_at": "2026-03-03T12:00:00+00:00", "ended_at": None},
    ]
    # The contact's state is its latest change by time, not the last event to arrive.
    assert (export["contact"]["lifecycle"], export["contact"]["churned_at"]) == ("active", None)
    assert export["contact"]["revenue_total"] == "40.00"
    assert server_client.get("/api/v1/contacts/late-2").json()["contact"]["lifecycle"] == "churned"
    body = server_client.get("/api/v1/metrics/churn?since=2026-01-01&until=2026-03-31").json()
    assert [
        (p["period_start"], p["active_at_start"], p["churned"], p["active_in_period"])
        for p in body["series"]
    ] == [("2026-01-01", 2, 0, 2), ("2026-02-01", 2, 1, 2), ("2026-03-01", 1, 1, 2)]
    assert [p["revenue"] for p in body["series"]] == ["0.00", "0.00", "30.00"]


def test_cancel_reactivate_cancel_counts_two_churns(project):
    send(project, "twice", "subscription_started", "2025-12-01")
    send(project, "twice", "subscription_cancelled", "2026-01-10")
    send(project, "twice", "reactivated", "2026-02-03")
    send(project, "twice", "churned", "2026-03-12")
    send(project, "twice", "subscription_cancelled", "2026-03-15")  # already gone: no change
    send(project, "steady", "subscription_started", "2025-12-01")
    report = churn_series(project, since=date(2026, 1, 1), until=date(2026, 3, 31))
    assert [
        (p["active_at_start"], p["churned"], p["churn_events"], p["churn_rate"])
        for p in report["series"]
    ] == [(2, 1, 1, 50.0), (1, 0, 0, 0.0), (2, 1, 1, 50.0)]
    assert sum(p["churned"] for p in report["series"]) == 2
    contact = Contact.objects.get(project=project, user_id="twice")
    assert history(contact) == [
        ("started", "2025-12-01", "2026-01-10"),
        ("churned", "2026-01-10", "2026-02-03"),
        ("reactivated", "2026-02-03", "2026-03-12"),
        ("churned", "2026-03-12", None),
    ]
    assert (contact.lifecycle, contact.churned_at) == ("churned", at("2026-03-12"))


def test_churns_within_one_period_count_once_there_and_every_churn_is_listed(project):
    """Churns of customers who joined or came back during a period are churn_events; the rate
    counts customers active at the start, so it stays a proportion."""
    send(project, "a", "subscription_started", "2025-12-01")
    send(project, "a", "subscription_cancelled", "2026-04-02")
    send(project, "a", "subscription_renewed", "2026-04-10")
    send(project, "a", "subscription_cancelled", "2026-04-20")
    send(project, "b", "subscription_started", "2026-04-05")
    send(project, "b", "account_closed", "2026-04-25")
    (april,) = churn_series(project, since=date(2026, 4, 1), until=date(2026, 4, 30))["series"]
    assert (april["active_at_start"], april["churned"], april["churn_events"]) == (1, 1, 3)
    assert (april["churn_rate"], april["active_in_period"]) == (100.0, 2)


def test_clv_averages_every_period_of_the_window_zero_churn_months_included(server_client, project):
    """Ten customers since July. Revenue per customer by month: August 200/10, September
    100/10, October 90/9, November 45/9, December 160/8; churn only in September (1 of 10) and
    November (1 of 9). Leaving out the months without churn (the old figure) gave 7.5 / 10.56 %
    = 71.05; over the whole window it is 13 / 4.22 % = 307.89."""
    for i in range(10):
        send(project, f"k{i}", "subscription_started", "2025-07-01")
    send(project, "k0", "order_placed", "2025-08-08", "200")
    send(project, "k1", "order_placed", "2025-09-09", "100")
    send(project, "k9", "subscription_cancelled", "2025-09-15")
    send(project, "k2", "order_placed", "2025-10-10", "90")
    send(project, "k3", "order_placed", "2025-11-11", "45")
    send(project, "k8", "subscription_cancelled", "2025-11-20")
    send(project, "k4", "order_placed", "2025-12-12", "160")
    body = server_client.get(
        "/api/v1/metrics/churn?since=2025-08-01&until=2025-12-31&margin=0.4"
    ).json()
    assert [
        (p["churn_rate"], p["active_in_period"], p["revenue"], p["revenue_per_contact"])
        for p in body["series"]
    ] == [
        (0.0, 10, "200.00", 20.0),
        (10.0, 10, "100.00", 10.0),
        (0.0, 9, "90.00", 10.0),
        (11.11, 9, "45.00", 5.0),
        (0.0, 8, "160.00", 20.0),
    ]
    assert (body["average_revenue_per_contact"], body["average_churn_rate"]) == (13.0, 4.22)
    assert (body["clv"], body["clv_reason"], body["clv_periods"]) == (123.16, None, 5)
    assert body["clv"] == round(13 * 0.4 / ((1 / 10 + 1 / 9) / 5), 2)


def test_no_churn_in_the_window_gives_no_clv_and_says_why(server_client, project):
    body = server_client.get("/api/v1/metrics/churn?since=2026-01-01&until=2026-02-28").json()
    assert (body["clv"], body["clv_periods"]) == (None, 0)
    assert body["clv_reason"] == (
        "No customers were active at the start of any period from 2026-01-01 to 2026-02-28, "
        "so there is no churn rate to divide by."
    )
    send(project, "stays", "subscription_started", "2025-12-01")
    send(project, "stays", "order_placed", "2026-01-15", "80")
    body = server_client.get("/api/v1/metrics/churn?since=2026-01-01&until=2026-02-28").json()
    assert [p["churn_rate"] for p in body["series"]] == [0.0, 0.0]
    assert [p["churn_rate_ci_high"] for p in body["series"]] == [79.35, 79.35]
    assert (body["clv"], body["average_churn_rate"], body["clv_periods"]) == (None, 0.0, 2)
    assert (body["average_revenue_per_contact"]) == 40.0
    assert body["clv_reason"] == (
        "No customer churned from 2026-01-01 to 2026-02-28: with a churn rate of 0 the "
        "expected lifetime has no end, so there is no lifetime value to show."
    )


def test_revenue_per_customer_divides_by_the_population_it_sums(project):
    """February's customers: d1 (active all month), d2 (churned on the 10th), d3 (joined on the
    20th). d0 left in January; its refund in February is no customer's revenue that month."""
    for user in ("d0", "d1", "d2"):
        send(project, user, "subscription_started", "2025-12-01")
    send(project, "d0", "subscription_cancelled", "2026-01-15")
    send(project, "d0", "order_refunded", "2026-02-03", "-20")
    send(project, "d1", "order_placed", "2026-02-04", "30")
    send(project, "d2", "order_placed", "2026-02-05", "12")
    send(project, "d2", "subscription_cancelled", "2026-02-10")
    send(project, "d2", "order_refunded", "2026-02-12", "-2")  # active earlier in February
    send(project, "d3", "order_placed", "2026-02-20", "20")  # the first event: a customer now
    (february,) = churn_series(project, since=date(2026, 2, 1), until=date(2026, 2, 28))["series"]
    assert (february["active_at_start"], february["churned"], february["active_in_period"]) == (
        2,
        1,
        3,
    )
    assert (february["revenue"], february["revenue_per_contact"]) == ("60.00", 20.0)


def test_erasing_a_customer_changes_no_churn_figure(server_client, project, population):
    before = churn_series(project, since=date(2026, 1, 1), until=date(2026, 2, 28))
    contact_erase(contact=population[0])
    assert churn_series(project, since=date(2026, 1, 1), until=date(2026, 2, 28)) == before
    (january,) = churn_series(project, since=date(2026, 1, 1), until=date(2026, 1, 31))["series"]
    assert (january["active_at_start"], january["churned"]) == (10, 2)
    # The history rows stay, tied to the anonymous shell.
    assert history(population[0]) == [
        ("started", "2025-12-01", "2026-01-10"),
        ("churned", "2026-01-10", None),
    ]


def test_events_in_any_arrival_order_give_the_history_of_their_time_order(project):
    """However the events of a customer arrive, the stored history is the rule run over them
    in event time (surveys.contacts.lifecycle): the late-event replay never drifts."""
    rng = random.Random(25)
    names = ["order_placed", "subscription_cancelled", "reactivated", "ticket_closed", "churned"]
    for trial in range(40):
        user = f"r{trial}"
        story = [
            (rng.choice(names), at("2026-01-01") + timedelta(days=rng.randint(0, 60)))
            for _ in range(rng.randint(1, 8))
        ]
        revenues = [rng.choice([None, Decimal("5"), Decimal("-5")]) for _ in story]
        order = list(range(len(story)))
        rng.shuffle(order)
        stored = []
        for i in order:
            (name, moment), revenue = story[i], revenues[i]
            stored.append(
                event_record(
                    project=project,
                    data=EventIn(event=name, user_id=user, occurred_at=moment, revenue=revenue),
                ).event
            )
        expected = lifecycle_changes(
            EventFact(e.pk, e.event, e.occurred_at, e.revenue) for e in stored
        )
        contact = Contact.objects.get(project=project, user_id=user)
        assert [
            (c.kind, c.occurred_at, c.ended_at, c.event_id)
            for c in LifecycleChange.objects.filter(contact=contact).order_by("occurred_at", "pk")
        ] == [(c.kind, c.occurred_at, c.ended_at, c.event_key) for c in expected], trial
        churned = expected[-1].kind == "churned"
        assert (contact.lifecycle, contact.churned_at) == (
            "churned" if churned else "active",
            expected[-1].occurred_at if churned else None,
        )


def _stored_before(project):
    """Events stored the way they were before lifecycle history existed, contact state set by
    arrival (the cancellation then the back-dated renewal left the contact churned)."""
    old = Contact.objects.create(project=project, user_id="old", lifecycle="churned")
    old.churned_at = at("2026-02-01")
    old.save()
    for name, day in (
        ("subscription_started", "2025-11-01"),
        ("subscription_cancelled", "2026-01-10"),
        ("order_placed", "2025-12-01"),
        ("subscription_renewed", "2026-02-01"),
        ("subscription_cancelled", "2026-02-01"),
    ):
        OperationalEvent.objects.create(
            project=project, contact=old, event=name, occurred_at=at(day)
        )
    return old


def test_the_migration_rebuilds_history_from_the_stored_events(project):
    migration = importlib.import_module("surveys.migrations.0010_lifecycle_history")
    old = _stored_before(project)
    # The models as that migration saw them (operational events were still in feedback then).
    state = MigrationLoader(connection).project_state(("surveys", "0010_lifecycle_history"))
    migration.history_rebuild(state.apps, None)
    old.refresh_from_db()
    assert history(old) == [
        ("started", "2025-11-01", "2026-01-10"),
        ("churned", "2026-01-10", "2026-02-01"),
        ("reactivated", "2026-02-01", "2026-02-01"),
        ("churned", "2026-02-01", None),
    ]
    assert (old.lifecycle, old.churned_at) == ("churned", at("2026-02-01"))


def test_a_bulk_rebuild_writes_what_the_events_service_writes(project):
    old = _stored_before(project)
    assert contacts_lifecycle_rebuild(project=project) == 4
    rebuilt = history(old)
    assert len(rebuilt) == 4
    for event in OperationalEvent.objects.filter(contact=old).order_by("pk"):
        send(project, "again", event.event, event.occurred_at.date().isoformat())
    assert history(Contact.objects.get(user_id="again")) == rebuilt
    old.refresh_from_db()
    assert (old.lifecycle, old.churned_at) == ("churned", at("2026-02-01"))


def _answer(project, survey, contact, score: int, day: str):
    version = survey.current_version
    question = Question.objects.get(version=version, position=0)
    response = Response.objects.create(
        project=project,
        survey=survey,
        version=version,
        contact=contact,
        submission_id=uuid.uuid4(),
        finished=True,
        finished_at=at(day),
    )
    Answer.objects.create(
        response=response, question=question, question_type="nps", value_int=score
    )
    return response


def _outcome(key, value, contacts, churned, share, low, high, revenue):
    return {
        key: value,
        "contacts": contacts,
        "churned": churned,
        "churn_share": share,
        "churn_share_ci_low": low,
        "churn_share_ci_high": high,
        "churn_share_n": contacts,
        "average_revenue": revenue,
    }


def test_outcomes_by_last_nps_and_by_recovery(project, touchpoint, population):
    survey = published_survey(project, touchpoints=[touchpoint])
    c = population
    _answer(project, survey, c[0], 9, "2025-12-01")
    _answer(project, survey, c[0], 2, "2025-12-20")  # the latest answer decides: detractor
    _answer(project, survey, c[1], 3, "2025-12-05")
    _answer(project, survey, c[3], 10, "2025-12-05")
    _answer(project, survey, c[4], 7, "2025-12-05")
    # An anonymous visitor's answer: not a customer, in no outcome.
    visitor = Contact.objects.create(project=project)
    _answer(project, survey, visitor, 0, "2025-12-06")
    # Inserted outside the pipeline: five contacts answered, the latest answer counts.
    assert contacts_backfill_last_nps(project=project) == 5
    assert [Contact.objects.get(pk=x.pk).last_nps for x in c[:5]] == [2, 3, None, 10, 7]
    assert outcomes_by_nps(project) == [
        _outcome("category", "promoter", 1, 0, 0.0, 0.0, 79.35, "100.00"),
        _outcome("category", "passive", 1, 0, 0.0, 0.0, 79.35, "50.00"),
        _outcome("category", "detractor", 2, 2, 100.0, 34.24, 100.0, "0.00"),
    ]
    # c5 was a detractor whose case was closed and who was recovered; c0's was not.
    rec = _answer(project, survey, c[5], 1, "2025-12-02")
    lost = Response.objects.filter(contact=c[0]).order_by("finished_at").last()
    for contact, response, recovered in ((c[5], rec, True), (c[0], lost, False)):
        Case.objects.create(
            project=project,
            contact=contact,
            response=response,
            title="r",
            status="closed",
            recovered=recovered,
            due_at=at("2026-01-01"),
        )
    Case.objects.create(
        project=project,
        contact=visitor,
        response=Response.objects.get(contact=visitor),
        title="v",
        status="closed",
        due_at=at("2026-01-01"),
    )
    assert outcomes_by_recovery(project) == [
        _outcome("recovery", "not recovered", 1, 1, 100.0, 20.65, 100.0, "0.00"),
        _outcome("recovery", "recovered", 1, 0, 0.0, 0.0, 79.35, "0.00"),
    ]


def test_churn_api_answers_with_the_same_figures(server_client, population):
    body = server_client.get(
        "/api/v1/metrics/churn?since=2026-01-01&until=2026-02-28&margin=0.5"
    ).json()
    assert body["series"] == JANUARY_FEBRUARY
    assert (body["clv"], body["clv_reason"]) == (25.0, None)
    assert [(o["category"], o["churn_share_n"]) for o in body["by_last_nps"]] == []
    assert (
        server_client.get("/api/v1/metrics/churn?since=2026-03-01&until=2026-01-01").status_code
        == 400
    )


def test_the_pipeline_keeps_the_latest_nps_on_the_contact(project, respond):
    respond(9, user="p1")
    contact = Contact.objects.get(user_id="p1")
    assert contact.last_nps == 9
    second = respond(3, user="p1")
    contact.refresh_from_db()
    assert (contact.last_nps, contact.last_nps_at) == (3, second.finished_at)
    from feedback.answering.services import contact_last_nps_update

    first = Response.objects.filter(contact=contact).order_by("finished_at").first()
    assert contact_last_nps_update(first.pk) is False  # an older answer processed late: ignored
    contact.refresh_from_db()
    assert contact.last_nps == 3


def test_churn_default_period_stops_at_the_first_date_there_is(server_client, population):
    """Found by the schemathesis suite: a year back from 0001-07-24 was an OverflowError (500)."""
    response = server_client.get("/api/v1/metrics/churn?until=0001-07-24")
    assert response.status_code == 200
    body = response.json()
    assert body["series"][0]["period_start"] == "0001-01-01"
    assert body["clv_reason"].startswith("No customers were active")


def test_churn_periods_are_the_projects_days(server_client, project):
    """A churn at 17:00 UTC on 31 March is 1 April in Shanghai: April's, for a Shanghai project."""
    send(project, "late", "subscription_started", "2026-01-15T00:00")
    send(project, "late", "churned", "2026-03-31T17:00")
    project.timezone = "Asia/Shanghai"
    project.save(update_fields=["timezone"])
    body = server_client.get("/api/v1/metrics/churn?since=2026-03-01&until=2026-04-30").json()
    assert [(p["period_start"], p["churn_events"]) for p in body["series"]] == [
        ("2026-03-01", 0),
        ("2026-04-01", 1),
    ]
    project.timezone = "UTC"
    project.save(update_fields=["timezone"])
    body = server_client.get("/api/v1/metrics/churn?since=2026-03-01&until=2026-04-30").json()
    assert [(p["period_start"], p["churn_events"]) for p in body["series"]] == [
        ("2026-03-01", 1),
        ("2026-04-01", 0),
    ]
