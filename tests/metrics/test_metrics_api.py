"""GET /api/v1/metrics and friends: exact scores and intervals from rollups, filters,
comparisons, 400s, and project isolation."""

import uuid
from datetime import date

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from metrics.rollups.models import Rollup
from surveys.delivery.models import DecisionCount, Display
from surveys.tenancy.services import api_key_create
from tests.factories import ContactFactory, ProjectFactory

pytestmark = pytest.mark.django_db


def put(
    project,
    survey,
    hist,
    *,
    day=date(2026, 10, 1),
    metric="nps",
    scale=10,
    touchpoint="checkout_completed",
    channel="web",
    segment=("", ""),
):
    uid = (
        uuid.UUID(survey.current_version.snapshot["questions"][0]["uid"])
        if metric == "nps"
        else uuid.uuid4()
    )
    for score, count in hist.items():
        Rollup.objects.create(
            project=project,
            survey=survey,
            question_uid=uid,
            question_type=metric,
            scale_max=scale,
            touchpoint_key=touchpoint,
            stage_key="",
            channel=channel,
            breakdown_attribute=segment[0],
            breakdown_value=segment[1],
            day=day,
            score=score,
            count=count,
        )


def test_nps_total_reproduces_the_worked_example(server_client, project, survey):
    put(project, survey, {10: 300, 8: 100, 2: 100})
    body = server_client.get(f"/api/v1/metrics?metric=nps&survey={survey.pk}").json()
    assert body["metric"] == "nps"
    assert body["low_sample"] is False
    assert body["total"] == {
        "n": 500,
        "score": 40.0,
        "ci_low": 32.77,
        "ci_high": 46.75,
        "promoters": 300,
        "passives": 100,
        "detractors": 100,
        "promoters_share": 60.0,
        "promoters_share_ci_low": 55.65,
        "promoters_share_ci_high": 64.2,
        "promoters_share_n": 500,
        "passives_share": 20.0,
        "passives_share_ci_low": 16.73,
        "passives_share_ci_high": 23.73,
        "passives_share_n": 500,
        "detractors_share": 20.0,
        "detractors_share_ci_low": 16.73,
        "detractors_share_ci_high": 23.73,
        "detractors_share_n": 500,
        "low_sample": False,
        "counts": {"2": 100, "8": 100, "10": 300},
    }
    assert [s["period_start"] for s in body["series"]] == ["2026-10-01"]


def test_csat_total_has_satisfied_and_mean(server_client, project, survey):
    put(project, survey, {5: 10, 4: 20, 3: 10, 2: 5, 1: 5}, metric="csat", scale=5)
    total = server_client.get("/api/v1/metrics?metric=csat").json()["total"]
    assert (
        total["score"],
        total["ci_low"],
        total["ci_high"],
        total["satisfied"],
        total["mean"],
    ) == (60.0, 46.18, 72.39, 30, 3.5)


def test_filters_and_series_by_week(server_client, project, survey):
    put(project, survey, {10: 5}, day=date(2026, 10, 5))
    put(project, survey, {0: 5}, day=date(2026, 10, 6), channel="app")
    put(project, survey, {9: 2}, day=date(2026, 10, 14), touchpoint="other")
    put(project, survey, {10: 1}, day=date(2026, 10, 14), segment=("plan", "pro"))
    get = lambda qs: server_client.get(f"/api/v1/metrics?metric=nps&{qs}").json()  # noqa: E731
    assert get("")["total"]["n"] == 12
    assert get("channel=app")["total"]["detractors"] == 5
    assert get("touchpoint=other")["total"]["n"] == 2
    assert get("since=2026-10-10")["total"]["n"] == 2
    weekly = get("interval=week")["series"]
    assert [(s["period_start"], s["n"]) for s in weekly] == [("2026-10-05", 10), ("2026-10-12", 2)]


def test_segment_needs_a_breakdown_attribute(server_client, project, survey):
    project.breakdown_attributes = []
    project.save()
    put(project, survey, {10: 1}, segment=("plan", "pro"))
    refused = server_client.get("/api/v1/metrics?metric=nps&segment=plan:pro")
    assert refused.status_code == 400
    project.breakdown_attributes = ["plan"]
    project.save()
    assert (
        server_client.get("/api/v1/metrics?metric=nps&segment=plan:pro").json()["total"]["n"] == 1
    )


def test_period_over_period_comparison(server_client, project, survey):
    put(
        project, survey, {9: 300, 7: 100, 0: 100}, day=date(2026, 9, 15)
    )  # previous 30 days: NPS 40
    put(project, survey, {9: 250, 7: 100, 0: 150}, day=date(2026, 10, 15))  # this period: NPS 20
    body = server_client.get(
        "/api/v1/metrics?metric=nps&since=2026-10-01&until=2026-10-30&compare=previous"
    ).json()
    comparison = body["comparison"]
    assert comparison["previous"]["since"] == "2026-09-01"
    assert comparison["previous"]["score"] == 40.0
    assert comparison["diff"] == -20.0
    assert comparison["significant"] is True


@pytest.mark.parametrize(
    "qs",
    [
        "",
        "metric=happiness",
        "metric=nps&interval=year",
        "metric=nps&since=yesterday",
        "metric=nps&since=2026-10-02&until=2026-10-01",
        "metric=nps&survey=abc",
        "metric=nps&segment=nocolon",
    ],
)
def test_bad_parameters_are_400(server_client, qs):
    response = server_client.get(f"/api/v1/metrics?{qs}")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"


def test_mixed_scales_are_counted_each_on_its_own_scale(server_client, project, survey):
    """No more 400 mixed_scales: a 4 on 1–5 is satisfied, a 5 on 1–7 is not; the share adds
    the counts, means stay per scale (tests/metrics/test_scales.py has the full story)."""
    put(project, survey, {4: 1}, metric="csat", scale=5)
    put(project, survey, {5: 1}, metric="csat", scale=7)
    response = server_client.get("/api/v1/metrics?metric=csat")
    assert response.status_code == 200
    body = response.json()
    assert body["method"].startswith(
        "CSAT = % satisfied, each answer counted on its own scale (4–5 on 1–5; 6–7 on 1–7)"
    )
    total = body["total"]
    assert (total["n"], total["satisfied"], total["score"], total["mean"]) == (2, 1, 50.0, None)
    assert [(s["scale_max"], s["n"], s["satisfied"], s["mean"]) for s in total["by_scale"]] == [
        (5, 1, 1, 4.0),
        (7, 1, 0, 5.0),
    ]


def test_another_projects_key_sees_none_of_it(project, survey):
    put(project, survey, {10: 50})
    other = APIClient()
    other.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key_create(project=ProjectFactory()).raw}")
    body = other.get("/api/v1/metrics?metric=nps").json()
    assert body["total"]["n"] == 0
    assert body["series"] == []
    assert other.get(f"/api/v1/metrics/drop-off?survey={survey.pk}").status_code == 404


def test_response_rate_drop_off_and_decisions(server_client, project, survey):
    contact = ContactFactory(project=project)
    version = survey.current_version
    for status in ["shown", "dismissed", "responded", "claimed"]:
        Display.objects.create(
            project=project,
            contact=contact,
            survey=survey,
            version=version,
            status=status,
            claimed_at="2026-10-01T10:00:00Z",
        )
    responded = Display.objects.get(status="responded")
    from feedback.answering.models import Answer, Response

    response = Response.objects.create(
        project=project,
        survey=survey,
        version=version,
        display=responded,
        contact=contact,
        submission_id=uuid.uuid4(),
        finished=True,
    )
    Answer.objects.create(
        response=response,
        question=version.questions.get(position=0),
        question_type="nps",
        value_int=3,
    )
    rate = server_client.get(f"/api/v1/metrics/response-rate?survey={survey.pk}").json()
    assert rate == {
        "shown": 3,
        "finished": 1,
        "dismissed": 1,
        "response_rate": 33.33,
        "response_rate_ci_low": 6.15,  # Wilson, as statsmodels' proportion_confint
        "response_rate_ci_high": 79.23,
        "response_rate_n": 3,
    }
    drop = server_client.get(f"/api/v1/metrics/drop-off?survey={survey.pk}").json()
    assert (drop["started"], drop["finished"]) == (1, 1)
    assert [(q["position"], q["answered"]) for q in drop["questions"]] == [(0, 1), (1, 0)]
    assert [q["text"] for q in drop["questions"]] == [
        "How likely are you to recommend us?",
        "What could we do better?",
    ]
    assert (drop["questions"][0]["share_of_started"], drop["questions"][1]["share_of_started"]) == (
        100.0,
        0.0,
    )
    for reason, n in [("shown", 1), ("global_cooldown", 2)]:
        DecisionCount.objects.create(
            project=project, survey=survey, reason=reason, day=timezone.localdate(), count=n
        )
    decisions = server_client.get("/api/v1/metrics/decisions").json()
    assert decisions == {
        "surveys": [
            {"survey": survey.pk, "total": 3, "reasons": {"global_cooldown": 2, "shown": 1}}
        ]
    }
