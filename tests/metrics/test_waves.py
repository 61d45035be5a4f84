"""A recurring survey's waves (issue 30, item 2): which wave each answer belongs to, the score of
each wave with its interval and n, and how each person moved between consecutive waves — on the
survey's results page and through the metrics API, one project never seeing another's."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.test import Client
from hypothesis import given
from hypothesis import strategies as st
from rest_framework.test import APIClient

from feedback.answering.services import AnswerIn, response_submit
from metrics.reports.waves import nps_movements, wave_days, wave_of
from surveys.contacts.models import Contact
from surveys.delivery.ledger import contact_resolve, display_claim
from surveys.design.services import QuestionIn
from surveys.tenancy.services import api_key_create
from tests.factories import (
    MembershipFactory,
    ProjectFactory,
    TouchpointFactory,
    UserFactory,
    answered,
    published_survey,
)

pytestmark = pytest.mark.django_db

PUBLISHED = datetime(2025, 1, 6, 10, tzinfo=UTC)
# Who answered what, on which day after the first publish. Waves are 90 days: days 0–89 are
# wave 1, 90–179 wave 2, 180–269 wave 3. Each person is asked again 90 days after their last
# display, so u8 (day 80, then day 170) is asked again on the first day it may be.
ANSWERS = [
    ("u1", 1, 3),
    ("u2", 2, 5),
    ("u3", 3, 6),
    ("u4", 4, 8),
    ("u5", 5, 9),
    ("u6", 6, 10),  # wave 1 only
    ("u9", 10, 4),  # wave 1, then wave 3: in neither pair of consecutive waves
    ("u8", 80, 7),
    ("u1", 91, 10),  # detractor → promoter
    ("u2", 95, 9),  # detractor → promoter, then promoter → detractor in wave 3
    ("u3", 100, 7),  # detractor → passive
    ("u4", 101, 8),  # passive → passive
    ("u5", 102, 2),  # promoter → detractor
    ("u7", 120, 0),  # wave 2 only
    ("u8", 170, 10),  # passive → promoter
    ("u2", 190, 6),
    ("u9", 200, 9),
]
WAVE_ROWS = [  # (wave, first day, last day, n, NPS, ci_low, ci_high)
    (1, "2025-01-06", "2025-04-05", 8, -25.0, -65.78, 29.42),
    (2, "2025-04-06", "2025-07-04", 7, 14.29, -39.58, 59.58),
    (3, "2025-07-05", "2025-10-02", 2, 0.0, -73.34, 73.34),
]


def zeros() -> dict[str, int]:
    return {"detractor": 0, "passive": 0, "promoter": 0}


@pytest.fixture
def quarterly(project, touchpoint):
    """A relationship NPS asked every 90 days, answered by nine people over three waves."""
    with time_machine.travel(PUBLISHED, tick=False):
        survey = published_survey(
            project, touchpoints=[touchpoint], name="Relationship NPS", recurrence_days=90
        )
    for user, day, score in ANSWERS:
        with time_machine.travel(PUBLISHED + timedelta(days=day), tick=False):
            answered(survey, score, user_id=user)
    return survey


def contact_id(project, user: str) -> int:
    return Contact.objects.get(project=project, user_id=user).pk


@pytest.fixture
def staff(project) -> Client:
    client = Client()
    user = UserFactory()
    MembershipFactory(user=user, project=project, role="agent")
    client.force_login(user)
    return client


@given(st.integers(-100, 3000), st.integers(1, 400))
def test_every_day_lies_in_the_days_of_its_wave(offset, days):
    first = date(2025, 1, 6)
    day = first + timedelta(days=offset)
    start, end = wave_days(wave_of(day, first_day=first, days=days), first_day=first, days=days)
    assert (end - start).days == days - 1
    assert start <= day <= end or (day < first and start == first)


@given(
    st.dictionaries(
        st.integers(1, 50), st.dictionaries(st.integers(1, 4), st.integers(0, 10), max_size=4)
    )
)
def test_movements_count_each_person_in_both_waves_once(latest):
    movements = nps_movements(latest, range(1, 5))
    assert [(m.from_wave, m.to_wave) for m in movements] == [(1, 2), (2, 3), (3, 4)]
    for m in movements:
        both = sorted(c for c, w in latest.items() if m.from_wave in w and m.to_wave in w)
        assert m.contacts == len(both) == m.improved + m.unchanged + m.declined
        assert m.detractors_to_promoters == [
            c for c in both if latest[c][m.from_wave] <= 6 and latest[c][m.to_wave] >= 9
        ]


def test_wave_numbers_and_days():
    first = date(2025, 1, 6)
    assert [wave_of(first + timedelta(days=d), first_day=first, days=90) for d in (0, 89, 90)] == [
        1,
        1,
        2,
    ]
    assert wave_of(date(2024, 12, 31), first_day=first, days=90) == 1
    assert wave_days(3, first_day=first, days=90) == (date(2025, 7, 5), date(2025, 10, 2))


def test_an_answer_counts_in_the_wave_its_person_was_asked_in(server_client, project, touchpoint):
    """Asked on day 89 (the last day of wave 1), answered on day 95: wave 1."""
    with time_machine.travel(PUBLISHED, tick=False):
        survey = published_survey(project, touchpoints=[touchpoint], recurrence_days=90)
    with time_machine.travel(PUBLISHED + timedelta(days=89), tick=False):
        contact = contact_resolve(project=project, visitor_id=None, user_id="late")
        claim = display_claim(project=project, contact=contact, touchpoint_key=touchpoint.key)
    with time_machine.travel(PUBLISHED + timedelta(days=95), tick=False):
        question = claim.display.version.snapshot["questions"][0]
        response_submit(
            project=project,
            display=claim.display,
            submission_id=uuid.uuid4(),
            answers=[AnswerIn(question["id"], 10)],
            finished=True,
        )
    body = server_client.get(f"/api/v1/metrics/waves?survey={survey.pk}").json()
    assert [(w["wave"], w["n"], w["score"]) for w in body["waves"]] == [(1, 1, 100.0)]


def test_the_api_gives_each_waves_score_and_who_moved(server_client, project, quarterly):
    body = server_client.get(f"/api/v1/metrics/waves?survey={quarterly.pk}").json()
    assert (body["survey"], body["metric"], body["recurrence_days"], body["first_day"]) == (
        quarterly.pk,
        "nps",
        90,
        "2025-01-06",
    )
    assert [
        (w["wave"], w["start"], w["end"], w["n"], w["score"], w["ci_low"], w["ci_high"])
        for w in body["waves"]
    ] == WAVE_ROWS
    assert [(w["promoters"], w["passives"], w["detractors"]) for w in body["waves"]] == [
        (2, 2, 4),
        (3, 2, 2),
        (1, 0, 1),
    ]
    assert [w["partial"] for w in body["waves"]] == [False, False, False]
    assert body["waves"][0]["change"] is None
    assert [
        (w["change"]["diff"], w["change"]["z"], w["change"]["p_value"]) for w in body["waves"][1:]
    ] == [
        (39.29, 1.12, 0.2626),
        (-14.29, -0.32, 0.7518),
    ]
    assert not any(w["change"]["significant"] for w in body["waves"][1:])

    first, second = body["movements"]
    assert (first["from_wave"], first["to_wave"], first["contacts"]) == (1, 2, 6)
    assert (first["improved"], first["unchanged"], first["declined"]) == (4, 1, 1)
    assert first["matrix"] == {
        "detractor": {"detractor": 0, "passive": 1, "promoter": 2},
        "passive": {"detractor": 0, "passive": 1, "promoter": 1},
        "promoter": {"detractor": 1, "passive": 0, "promoter": 0},
    }
    assert first["detractors_to_promoters"] == [
        {"contact": contact_id(project, "u1"), "user_id": "u1", "email": ""},
        {"contact": contact_id(project, "u2"), "user_id": "u2", "email": ""},
    ]
    assert (second["from_wave"], second["to_wave"], second["contacts"]) == (2, 3, 1)
    assert second["matrix"] == {
        "detractor": zeros(),
        "passive": zeros(),
        "promoter": {"detractor": 1, "passive": 0, "promoter": 0},
    }
    assert second["detractors_to_promoters"] == []


def test_the_filters_choose_the_answers_and_a_cut_wave_is_partial(
    server_client, project, quarterly
):
    body = server_client.get(f"/api/v1/metrics/waves?survey={quarterly.pk}&until=2025-05-01").json()
    assert [(w["wave"], w["n"], w["score"], w["partial"]) for w in body["waves"]] == [
        (1, 8, -25.0, False),
        (2, 5, 20.0, True),  # u1 10, u2 9, u3 7, u4 8, u5 2
    ]
    assert body["movements"][0]["contacts"] == 5


def test_the_results_page_shows_the_waves_and_links_the_movers(staff, project, quarterly):
    page = staff.get(f"/app/results/{quarterly.pk}/")
    assert page.status_code == 200
    waves = page.context["waves"]
    assert [
        (
            w["wave"],
            w["start"].isoformat(),
            w["end"].isoformat(),
            w["n"],
            w["score"],
            w["ci_low"],
            w["ci_high"],
        )
        for w in waves["waves"]
    ] == WAVE_ROWS
    assert [w["partial"] for w in waves["waves"]] == [False, False, False]
    assert waves["movements"][0]["rows"] == [
        {"category": "detractor", "label": "Detractors", "counts": [0, 1, 2], "total": 3},
        {"category": "passive", "label": "Passives", "counts": [0, 1, 1], "total": 2},
        {"category": "promoter", "label": "Promoters", "counts": [1, 0, 0], "total": 1},
    ]
    html = page.content.decode()
    assert 'id="waves"' in html
    for user in ("u1", "u2"):
        assert f'href="/app/contacts/{contact_id(project, user)}/">{user}</a>' in html
    assert f"/app/contacts/{contact_id(project, 'u8')}/" not in html


def test_a_one_off_survey_has_no_waves(staff, server_client, project, touchpoint):
    survey = published_survey(project, touchpoints=[touchpoint])
    answered(survey, 9, user_id="u1")
    assert staff.get(f"/app/results/{survey.pk}/").context["waves"] is None
    reply = server_client.get(f"/api/v1/metrics/waves?survey={survey.pk}")
    assert reply.status_code == 200
    assert reply.json() == {
        "survey": survey.pk,
        "metric": None,
        "question": None,
        "method": None,
        "recurrence_days": None,
        "first_day": None,
        "waves": [],
        "movements": [],
    }


@pytest.mark.parametrize(
    "query", ["", "survey=abc", "survey=99999", "survey={id}&until=2025-01-01&since=2025-02-01"]
)
def test_bad_queries_are_400(server_client, quarterly, query):
    reply = server_client.get("/api/v1/metrics/waves?" + query.format(id=quarterly.pk))
    assert reply.status_code == 400
    assert "error" in reply.json()


def test_another_project_sees_none_of_it(project, quarterly):
    other_project = ProjectFactory()
    other = APIClient()
    other.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key_create(project=other_project).raw}")
    reply = other.get(f"/api/v1/metrics/waves?survey={quarterly.pk}")
    assert reply.status_code == 400
    assert list(reply.json()["error"]["fields"]) == ["survey"]

    theirs = published_survey(
        other_project,
        touchpoints=[TouchpointFactory(project=other_project, key="checkout_completed")],
        recurrence_days=90,
    )
    answered(theirs, 0, user_id="u1")
    outsider = Client()
    user = UserFactory()
    MembershipFactory(user=user, project=other_project, role="admin")
    outsider.force_login(user)
    assert outsider.get(f"/app/results/{quarterly.pk}/").status_code == 404
    body = other.get(f"/api/v1/metrics/waves?survey={theirs.pk}").json()
    assert [(w["n"], w["score"]) for w in body["waves"]] == [(1, -100.0)]
    assert body["movements"] == []


def test_a_csat_survey_has_waves_of_its_share_and_no_movement(server_client, project, touchpoint):
    with time_machine.travel(PUBLISHED, tick=False):
        survey = published_survey(
            project,
            touchpoints=[touchpoint],
            recurrence_days=30,
            questions=[
                QuestionIn(
                    type="csat",
                    text={"en": "Satisfied?", "zh": "满意吗？"},
                    scale={"min": 1, "max": 5},
                )
            ],
        )
    for user, day, score in [("a", 0, 5), ("b", 1, 2), ("a", 31, 4), ("b", 32, 4), ("c", 33, 1)]:
        with time_machine.travel(PUBLISHED + timedelta(days=day), tick=False):
            answered(survey, score, user_id=user)
    body = server_client.get(f"/api/v1/metrics/waves?survey={survey.pk}").json()
    assert body["metric"] == "csat"
    assert [(w["wave"], w["n"], w["satisfied"], w["score"]) for w in body["waves"]] == [
        (1, 2, 1, 50.0),
        (2, 3, 2, 66.67),
    ]
    assert body["waves"][1]["change"]["diff"] == 16.67
    assert body["movements"] == []
