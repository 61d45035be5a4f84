"""Churn rate, revenue and CLV per period, and outcomes by last NPS category and by
recovery — exact figures from a small hand-built population."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from feedback.models import Answer, Case, OperationalEvent, Response
from feedback.responses import contacts_backfill_last_nps
from metrics.lifecycle import churn_series, outcomes_by_nps, outcomes_by_recovery
from surveys.models import Contact, Question
from tests.factories import published_survey

pytestmark = pytest.mark.django_db


def at(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(tzinfo=UTC)


@pytest.fixture
def population(project, touchpoint):
    """Ten contacts created in December. In January two churn; in February one more.
    Revenue: January 100, February 50."""
    contacts = [
        Contact.objects.create(project=project, user_id=f"c{i}", created_at=at("2025-12-01"))
        for i in range(10)
    ]
    for contact, day in (
        (contacts[0], "2026-01-10"),
        (contacts[1], "2026-01-20"),
        (contacts[2], "2026-02-05"),
    ):
        contact.lifecycle, contact.churned_at = "churned", at(day)
        contact.save()
    OperationalEvent.objects.create(
        project=project,
        contact=contacts[3],
        event="order_placed",
        occurred_at=at("2026-01-15"),
        revenue=Decimal("100"),
    )
    OperationalEvent.objects.create(
        project=project,
        contact=contacts[4],
        event="order_placed",
        occurred_at=at("2026-02-15"),
        revenue=Decimal("50"),
    )
    return contacts


def test_churn_rate_revenue_and_clv_per_month(project, population):
    report = churn_series(project, since=date(2026, 1, 1), until=date(2026, 2, 28), margin=0.5)
    assert report["series"] == [
        {
            "period_start": "2026-01-01",
            "active_at_start": 10,
            "churned": 2,
            "churn_rate": 20.0,
            "revenue": "100.00",
            "revenue_per_contact": 10.0,
        },
        {
            "period_start": "2026-02-01",
            "active_at_start": 8,
            "churned": 1,
            "churn_rate": 12.5,
            "revenue": "50.00",
            "revenue_per_contact": 6.25,
        },
    ]
    # average revenue per contact per month 8.125 × margin 0.5 / average churn 16.25 % = 25.0
    assert report["clv"] == 25.0


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


def test_outcomes_by_last_nps_and_by_recovery(project, touchpoint, population):
    survey = published_survey(project, touchpoints=[touchpoint])
    c = population
    _answer(project, survey, c[0], 9, "2025-12-01")
    _answer(project, survey, c[0], 2, "2025-12-20")  # the latest answer decides: detractor
    _answer(project, survey, c[1], 3, "2025-12-05")
    _answer(project, survey, c[3], 10, "2025-12-05")
    _answer(project, survey, c[4], 7, "2025-12-05")
    Contact.objects.filter(pk=c[3].pk).update(revenue_total=Decimal("100"))
    # Inserted outside the pipeline: four contacts answered, the latest answer counts.
    assert contacts_backfill_last_nps(project=project) == 4
    assert [Contact.objects.get(pk=x.pk).last_nps for x in c[:5]] == [2, 3, None, 10, 7]
    assert outcomes_by_nps(project) == [
        {
            "category": "promoter",
            "contacts": 1,
            "churned": 0,
            "churn_share": 0.0,
            "average_revenue": "100.00",
        },
        {
            "category": "passive",
            "contacts": 1,
            "churned": 0,
            "churn_share": 0.0,
            "average_revenue": "0.00",
        },
        {
            "category": "detractor",
            "contacts": 2,
            "churned": 2,
            "churn_share": 100.0,
            "average_revenue": "0.00",
        },
    ]
    # c5 was a detractor whose case was closed and who was recovered; c0's was not.
    rec = _answer(project, survey, c[5], 1, "2025-12-02")
    lost = Response.objects.filter(contact=c[0]).order_by("finished_at").last()
    Case.objects.create(
        project=project,
        contact=c[5],
        response=rec,
        title="r",
        status="closed",
        recovered=True,
        due_at=at("2026-01-01"),
    )
    Case.objects.create(
        project=project,
        contact=c[0],
        response=lost,
        title="l",
        status="closed",
        due_at=at("2026-01-01"),
    )
    assert outcomes_by_recovery(project) == [
        {
            "recovery": "not recovered",
            "contacts": 1,
            "churned": 1,
            "churn_share": 100.0,
            "average_revenue": "0.00",
        },
        {
            "recovery": "recovered",
            "contacts": 1,
            "churned": 0,
            "churn_share": 0.0,
            "average_revenue": "0.00",
        },
    ]


def test_churn_api_answers_with_the_same_figures(server_client, population):
    body = server_client.get(
        "/api/v1/metrics/churn?since=2026-01-01&until=2026-02-28&margin=0.5"
    ).json()
    assert [p["churn_rate"] for p in body["series"]] == [20.0, 12.5]
    assert body["clv"] == 25.0
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
    from feedback.responses import contact_last_nps_update

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
