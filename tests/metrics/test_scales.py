"""A question's scale is part of what its rollups count (DESIGN.md §7, issue 25 item 1).

A CSAT moved from 1–5 to 1–7 keeps its uid; its answers on each scale are counted on that
scale's threshold, the shares combine as counts, means stay per scale, `method` says so, and
the rebuild (which aborted on PostgreSQL) recounts exactly what the incremental path counted.
A 1–5 CES worded as effort counts 1–2 as easy. Runs on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import pytest
import time_machine
from django.test import Client

from metrics.reports.selectors import touchpoint_scores
from metrics.rollups.models import Rollup
from metrics.rollups.services import rollups_rebuild
from surveys.design.models import Question
from surveys.design.services import QuestionIn, survey_publish, survey_update
from tests.factories import MembershipFactory, UserFactory, answered, published_survey
from tests.surveys.test_designer_pages import post_data

pytestmark = pytest.mark.django_db

MORNING = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
AFTERNOON = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)
LATER = datetime(2026, 3, 20, 12, 0, tzinfo=UTC)


def csat_question(scale_max: int) -> QuestionIn:
    return QuestionIn(
        type="csat", text={"en": "How satisfied are you?"}, scale={"min": 1, "max": scale_max}
    )


@pytest.fixture
def shop(project, touchpoint):
    project.recontact_days = 0
    project.frequency_cap = 10_000
    project.save()
    return published_survey(
        project,
        touchpoints=[touchpoint],
        questions=[csat_question(5)],
        name="Support CSAT",
        display_option="always",
        recontact_days=0,
    )


def answer(project, survey, scores: list[int], at: datetime, capture) -> None:
    """Each score from a different customer, through the widget's services and the pipeline."""
    with time_machine.travel(at, tick=False):
        for score in scores:
            answered(survey, score)


def rescale(survey, question: QuestionIn):
    survey_update(survey=survey, questions=[question])
    survey_publish(survey=survey)
    survey.refresh_from_db()
    return survey


def cells() -> Counter:
    return Counter(
        {
            (
                r.question_uid,
                r.scale_max,
                r.scale_wording,
                r.touchpoint_key,
                r.breakdown_attribute,
                r.day.isoformat(),
                r.score,
            ): r.count
            for r in Rollup.objects.all()
        }
    )


@pytest.fixture
def changed_mid_day(project, shop, django_capture_on_commit_callbacks):
    """3 of 4 satisfied on 1–5 in the morning; after the change to 1–7, five 4s and 5s — none
    satisfied on 1–7, all of them on 1–5 if the scales were added together (88.89 %)."""
    answer(project, shop, [5, 4, 4, 2], MORNING, django_capture_on_commit_callbacks)
    with time_machine.travel(MORNING.replace(hour=12), tick=False):
        rescale(shop, csat_question(7))
    answer(project, shop, [4, 5, 5, 4, 5], AFTERNOON, django_capture_on_commit_callbacks)
    return shop


EACH_SCALE = [
    {
        "n": 4,
        "score": 75.0,
        "ci_low": 30.06,
        "ci_high": 95.44,
        "satisfied": 3,
        "mean": 3.75,
        "mean_ci_low": 1.75,
        "mean_ci_high": 5.75,
        "scale_max": 5,
        "wording": "agree",
        "low_sample": True,
        "counts": {"2": 1, "4": 2, "5": 1},
    },
    {
        "n": 5,
        "score": 0.0,
        "ci_low": 0.0,
        "ci_high": 43.45,
        "satisfied": 0,
        "mean": 4.6,
        "mean_ci_low": 3.92,
        "mean_ci_high": 5.28,
        "scale_max": 7,
        "wording": "agree",
        "low_sample": True,
        "counts": {"4": 2, "5": 3},
    },
]
# 3 satisfied of 9: Wilson 95 % [12.06, 64.58]; no mean across scales.
COMBINED = {
    "n": 9,
    "score": 33.33,
    "ci_low": 12.06,
    "ci_high": 64.58,
    "satisfied": 3,
    "mean": None,
    "mean_ci_low": None,
    "mean_ci_high": None,
    "scale_max": None,
    "wording": None,
    "low_sample": True,
    "by_scale": EACH_SCALE,
    "counts": None,
}
COMBINED_METHOD = (
    "CSAT = % satisfied, each answer counted on its own scale (4–5 on 1–5; 6–7 on 1–7) and the "
    "counts added; 95 % Wilson interval; means are given per scale only (by_scale), never "
    "across scales"
)


def test_a_mid_day_scale_change_keeps_each_scale_apart(server_client, changed_mid_day):
    uids = set(
        Question.objects.filter(survey=changed_mid_day, version__isnull=False).values_list(
            "uid", flat=True
        )
    )
    assert len(uids) == 1  # the same question before and after the change
    (uid,) = uids
    assert cells() == Counter(
        {
            (uid, 5, "agree", "checkout_completed", "", "2026-03-10", 5): 1,
            (uid, 5, "agree", "checkout_completed", "", "2026-03-10", 4): 2,
            (uid, 5, "agree", "checkout_completed", "", "2026-03-10", 2): 1,
            (uid, 7, "agree", "checkout_completed", "", "2026-03-10", 4): 2,
            (uid, 7, "agree", "checkout_completed", "", "2026-03-10", 5): 3,
        }
    )
    with time_machine.travel(LATER):
        reply = server_client.get(f"/api/v1/metrics?metric=csat&survey={changed_mid_day.pk}")
    assert reply.status_code == 200
    body = reply.json()
    assert body["method"] == COMBINED_METHOD
    assert body["total"] == COMBINED
    assert body["series"] == [{**COMBINED, "period_start": "2026-03-10", "partial": False}]


def test_the_rebuild_recounts_exactly_what_the_incremental_path_counted(changed_mid_day):
    incremental = cells()
    assert rollups_rebuild(project=changed_mid_day.project) == len(incremental)
    assert cells() == incremental
    assert rollups_rebuild() == len(incremental)  # every project, again: still complete
    assert cells() == incremental


def test_one_scale_keeps_its_mean_and_counts(
    server_client, project, shop, django_capture_on_commit_callbacks
):
    answer(project, shop, [5, 4, 4, 2], MORNING, django_capture_on_commit_callbacks)
    with time_machine.travel(LATER):
        body = server_client.get("/api/v1/metrics?metric=csat").json()
    assert body["method"] == (
        "CSAT = % satisfied (4–5 on 1–5); 95 % Wilson interval; mean with a 95 % t interval"
    )
    assert body["total"] == {**EACH_SCALE[0], "by_scale": [EACH_SCALE[0]]}


def test_a_comparison_across_a_scale_change_compares_shares(
    server_client, project, shop, django_capture_on_commit_callbacks
):
    """This day on 1–7 (0 of 5) against the day before on 1–5 (3 of 4): shares, each counted
    on its own scale, in a pooled two-proportion z-test; no 400 anywhere."""
    answer(project, shop, [5, 4, 4, 2], MORNING.replace(day=9), django_capture_on_commit_callbacks)
    with time_machine.travel(MORNING, tick=False):
        rescale(shop, csat_question(7))
    answer(project, shop, [4, 5, 5, 4, 5], AFTERNOON, django_capture_on_commit_callbacks)
    with time_machine.travel(LATER):
        body = server_client.get(
            "/api/v1/metrics?metric=csat&since=2026-03-10&until=2026-03-10&compare=previous"
        ).json()
    comparison = body["comparison"]
    assert (comparison["previous"]["score"], comparison["previous"]["by_scale"]) == (
        75.0,
        [EACH_SCALE[0]],
    )
    assert (body["total"]["score"], body["total"]["by_scale"]) == (0.0, [EACH_SCALE[1]])
    # pooled p = 3/9; se = 100·√(p(1−p)(1/4 + 1/5)) = 31.62; z = −75 / 31.62
    assert (comparison["diff"], comparison["z"], comparison["p_value"]) == (-75.0, -2.37, 0.0177)
    assert (comparison["significant"], comparison["low_sample"]) == (False, True)


def test_the_journey_map_scores_each_scale_on_its_own_threshold(changed_mid_day):
    scores = touchpoint_scores(changed_mid_day.project)
    csat = scores["checkout_completed"]["csat"]
    assert (csat["n"], csat["satisfied"], csat["score"], csat["mean"]) == (9, 3, 33.33, None)
    assert [(s["scale_max"], s["n"], s["satisfied"]) for s in csat["by_scale"]] == [
        (5, 4, 3),
        (7, 5, 0),
    ]


def test_a_ces_worded_as_effort_counts_1_and_2_as_easy(
    server_client, project, touchpoint, django_capture_on_commit_callbacks
):
    reply = server_client.post(
        "/api/v1/surveys",
        {
            "name": "Effort",
            "touchpoints": [touchpoint.key],
            "display_option": "always",
            "recontact_days": 7,
            "questions": [
                {
                    "type": "ces",
                    "text": {"en": "How much effort did it take?"},
                    "scale": {"min": 1, "max": 5},
                    "scale_wording": "effort",
                }
            ],
        },
        format="json",
    )
    assert reply.status_code == 201, reply.json()
    assert reply.json()["questions"][0]["scale_wording"] == "effort"
    survey_id = reply.json()["id"]
    assert server_client.post(f"/api/v1/surveys/{survey_id}/publish").status_code == 200
    project.recontact_days = 0
    project.save()
    survey = project.surveys.get(pk=survey_id)
    answer(project, survey, [1, 2, 3, 5], MORNING, django_capture_on_commit_callbacks)
    with time_machine.travel(LATER):
        body = server_client.get(f"/api/v1/metrics?metric=ces&survey={survey_id}").json()
    assert body["method"] == (
        "CES = % agree it was easy (1–2 on 1–5 worded as effort); 95 % Wilson interval; "
        "mean with a 95 % t interval"
    )
    total = body["total"]
    assert (total["n"], total["agree"], total["score"], total["ci_low"], total["ci_high"]) == (
        4,
        2,
        50.0,
        15.0,
        85.0,
    )
    assert (total["scale_max"], total["wording"], total["mean"]) == (5, "effort", 2.75)


@pytest.mark.parametrize(
    ("question", "field"),
    [
        ({"type": "ces", "scale": {"min": 1, "max": 7}}, "questions.0.scale_wording"),
        ({"type": "csat", "scale": {"min": 1, "max": 5}}, "questions.0.scale_wording"),
        ({"type": "nps"}, "questions.0.scale_wording"),
    ],
)
def test_only_a_1_to_5_ces_may_be_worded_as_effort(server_client, question, field):
    reply = server_client.post(
        "/api/v1/surveys",
        {
            "name": "Effort",
            "questions": [{**question, "text": {"en": "Q"}, "scale_wording": "effort"}],
        },
        format="json",
    )
    assert reply.status_code == 400
    assert reply.json()["error"]["fields"] == {
        field: ["Only a CES question on 1–5 can ask how much effort it took (1 = very low)."]
    }


def test_the_designer_sets_the_wording_where_questions_are_edited(project, touchpoint):
    user = UserFactory()
    MembershipFactory(user=user, project=project, role="designer")
    designer = Client()
    designer.force_login(user)
    survey = published_survey(
        project,
        touchpoints=[touchpoint],
        questions=[QuestionIn(type="ces", text={"en": "How much effort?"}, scale={"max": 5})],
        name="Effort",
    )
    page = designer.get(f"/app/surveys/{survey.pk}/")
    assert 'name="q-0-scale_wording"' in page.content.decode()
    data = post_data(survey)
    data["q-0-scale_wording"] = "effort"
    reply = designer.post(f"/app/surveys/{survey.pk}/", data)
    assert reply.status_code == 302
    draft = survey.questions.get(version__isnull=True)
    assert (draft.type, draft.scale_max, draft.scale_wording) == ("ces", 5, "effort")
    survey_publish(survey=survey)
    survey.refresh_from_db()
    assert survey.current_version.questions.get().scale_wording == "effort"


def test_a_question_without_a_scale_gets_its_type_default(server_client):
    """Defaults come from surveys.design.scales: NPS 0–10, CSAT 1–5, CES 1–7, rating 1–5."""
    body = {
        "name": "Defaults",
        "questions": [
            {"type": kind, "text": {"en": f"A {kind} question"}}
            for kind in ("nps", "csat", "ces", "rating", "yes_no", "text")
        ],
    }
    created = server_client.post("/api/v1/surveys", body, format="json")
    assert created.status_code == 201, created.json()
    assert [(q["type"], q.get("scale")) for q in created.json()["questions"]] == [
        ("nps", {"min": 0, "max": 10}),
        ("csat", {"min": 1, "max": 5}),
        ("ces", {"min": 1, "max": 7}),
        ("rating", {"min": 1, "max": 5}),
        ("yes_no", {"min": 0, "max": 1}),
        ("text", None),
    ]
