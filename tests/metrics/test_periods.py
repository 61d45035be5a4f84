"""Periods people can read (DESIGN.md §7, issue 25 item 7): days and weeks are cut in the
project's timezone, and a series point says `partial: true` when `since`/`until` cuts its
period or the period is not over yet. Runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import pytest
import time_machine
from django.test import Client

from feedback.answering.services import AnswerIn, response_submit
from metrics.rollups.models import Rollup
from metrics.rollups.services import rollups_rebuild
from surveys.delivery.ledger import contact_resolve, display_claim
from surveys.tenancy.project_settings import project_update
from tests.factories import MembershipFactory, UserFactory, published_survey
from vocsite.errors import ApplicationError

pytestmark = pytest.mark.django_db

# 17:30 UTC on 1 March is 01:30 on 2 March in Shanghai (UTC+8).
EVENING_UTC = datetime(2026, 3, 1, 17, 30, tzinfo=UTC)


@pytest.fixture
def nps(project, touchpoint):
    project.recontact_days = 0
    project.frequency_cap = 10_000
    project.save()
    return published_survey(
        project, touchpoints=[touchpoint], display_option="always", recontact_days=0
    )


def answer_at(project, survey, score: int, at: datetime, capture) -> None:
    question_id = survey.current_version.snapshot["questions"][0]["id"]
    with time_machine.travel(at, tick=False):
        contact = contact_resolve(project=project, visitor_id=f"v-{uuid.uuid4()}")
        display = display_claim(
            project=project, contact=contact, touchpoint_key="checkout_completed"
        ).display
        with capture(execute=True):
            response_submit(
                project=project,
                display=display,
                submission_id=uuid.uuid4(),
                answers=[AnswerIn(question_id, score)],
                finished=True,
            )


def days() -> list[str]:
    return sorted({r.day.isoformat() for r in Rollup.objects.all()})


def put(project, survey, day: date, count: int = 1) -> None:
    """A rollup cell as the pipeline writes it (reads only need the histogram)."""
    Rollup.objects.create(
        project=project,
        survey=survey,
        question_uid=uuid.uuid4(),
        question_type="nps",
        scale_max=10,
        touchpoint_key="checkout_completed",
        day=day,
        score=10,
        count=count,
    )


def series(client, query: str, now: datetime) -> list[tuple[str, int, bool]]:
    with time_machine.travel(now, tick=False):
        body = client.get(f"/api/v1/metrics?metric=nps&{query}").json()
    return [(p["period_start"], p["n"], p["partial"]) for p in body["series"]]


def test_a_project_in_shanghai_counts_an_evening_utc_answer_on_the_next_day(
    server_client, project, nps, django_capture_on_commit_callbacks
):
    project_update(project=project, timezone="Asia/Shanghai")
    answer_at(project, nps, 10, EVENING_UTC, django_capture_on_commit_callbacks)
    assert days() == ["2026-03-02"]
    rollups_rebuild(project=project)
    assert days() == ["2026-03-02"]
    later = datetime(2026, 3, 5, tzinfo=UTC)
    assert series(server_client, "since=2026-03-02&until=2026-03-02", later) == [
        ("2026-03-02", 1, False)
    ]
    assert series(server_client, "until=2026-03-01", later) == []


def test_a_utc_project_counts_it_on_the_same_day(
    server_client, project, nps, django_capture_on_commit_callbacks
):
    answer_at(project, nps, 10, EVENING_UTC, django_capture_on_commit_callbacks)
    assert days() == ["2026-03-01"]


def test_a_timezone_change_recounts_the_history(project, nps, django_capture_on_commit_callbacks):
    answer_at(project, nps, 10, EVENING_UTC, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        project_update(project=project, timezone="Asia/Shanghai")
    assert days() == ["2026-03-02"]
    with django_capture_on_commit_callbacks(execute=True):
        project_update(project=project, timezone="America/Los_Angeles")
    assert days() == ["2026-03-01"]  # 09:30 in Los Angeles
    cells = sorted(Rollup.objects.values_list("pk", "count"))
    with django_capture_on_commit_callbacks(execute=True):
        project_update(project=project, recontact_days=3)
    # Other settings leave the rollups alone: a rebuild would have written new cells.
    assert sorted(Rollup.objects.values_list("pk", "count")) == cells


def test_the_timezone_is_set_in_settings_and_checked(
    project, nps, django_capture_on_commit_callbacks
):
    answer_at(project, nps, 10, EVENING_UTC, django_capture_on_commit_callbacks)
    admin = UserFactory()
    MembershipFactory(user=admin, project=project, role="admin")
    client = Client()
    client.force_login(admin)
    page = client.get("/app/settings/").content.decode()
    assert '<option value="Asia/Shanghai">' in page
    data = {
        "section": "settings",
        "name": project.name,
        "allowed_origins": "",
        "languages": ", ".join(project.languages),
        "default_language": project.default_language,
        "recontact_days": project.recontact_days,
        "frequency_cap": 100,
        "frequency_window_days": project.frequency_window_days,
        "breakdown_attributes": "",
        "feedback_tab_enabled": "on",
    }
    refused = client.post("/app/settings/", {**data, "timezone": "Mars/Olympus_Mons"})
    assert refused.status_code == 200
    assert "Select a valid choice" in refused.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        saved = client.post("/app/settings/", {**data, "timezone": "Asia/Shanghai"})
    assert saved.status_code == 302
    project.refresh_from_db()
    assert project.timezone == "Asia/Shanghai"
    assert days() == ["2026-03-02"]


def test_the_service_refuses_an_unknown_timezone(project):
    with pytest.raises(ApplicationError) as refused:
        project_update(project=project, timezone="Europe/Atlantis")
    assert refused.value.fields == {
        "timezone": ["An IANA timezone name such as UTC, Europe/Berlin or Asia/Shanghai."]
    }


def test_weeks_cut_by_since_and_until_are_partial(server_client, project, nps):
    # Weeks start on Monday: 2 March, 9 March, 16 March 2026.
    for day in (date(2026, 3, 4), date(2026, 3, 10), date(2026, 3, 18)):
        put(project, nps, day)
    after = datetime(2026, 4, 1, tzinfo=UTC)
    assert series(server_client, "interval=week&since=2026-03-04&until=2026-03-18", after) == [
        ("2026-03-02", 1, True),
        ("2026-03-09", 1, False),
        ("2026-03-16", 1, True),
    ]
    assert series(server_client, "interval=week&since=2026-03-02&until=2026-03-22", after) == [
        ("2026-03-02", 1, False),
        ("2026-03-09", 1, False),
        ("2026-03-16", 1, False),
    ]


def test_a_month_not_over_yet_is_partial(server_client, project, nps):
    put(project, nps, date(2026, 2, 10))
    put(project, nps, date(2026, 3, 1), count=2)
    mid_march = datetime(2026, 3, 15, 12, tzinfo=UTC)
    assert series(server_client, "interval=month", mid_march) == [
        ("2026-02-01", 1, False),
        ("2026-03-01", 2, True),
    ]
    april = datetime(2026, 4, 1, 12, tzinfo=UTC)
    assert series(server_client, "interval=month", april) == [
        ("2026-02-01", 1, False),
        ("2026-03-01", 2, False),
    ]
    # A month cut by since or until is partial too, even long after it ended.
    assert series(server_client, "interval=month&since=2026-02-11", april) == [
        ("2026-03-01", 2, False)
    ]
    assert series(server_client, "interval=month&since=2026-02-10&until=2026-03-30", april) == [
        ("2026-02-01", 1, True),
        ("2026-03-01", 2, True),
    ]


def test_today_is_partial_in_the_projects_timezone(server_client, project, nps):
    put(project, nps, date(2026, 3, 1))
    put(project, nps, date(2026, 3, 2))
    # 17:30 UTC on 1 March: still 1 March in London, already 2 March in Shanghai.
    assert series(server_client, "interval=day", EVENING_UTC) == [
        ("2026-03-01", 1, True),
        ("2026-03-02", 1, True),
    ]
    project_update(project=project, timezone="Asia/Shanghai")
    assert series(server_client, "interval=day", EVENING_UTC) == [
        ("2026-03-01", 1, False),
        ("2026-03-02", 1, True),
    ]
