"""GET /api/v1/responses: cursor pages as JSON, streamed CSV and XLSX exports with formula
injection defused, filters, bad input refused, and the constant query count of a page."""

from __future__ import annotations

import csv
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from tests.factories import ProjectFactory

pytestmark = pytest.mark.django_db

HOSTILE = '=HYPERLINK("http://evil.example","click")'


def _csv(response) -> list[list[str]]:
    assert response.streaming is True  # streamed, never built in memory
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeff")  # so Excel reads UTF-8 (Chinese) correctly
    return list(csv.reader(io.StringIO(body[1:])))


def test_json_pages_follow_the_cursor_newest_first(server_client, respond):
    made = [respond(score, text=f"comment {score}", user=f"c{score}") for score in range(5)]
    first = server_client.get("/api/v1/responses?limit=2").json()
    assert [r["id"] for r in first["results"]] == [made[4].pk, made[3].pk]
    assert first["results"][0]["answers"][0]["value_int"] == 4
    assert first["results"][0]["answers"][1]["value_text"] == "comment 4"
    assert first["results"][0]["contact"] == "c4"
    assert first["results"][0]["touchpoint"] == "checkout_completed"
    second = server_client.get(first["next"]).json()
    third = server_client.get(second["next"]).json()
    assert [r["id"] for r in second["results"]] == [made[2].pk, made[1].pk]
    assert [r["id"] for r in third["results"]] == [made[0].pk]
    assert third["next"] is None


def test_a_page_costs_the_same_queries_at_any_size(server_client, respond):
    for score in range(3):
        respond(score, text="x", user=f"a{score}")
    server_client.get("/api/v1/responses")  # the key's last_used_at is written once, first
    with CaptureQueriesContext(connection) as small:
        server_client.get("/api/v1/responses")
    for score in range(12):
        respond(score % 7, text="y", user=f"b{score}")
    with CaptureQueriesContext(connection) as large:
        assert len(server_client.get("/api/v1/responses").json()["results"]) == 15
    assert [q["sql"][:60] for q in large] == [q["sql"][:60] for q in small]


def test_filters_by_survey_touchpoint_and_days(server_client, respond, survey):
    response = respond(9)
    day = response.finished_at.date().isoformat()
    assert len(server_client.get(f"/api/v1/responses?survey={survey.pk}").json()["results"]) == 1
    # A survey the project does not have is refused, as by the metrics API (same parser).
    unknown = server_client.get(f"/api/v1/responses?survey={survey.pk + 1}")
    assert unknown.status_code == 400
    assert "survey" in str(unknown.json())
    assert server_client.get("/api/v1/responses?touchpoint=other").json()["results"] == []
    assert (
        len(server_client.get(f"/api/v1/responses?since={day}&until={day}").json()["results"]) == 1
    )
    assert (
        server_client.get("/api/v1/responses?since=2000-01-01&until=2000-01-02").json()["results"]
        == []
    )


@pytest.mark.parametrize(
    "query",
    [
        "since=2026-02-30",
        "since=2026-03-02&until=2026-03-01",
        "survey=-1",
        "format=pdf",
        "touchpoint=a b",
    ],
)
def test_bad_input_is_a_clear_4xx(server_client, query):
    response = server_client.get(f"/api/v1/responses?{query}")
    assert 400 <= response.status_code < 500
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"]["code"] == "invalid"


def test_csv_export_one_row_per_answer_with_formulas_defused(server_client, respond):
    response = respond(3, text=HOSTILE, user="+cmd|calc")
    export = server_client.get("/api/v1/responses?format=csv")
    assert export["Content-Type"] == "text/csv; charset=utf-8"
    assert export["Content-Disposition"] == 'attachment; filename="vocsite-responses.csv"'
    rows = _csv(export)
    assert rows[0][:4] == ["response_id", "finished_at_utc", "survey", "survey_version"]
    assert len(rows) == 3
    score_row, text_row = rows[1], rows[2]
    assert score_row[0] == str(response.pk)
    assert score_row[9:11] == ["nps", "3"]
    assert score_row[7] == "'+cmd|calc"  # a contact id starting with + is text, not a formula
    assert text_row[11] == "'" + HOSTILE


def test_xlsx_export_is_a_workbook_with_formulas_defused(server_client, respond):
    respond(2, text=HOSTILE, user="u-x")
    export = server_client.get("/api/v1/responses?format=xlsx")
    assert export.status_code == 200
    assert export["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    sheet = load_workbook(io.BytesIO(b"".join(export.streaming_content))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "response_id"
    assert [r[9] for r in rows[1:]] == ["nps", "text"]
    assert rows[1][10] == 2
    assert rows[2][11] == "'" + HOSTILE
    assert sheet.cell(row=3, column=12).data_type == "s"  # stored as a string, not a formula


def test_viewers_are_refused_and_other_projects_see_nothing(api_client, respond, project):
    from surveys.tenancy.services import api_key_create
    from tests.factories import MembershipFactory, UserFactory

    respond(9)
    viewer = UserFactory()
    MembershipFactory(user=viewer, project=project, role="viewer")
    api_client.force_authenticate(viewer)
    api_client.credentials(HTTP_X_PROJECT=str(project.pk))
    assert api_client.get("/api/v1/responses").status_code == 403
    other = ProjectFactory()
    api_client.force_authenticate(None)
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key_create(project=other).raw}")
    assert api_client.get("/api/v1/responses").json()["results"] == []
    assert len(_csv(api_client.get("/api/v1/responses?format=csv"))) == 1  # the header only


def test_text_answers_carry_their_topics_and_sentiment_in_json_and_exports(
    server_client, respond, project
):
    from feedback.topics.models import Topic

    Topic.objects.create(project=project, name="Delivery", keywords=["delivery"])
    Topic.objects.create(project=project, name="Refunds", keywords=["refund"])
    respond(5, text="Delivery was quick but the refund took a month.")
    answers = server_client.get("/api/v1/responses").json()["results"][0]["answers"]
    assert [(a["type"], a["sentiment"], a["topics"]) for a in answers] == [
        ("nps", "", []),
        (
            "text",
            "mixed",
            [
                {"topic": "Delivery", "sentiment": "positive"},
                {"topic": "Refunds", "sentiment": "negative"},
            ],
        ),
    ]
    rows = _csv(server_client.get("/api/v1/responses?format=csv"))
    assert rows[0][-2:] == ["sentiment", "topics"]
    assert [row[-2:] for row in rows[1:]] == [
        ["", ""],
        ["mixed", "Delivery (positive); Refunds (negative)"],
    ]
