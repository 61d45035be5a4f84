"""A survey's results page (issue 27, item 1): a summary per question, filters that change the
figures exactly, the response table and each response's page, exports under the page's
filters — every figure the same as the dashboards' for the same filters, one project never
seeing another's."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from feedback.answering.models import Answer
from feedback.cases.models import Case
from feedback.topics.models import Topic
from metrics.reports.selectors import metric_report
from metrics.rollups.filters import MetricFilters
from surveys.design.services import QuestionIn, survey_publish
from tests.factories import (
    MembershipFactory,
    ProjectFactory,
    TouchpointFactory,
    UserFactory,
    answered,
    published_survey,
)

pytestmark = pytest.mark.django_db

FIRST_WEEK = datetime(2026, 11, 2, 12, tzinfo=UTC)
SECOND_WEEK = datetime(2026, 11, 10, 12, tzinfo=UTC)
NEGATIVE = "Support never answered my email about the refund."
MIXED = "Delivery was quick but the refund took a month."


@pytest.fixture
def history(survey, project):
    """Six finished answers to the suite's survey over two weeks, on two plans; the two
    detractors say why, one comment about a refund tagged by a topic; one unfinished."""
    Topic.objects.create(project=project, name="Refunds", keywords=["refund"])
    with time_machine.travel(FIRST_WEEK, tick=False):
        answered(survey, 9, user_id="ann", attributes={"plan": "pro"})
        answered(survey, 10, user_id="bob", attributes={"plan": "pro"})
        answered(survey, 3, NEGATIVE, user_id="cat", attributes={"plan": "free"})
    with time_machine.travel(SECOND_WEEK, tick=False):
        answered(survey, 7, user_id="dan", attributes={"plan": "free"})
        answered(survey, 0, MIXED, user_id="eve", attributes={"plan": "free"})
        answered(survey, 10, user_id="fay", attributes={"plan": "pro"})
        answered(survey, 8, user_id="gus", attributes={"plan": "pro"}, finished=False)
    return survey


@pytest.fixture
def staff(project) -> Client:
    client = Client()
    user = UserFactory()
    MembershipFactory(user=user, project=project, role="agent")
    client.force_login(user)
    return client


def results(client: Client, survey, query: str = ""):
    page = client.get(f"/app/results/{survey.pk}/?{query}")
    assert page.status_code == 200
    return page


def summary(page, question_type: str):
    return next(q for q in page.context["summaries"] if q.type == question_type)


def counts(question) -> dict:
    return {row["value"]: row["count"] for row in question.distribution if row["count"]}


def test_nps_summary_is_the_dashboards_figure(staff, history, project):
    page = results(staff, history)
    nps = summary(page, "nps")
    assert nps.answered == 6
    assert counts(nps) == {0: 1, 3: 1, 7: 1, 9: 1, 10: 2}
    assert nps.metric["n"] == 6
    assert (nps.metric["promoters"], nps.metric["passives"], nps.metric["detractors"]) == (3, 1, 2)
    assert nps.metric["score"] == pytest.approx(16.67, abs=0.01)
    dashboard = metric_report(
        project,
        "nps",
        MetricFilters(survey_id=history.pk, since=date(2026, 11, 1), until=date(2026, 11, 30)),
    )["total"]
    for key in ("n", "score", "ci_low", "ci_high", "low_sample", "counts"):
        assert nps.metric[key] == dashboard[key], key
    assert page.context["page"].paginator.count == 6
    row_shares = {row["value"]: row["share"] for row in nps.distribution}
    assert row_shares[10] == pytest.approx(33.33, abs=0.01)


@pytest.mark.parametrize(
    ("query", "n", "nps_counts"),
    [
        ("since=2026-11-09&until=2026-11-15", 3, {0: 1, 7: 1, 10: 1}),
        ("since=2026-11-01&until=2026-11-08", 3, {3: 1, 9: 1, 10: 1}),
        ("segment=plan:pro", 3, {9: 1, 10: 2}),
        ("segment=plan:free", 3, {0: 1, 3: 1, 7: 1}),
        ("score=nps:0-6", 2, {0: 1, 3: 1}),
        ("score=nps:9-10&segment=plan:free", 0, {}),
        ("touchpoint=checkout_completed", 6, {0: 1, 3: 1, 7: 1, 9: 1, 10: 2}),
        ("touchpoint=elsewhere", 0, {}),
        ("channel=web", 6, {0: 1, 3: 1, 7: 1, 9: 1, 10: 2}),
        ("channel=email", 0, {}),
        ("version=1", 6, {0: 1, 3: 1, 7: 1, 9: 1, 10: 2}),
    ],
)
def test_each_filter_changes_the_figures_exactly(staff, history, project, query, n, nps_counts):
    page = results(staff, history, query)
    nps = summary(page, "nps")
    assert (nps.answered, counts(nps), page.context["page"].paginator.count) == (n, nps_counts, n)
    assert page.context["query"].problems == ()
    if "score" not in query and "version" not in query:
        # The dashboards' filters: the same n, NPS and interval as the dashboards.
        filters = page.context["filters"]
        dashboard = metric_report(project, "nps", filters)["total"]
        assert [nps.metric[k] for k in ("n", "score", "ci_low", "ci_high")] == [
            dashboard[k] for k in ("n", "score", "ci_low", "ci_high")
        ]


def test_version_filter_keeps_the_versions_apart(staff, history):
    survey_publish(survey=history)
    answered(history, 6, "Too slow.", user_id="hal", attributes={"plan": "pro"})
    assert summary(results(staff, history, "version=2"), "nps").answered == 1
    assert counts(summary(results(staff, history, "version=2"), "nps")) == {6: 1}
    assert summary(results(staff, history, "version=1"), "nps").answered == 6
    assert summary(results(staff, history), "nps").answered == 7
    assert list(results(staff, history).context["versions"]) == [2, 1]


def test_text_answers_listed_with_sentiment_and_topics(staff, history):
    page = results(staff, history)
    why = summary(page, "text")
    assert why.answered == 2
    assert [a.value_text for a in why.samples] == [MIXED, NEGATIVE]
    stored = {a.value_text: a.sentiment for a in Answer.objects.filter(question_type="text")}
    assert stored[NEGATIVE] == "negative"
    assert [a.sentiment for a in why.samples] == [stored[MIXED], stored[NEGATIVE]]
    sentiments = {row["value"]: row["count"] for row in why.sentiments if row["count"]}
    expected: dict[str, int] = {}
    for sentiment in stored.values():
        expected[sentiment] = expected.get(sentiment, 0) + 1
    assert sentiments == expected
    assert [(t["topic"], t["count"], t["share"]) for t in why.topics] == [("Refunds", 2, 100.0)]
    html = page.content.decode()
    assert NEGATIVE in html and "Negative" in html and "Refunds · 2" in html
    detractors_only = summary(results(staff, history, "segment=plan:pro"), "text")
    assert (detractors_only.answered, detractors_only.samples) == (0, [])


def test_choices_are_shares_of_the_people_who_answered(staff, project, survey):
    where = TouchpointFactory(project=project, key="exit")
    choices = published_survey(
        project,
        allow_missing_translations=True,  # some texts fall back to English
        touchpoints=[where],
        name="Exit",
        display_option="always",
        recontact_days=0,
        questions=[
            QuestionIn(
                type="single_choice",
                text={"en": "Why are you leaving?", "zh": "您为什么离开？"},
                choices=[{"en": "Price", "zh": "价格"}, {"en": "Features", "zh": "功能"}],
            ),
            QuestionIn(
                type="multi_choice",
                text={"en": "What did you use?"},
                required=False,
                choices=[{"en": "Reports"}, {"en": "Alerts"}, {"en": "API"}],
            ),
            QuestionIn(type="yes_no", text={"en": "Would you come back?"}, required=False),
            QuestionIn(type="rating", text={"en": "Rate us"}, required=False),
        ],
    )
    answered(choices, "c1", ["c1", "c2"], 1, 5)
    answered(choices, "c1", ["c2"], 0, 4)
    answered(choices, "c2", None, 1, 4)
    answered(choices, "c1", ["c1", "c2", "c3"])
    page = results(staff, choices)
    single, multi = summary(page, "single_choice"), summary(page, "multi_choice")
    assert single.text == "Why are you leaving?"
    assert [(r["label"], r["count"], r["share"]) for r in single.distribution] == [
        ("Price", 3, 75.0),
        ("Features", 1, 25.0),
    ]
    assert multi.answered == 3
    assert [(r["label"], r["count"], r["share"]) for r in multi.distribution] == [
        ("Reports", 2, 66.67),
        ("Alerts", 3, 100.0),
        ("API", 1, 33.33),
    ]
    yes_no = summary(page, "yes_no")
    assert [(r["label"], r["count"]) for r in yes_no.distribution] == [("yes", 2), ("no", 1)]
    rating = summary(page, "rating")
    assert counts(rating) == {4: 2, 5: 1}
    assert rating.mean["by_scale"][0]["mean"] == pytest.approx(4.33, abs=0.01)
    assert "Why are you leaving?" in page.content.decode()


def test_questions_and_drop_off_in_the_viewers_language(staff, history):
    english = results(staff, history)
    assert [q["text"] for q in english.context["drop_off"]["questions"]] == [
        "How likely are you to recommend us?",
        "What could we do better?",
    ]
    chinese = staff.get(f"/app/results/{history.pk}/", HTTP_ACCEPT_LANGUAGE="zh-Hans")
    assert [q["text"] for q in chinese.context["drop_off"]["questions"]] == [
        "您推荐我们的可能性有多大？",
        "我们可以在哪些方面做得更好？",
    ]
    assert summary(chinese, "nps").text == "您推荐我们的可能性有多大？"
    drop_off = english.context["drop_off"]
    assert (drop_off["started"], drop_off["finished"]) == (7, 6)
    assert [q["answered"] for q in drop_off["questions"]] == [7, 2]


def test_response_page_shows_answers_contact_display_and_case(staff, history, project):
    detractor = Answer.objects.get(value_text=NEGATIVE).response
    case = Case.objects.get(response=detractor)
    page = staff.get(f"/app/responses/{detractor.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "How likely are you to recommend us?" in html
    assert NEGATIVE in html
    assert "cat" in html  # the contact's user id (no contact page yet)
    assert detractor.touchpoint.name in html
    assert detractor.display.claimed_at.strftime("%Y-%m-%d %H:%M") in html
    assert f'href="/app/cases/{case.pk}/"' in html
    table = results(staff, history).content.decode()
    assert f'href="/app/responses/{detractor.pk}/"' in table


def test_exports_follow_the_page_filters_with_the_staff_session(staff, history):
    page = results(staff, history, "score=nps:0-6")
    export = staff.get(page.context["export_csv"])
    assert export.status_code == 200
    rows = list(csv.DictReader(io.StringIO(b"".join(export.streaming_content).decode("utf-8-sig"))))
    assert sorted((row["contact"], row["question_type"]) for row in rows) == [
        ("cat", "nps"),
        ("cat", "text"),
        ("eve", "nps"),
        ("eve", "text"),
    ]
    texts = {row["contact"]: row["sentiment"] for row in rows if row["question_type"] == "text"}
    assert texts["cat"] == "negative"
    xlsx = staff.get(page.context["export_xlsx"])
    assert xlsx.status_code == 200
    assert xlsx["Content-Type"].startswith("application/vnd.openxmlformats")
    week = staff.get(
        results(staff, history, "since=2026-11-09&until=2026-11-15&segment=plan:pro").context[
            "export_csv"
        ]
    )
    body = b"".join(week.streaming_content).decode("utf-8-sig")
    assert [row["contact"] for row in csv.DictReader(io.StringIO(body))] == ["fay"]


def test_bad_filters_are_said_and_change_nothing(staff, history):
    page = results(staff, history, "score=nps:9-3&version=7&segment=color:red")
    assert len(page.context["query"].problems) == 3
    assert summary(page, "nps").answered == 6


@pytest.mark.parametrize(
    "query", ["score=nps:9-3", "score=mood:1-2", "version=2", "segment=color:red"]
)
def test_the_responses_api_refuses_bad_new_filters(server_client, survey, query):
    answer = server_client.get(f"/api/v1/responses?{query}")
    assert answer.status_code == 400


def test_another_projects_survey_and_response_are_404(staff, history):
    other = ProjectFactory()
    where = TouchpointFactory(project=other, key="elsewhere")
    theirs = published_survey(other, touchpoints=[where], display_option="always")
    their_response = answered(theirs, 2)
    assert staff.get(f"/app/results/{theirs.pk}/").status_code == 404
    assert staff.get(f"/app/responses/{their_response.pk}/").status_code == 404
    assert staff.get("/app/responses/999999/").status_code == 404


def test_viewers_see_dashboards_not_responses(project, history):
    viewer = UserFactory()
    MembershipFactory(user=viewer, project=project, role="viewer")
    client = Client()
    client.force_login(viewer)
    assert client.get(f"/app/results/{history.pk}/").status_code == 403
    assert client.get(f"/app/responses/{history.responses.first().pk}/").status_code == 403


def test_survey_list_and_editor_link_to_the_results(project, history):
    designer = UserFactory()
    MembershipFactory(user=designer, project=project, role="designer")
    client = Client()
    client.force_login(designer)
    link = f'href="/app/results/{history.pk}/"'
    assert link in client.get("/app/surveys/").content.decode()
    assert link in client.get(f"/app/surveys/{history.pk}/").content.decode()


def test_the_responses_api_gives_each_text_answer_its_topics_and_sentiment(staff, history):
    body = staff.get(f"/api/v1/responses?survey={history.pk}&score=nps:3-3").json()
    [response] = body["results"]
    assert [
        (a["type"], a["value_text"], a["sentiment"], a["topics"]) for a in response["answers"]
    ] == [
        ("nps", "", "", []),
        ("text", NEGATIVE, "negative", [{"topic": "Refunds", "sentiment": "negative"}]),
    ]


def test_the_page_costs_the_same_queries_at_any_size(staff, history):
    results(staff, history)  # the session's first request writes what it keeps
    with CaptureQueriesContext(connection) as small:
        results(staff, history)
    for score in range(10):
        answered(history, score % 7, "Slow refund.", user_id=f"more-{score}")
    with CaptureQueriesContext(connection) as large:
        assert summary(results(staff, history), "nps").answered == 16
    assert len(large) == len(small)
