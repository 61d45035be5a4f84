"""The three dashboards: exact figures from rollups, significance flags, filters in the URL,
low samples marked, exports of the metric series, and the executive view never reading raw
responses (its queries are counted and inspected)."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from metrics.reports import dashboards
from tests.factories import (
    MembershipFactory,
    ProjectFactory,
    StageFactory,
    TouchpointFactory,
    UserFactory,
    published_survey,
    rollup_cells,
)

pytestmark = pytest.mark.django_db


def cell(project, survey, touchpoint, metric, scale, hist, *, days_ago=0, channel="web", plan=None):
    day = timezone.now().date() - timedelta(days=days_ago)
    rollup_cells(
        project, survey, touchpoint, metric, scale, hist, day=day, channel=channel, plan=plan
    )


@pytest.fixture
def shop(project):
    project.breakdown_attributes = ["plan"]
    project.save()
    discover = StageFactory(project=project, key="discover", name="Discover", position=0)
    buy = StageFactory(project=project, key="buy", name="Buy", position=1)
    landing = TouchpointFactory(project=project, key="landing", name="Landing", stage=discover)
    checkout = TouchpointFactory(project=project, key="checkout", name="Checkout", stage=buy)
    survey = published_survey(project, touchpoints=[landing, checkout])
    # Landing NPS now: 60 promoters, 20 passives, 20 detractors → +40 (n 100); the 90 days
    # before: 20/20/60 → −40, so the change is significant.
    cell(project, survey, landing, "nps", 10, {10: 60, 7: 20, 3: 20})
    cell(project, survey, landing, "nps", 10, {10: 20, 7: 20, 3: 60}, days_ago=100)
    # The same answers by plan: pro 40 promoters; free 20/20/20 → 0.
    cell(project, survey, landing, "nps", 10, {10: 40}, plan="pro")
    cell(project, survey, landing, "nps", 10, {10: 20, 7: 20, 3: 20}, plan="free")
    # Checkout CSAT in the app: 4 of 10 satisfied → 40 %, a low sample.
    cell(project, survey, checkout, "csat", 5, {5: 4, 2: 6}, channel="app")
    viewer = UserFactory(username="viewer")
    MembershipFactory(user=viewer, project=project, role="viewer")
    client = Client()
    client.force_login(viewer)
    return client, project, survey, (landing, checkout)


def _row(html: str, key: str) -> str:
    start = html.index(f'<tr data-touchpoint="{key}">')
    return html[start : html.index("</tr>", start)]


def test_executive_view_shows_the_journey_with_significant_changes(shop):
    client, *_ = shop
    html = client.get("/app/dashboards/").content.decode()
    landing = _row(html, "landing")
    assert '<span class="fw-semibold">40</span>' in landing
    assert "n=100" in landing
    assert "▲" in landing  # −40 → +40, z far beyond 1.96
    checkout = _row(html, "checkout")
    assert 'class="low-sample"' in checkout
    assert '<span class="fw-semibold">40 %</span>' in checkout
    assert "▲" not in checkout and "▼" not in checkout  # nothing to compare with
    assert html.index("Discover") < html.index("Buy")
    # the KPI: overall NPS +40 against −40, significant
    assert "▲ 80.0 vs previous" in html


def test_executive_view_reads_rollups_only_with_a_constant_query_count(shop):
    client, project, survey, (landing, _) = shop
    client.get("/app/dashboards/")  # session and caches warm
    with CaptureQueriesContext(connection) as before:
        assert client.get("/app/dashboards/").status_code == 200
    for days_ago in range(1, 60):
        cell(project, survey, landing, "nps", 10, {9: 5, 6: 2}, days_ago=days_ago)
    with CaptureQueriesContext(connection) as after:
        assert client.get("/app/dashboards/").status_code == 200
    sql = " ".join(q["sql"] for q in after.captured_queries)
    assert "feedback_response" not in sql
    assert "feedback_answer" not in sql
    assert "metrics_rollup" in sql
    assert len(after) == len(before)


def test_filters_travel_in_the_url(shop):
    client, *_ = shop
    html = client.get("/app/dashboards/?touchpoint=checkout&channel=app").content.decode()
    assert 'data-touchpoint="landing"' not in html  # the journey narrows to the filter
    assert "touchpoint=checkout&amp;channel=app" in html  # tabs and links carry the filters
    assert '<option value="checkout" selected>' in html
    nothing = client.get("/app/dashboards/?channel=store").content.decode()
    assert "No answers" in nothing or "—" in _row(nothing, "landing")


def test_bad_filters_are_said_and_ignored(shop):
    client, *_ = shop
    response = client.get(
        "/app/dashboards/?since=2026-13-01&segment=nope&survey=abc&touchpoint=checkout"
    )
    assert response.status_code == 200
    assert response.context["query"].problems == (
        "From: Date has wrong format. Use one of these formats instead: YYYY-MM-DD.",
        "Survey: Unknown survey.",
        "Segment: Segments are attribute:value with a breakdown attribute (plan).",
    )
    filters = response.context["filters"]
    assert (filters.survey_id, filters.segment, filters.touchpoint) == (None, None, "checkout")
    assert "Survey: Unknown survey." in response.content.decode()


def test_reversed_dates_are_said_and_the_page_shows_from_the_start_to_today(shop):
    client, project, *_ = shop
    reversed_ = client.get("/app/dashboards/?since=2026-05-02&until=2026-05-01")
    assert reversed_.context["query"].problems == (
        "To: The last day must not be before the first day.",
    )
    filters = reversed_.context["filters"]
    today = timezone.localdate(timezone=ZoneInfo(project.timezone))
    assert (filters.since, filters.until) == (date(2026, 5, 2), today)


@pytest.mark.parametrize(
    "params",
    [
        {"since": "2026-13-01"},
        {"since": "2026-05-02", "until": "2026-05-01"},
        {"survey": "abc"},
        {"survey": "99999999"},
        {"touchpoint": "not a key"},
        {"stage": "x" * 65},
        {"channel": "c" * 17},
        {"segment": "nope"},
        {"segment": "region:north"},
        {"segment": "plan:"},
    ],
)
def test_the_page_and_the_api_refuse_a_filter_with_the_same_words(shop, params):
    client, *_ = shop
    page = client.get("/app/dashboards/", params)
    api = client.get("/api/v1/metrics", {"metric": "nps", **params})
    assert api.status_code == 400
    fields = api.json()["error"]["fields"]
    assert list(fields) == list(params)[-1:]
    (name,) = fields
    assert page.status_code == 200
    assert page.context["query"].problems == tuple(
        f"{dashboards.FILTER_LABELS[name]}: {message}" for message in fields[name]
    )


def test_lead_view_breaks_down_by_channel_and_attribute(shop):
    client, *_ = shop
    response = client.get("/app/dashboards/lead/?touchpoint=landing")
    charts = {chart["label"]: chart["rows"] for chart in response.context["breakdown_charts"]}
    assert [(r["value"], r["score"], r["n"]) for r in charts["channel"]] == [("web", 40.0, 100)]
    assert [(r["value"], r["score"], r["n"]) for r in charts["plan"]] == [
        ("free", 0.0, 60),
        ("pro", 100.0, 40),
    ]
    html = response.content.decode()
    assert "60 promoters · 20 passives · 20 detractors" in html
    assert "significant</strong> at 95 %" in html


def test_counts_take_the_singular_or_the_plural(shop):
    client, project, survey, (_, checkout) = shop
    cell(project, survey, checkout, "nps", 10, {10: 1, 3: 2})
    html = client.get("/app/dashboards/lead/?touchpoint=checkout").content.decode()
    assert "Total: 1 promoter · 0 passives · 2 detractors" in html


def test_segment_filter_reads_the_segment_cells(shop):
    client, *_ = shop
    response = client.get("/app/dashboards/lead/?segment=plan:free")
    assert response.context["reports"]["nps"]["total"]["score"] == 0.0
    assert response.context["reports"]["nps"]["total"]["n"] == 60


def test_metric_series_export_as_csv(shop):
    client, *_ = shop
    response = client.get("/app/dashboards/?touchpoint=landing&export=csv")
    assert response["Content-Disposition"].startswith('attachment; filename="vocsite-metrics-')
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(body)))
    assert rows[0] == [
        "metric",
        "week_start",
        "n",
        "score",
        "ci_low",
        "ci_high",
        "low_sample",
        "partial",
        "method",
    ]
    nps_rows = [r for r in rows[1:] if r[0] == "nps"]
    assert sum(int(r[2]) for r in nps_rows) == 100
    # The last week is this one, not over yet; the first is cut by the 90-day window.
    assert (nps_rows[-1][7], nps_rows[-1][8].startswith("NPS = 100")) == ("True", True)
    assert [r for r in rows[1:] if r[0] == "csat"] == []  # no CSAT at landing


def test_each_project_sees_only_its_own_dashboards(shop):
    _, project, *_ = shop
    other = ProjectFactory()
    outsider = UserFactory(username="outsider")
    MembershipFactory(user=outsider, project=other, role="admin")
    client = Client()
    client.force_login(outsider)
    html = client.get(f"/app/dashboards/?project={project.pk}").content.decode()
    assert 'data-touchpoint="landing"' not in html
    assert client.get("/app/dashboards/frontline/").status_code == 200


def test_drivers_rank_topics_by_their_nps_impact(db, project):
    """Seven NPS answers; Delivery's four (2, 3, 5, 8) against the other three (6, 10, 9):
    NPS −75 against 33.33, an impact of −108.33 with its 95 % interval from the two
    adjusted-Wald errors (25.61 and 34.69 points: ±84.52); Price's two (6, 10) against the
    other five: 0 against −40."""
    import uuid as uuid_module

    from feedback.answering.models import Answer, Response
    from feedback.topics.models import Tag, Topic
    from surveys.design.models import Question
    from tests.factories import TouchpointFactory

    touchpoint = TouchpointFactory(project=project, key="tp")
    survey = published_survey(project, touchpoints=[touchpoint])
    version = survey.current_version
    nps_q, text_q = Question.objects.filter(version=version).order_by("position")
    delivery = Topic.objects.create(project=project, name="Delivery", keywords=["parcel"])
    price = Topic.objects.create(project=project, name="Price", keywords=["price"])
    now = timezone.now()
    for score, text, topic, feeling in [
        (2, "parcel late", delivery, "negative"),
        (3, "parcel lost", delivery, "negative"),
        (5, "parcel broken", delivery, "negative"),
        (6, "price high", price, "negative"),
        (10, "price fair", price, "positive"),
        (9, "all good", None, ""),
        (8, "parcel ok", delivery, "neutral"),
    ]:
        response = Response.objects.create(
            project=project,
            survey=survey,
            version=version,
            touchpoint=touchpoint,
            submission_id=uuid_module.uuid4(),
            finished=True,
            finished_at=now,
        )
        Answer.objects.create(
            response=response, question=nps_q, question_type="nps", value_int=score
        )
        text = Answer.objects.create(
            response=response, question=text_q, question_type="text", value_text=text
        )
        if topic:
            Tag.objects.create(
                topic=topic, answer=text, span_start=0, span_end=5, sentiment=feeling
            )
    viewer = UserFactory(username="lead")
    MembershipFactory(user=viewer, project=project, role="viewer")
    client = Client()
    client.force_login(viewer)
    drivers = client.get("/app/dashboards/lead/").context["drivers"]
    assert drivers["answers"] == 7
    assert drivers["rows"] == [
        {
            "topic": "Delivery",
            "n_with": 4,
            "n_without": 3,
            "nps_with": -75.0,
            "nps_without": 33.33,
            "impact": -108.33,
            "impact_ci_low": -192.86,
            "impact_ci_high": -23.81,
            "significant": False,
            "low_sample": True,
            "sentiment": {"negative": 3, "neutral": 1},
        },
        {
            "topic": "Price",
            "n_with": 2,
            "n_without": 5,
            "nps_with": 0.0,
            "nps_without": -40.0,
            "impact": 40.0,
            "impact_ci_low": -51.54,
            "impact_ci_high": 131.54,
            "significant": False,
            "low_sample": True,
            "sentiment": {"negative": 1, "positive": 1},
        },
    ]


def test_team_filter_narrows_the_case_figures(shop):
    from feedback.cases.models import Case
    from surveys.tenancy.models import Team

    client, project, *_ = shop
    care = Team.objects.create(project=project, name="Care")
    billing = Team.objects.create(project=project, name="Billing")
    due = timezone.now() + timedelta(days=1)
    Case.objects.create(project=project, team=care, title="a", due_at=due)
    Case.objects.create(project=project, team=care, title="b", due_at=due)
    Case.objects.create(project=project, team=billing, title="c", due_at=due)
    everyone = client.get("/app/dashboards/lead/").context
    assert everyone["cases"]["ages"]["total"] == 3
    care_only = client.get(f"/app/dashboards/lead/?team={care.pk}").context
    assert care_only["cases"]["ages"]["total"] == 2
    assert [row.team for row in care_only["sla"]] == ["Care"]
    assert f"team={care.pk}" in care_only["querystring"]
    html = client.get(f"/app/dashboards/?team={care.pk}").content.decode()
    assert f'<option value="{care.pk}" selected>Care</option>' in html


@pytest.mark.parametrize("params", [{"until": "0001-01-02"}, {"since": "0001-01-01"}])
def test_dates_without_a_previous_period_are_said_and_the_last_90_days_shown(shop, params):
    """Every dashboard compares with the period before, which these dates do not have."""
    client, project, *_ = shop
    for url in ("/app/dashboards/", "/app/dashboards/lead/"):
        page = client.get(url, params)
        assert page.status_code == 200
        assert page.context["query"].problems == ("From: Too early to have a previous period.",)
        today = timezone.localdate(timezone=ZoneInfo(project.timezone))
        filters = page.context["filters"]
        assert (filters.since, filters.until) == (today - timedelta(days=89), today)
