"""What operators watch: liveness and readiness, the Prometheus metrics (and who may read
them), the request id in JSON log lines. (`manage.py sweeper_backlog`:
tests/feedback/test_sweeper_backlog.py.)"""

from __future__ import annotations

import io
import json
import logging

import pytest
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families
from rest_framework.test import APIClient

from feedback.answering.models import ProcessingFailure
from feedback.topics.models import RetagRun
from tests.factories import answered
from vocsite.celery import app as celery_app
from vocsite.logs import RequestIdFilter, json_formatter

TOKEN = "scrape-token-for-tests"


@pytest.fixture
def scraper(client, settings):
    """GET /metrics as Prometheus does, with the bearer token; returns {(name, labels): value}."""
    settings.METRICS_TOKEN = TOKEN

    def scrape() -> dict[tuple[str, tuple], float]:
        reply = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
        assert reply.status_code == 200
        assert reply["Content-Type"].startswith("text/plain; version=")
        return {
            (sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(reply.content.decode())
            for sample in family.samples
        }

    return scrape


# ---------------------------------------------------------------- liveness and readiness


def test_healthz_answers_without_touching_the_database(client, db, django_assert_num_queries):
    with django_assert_num_queries(0):
        reply = client.get("/healthz")
    assert (reply.status_code, reply.json()) == (200, {"status": "ok"})


def test_readyz_is_ready_with_the_database_reachable_and_every_migration_applied(
    client, db, settings
):
    # No broker: the embedded mode's in-process tasks (the PostgreSQL run has Redis).
    settings.CELERY_BROKER_URL = ""
    reply = client.get("/readyz")
    assert (reply.status_code, reply.json()) == (
        200,
        {
            "status": "ready",
            "checks": {"database": "ok", "broker": "not used", "migrations": "ok"},
        },
    )
    assert reply["Cache-Control"] == "max-age=0, no-cache, no-store, must-revalidate, private"


def test_readyz_names_an_unreachable_broker_with_a_503(client, db, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"  # a closed port
    reply = client.get("/readyz")
    assert (reply.status_code, reply.json()) == (
        503,
        {
            "status": "unavailable",
            "failed": ["broker"],
            "checks": {
                "database": "ok",
                "broker": "unreachable: OperationalError",
                "migrations": "ok",
            },
        },
    )


def test_readyz_names_an_unapplied_migration_with_a_503(client, db, settings):
    settings.MIGRATION_MODULES = {"vocsite": "tests.pending_migration"}
    reply = client.get("/readyz")
    assert (reply.status_code, reply.json()["failed"], reply.json()["checks"]["migrations"]) == (
        503,
        ["migrations"],
        "1 unapplied",
    )


# ---------------------------------------------------------------- metrics


def test_metrics_do_not_exist_without_a_token_and_refuse_a_wrong_one(client, db, settings):
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics").status_code == 404
    settings.METRICS_TOKEN = TOKEN
    for header in ({}, {"HTTP_AUTHORIZATION": "Bearer wrong"}, {"HTTP_AUTHORIZATION": TOKEN}):
        reply = client.get("/metrics", **header)
        assert (reply.status_code, reply.json()["error"]["code"]) == (401, "not_authenticated")
        assert reply["WWW-Authenticate"] == 'Bearer realm="metrics"'
        assert b"vocsite_" not in reply.content


def test_metrics_count_decide_reasons_and_time_requests_per_route(
    project, survey, touchpoint, scraper
):
    widget = APIClient()
    widget.defaults["HTTP_ORIGIN"] = "http://shop.example"
    shown = ("vocsite_decide_outcomes_total", (("reason", "shown"),))
    no_survey = ("vocsite_decide_outcomes_total", (("reason", "no_survey"),))
    timed = (
        "vocsite_http_request_duration_seconds_count",
        (("method", "POST"), ("route", "widget-decide")),
    )
    before = scraper()

    for visitor, key in (("v-1", touchpoint.key), ("v-2", touchpoint.key), ("v-3", "nowhere")):
        body = {"key": project.public_key, "visitor_id": visitor, "touchpoint": key}
        assert widget.post("/api/widget/v1/decide", body, format="json").status_code == 200

    after = scraper()
    assert after[shown] - before.get(shown, 0) == 2
    assert after[no_survey] - before.get(no_survey, 0) == 1
    assert after[timed] - before.get(timed, 0) == 3
    # The route is the URL's name: a path that matched nothing is one label, not one per path.
    assert widget.get("/api/widget/v1/no-such-thing").status_code == 404
    unmatched = (
        "vocsite_http_request_duration_seconds_count",
        (("method", "GET"), ("route", "unmatched")),
    )
    assert scraper()[unmatched] - after.get(unmatched, 0) == 1


def test_metrics_read_queue_depths_and_quarantined_answers_when_scraped(survey, broker, scraper):
    answered(survey, 9, processed=True)  # its processing task waits in the broker
    waiting = answered(survey, 3, processed=False)
    ProcessingFailure.objects.create(
        project=survey.project, response=waiting, attempts=5, quarantined_at=timezone.now()
    )
    series = scraper()
    assert {name: value for name, value in series.items() if name[0] == "vocsite_queue_depth"} == {
        ("vocsite_queue_depth", (("queue", "alerts"),)): 0,
        ("vocsite_queue_depth", (("queue", "default"),)): 0,
        ("vocsite_queue_depth", (("queue", "rollups"),)): 1,
    }
    assert series[("vocsite_quarantined_answers", ())] == 1


def test_metrics_without_a_broker_leave_out_the_queue_depths(db, scraper):
    series = scraper()
    assert [name for name in series if name[0] == "vocsite_queue_depth"] == []
    assert series[("vocsite_quarantined_answers", ())] == 0


def test_metrics_count_a_failed_task_by_its_name(db, scraper, settings):
    failed = ("vocsite_celery_task_failures_total", (("task", "feedback.tasks.retag_project"),))
    before = scraper().get(failed, 0)
    # A retagging run that does not exist: the task raises, as it would in a worker.
    # Kept in the result, as a worker does, rather than raised into the caller.
    settings.CELERY_TASK_EAGER_PROPAGATES = False
    result = celery_app.tasks["feedback.tasks.retag_project"].apply(args=(10**9,))
    assert isinstance(result.result, RetagRun.DoesNotExist)
    assert scraper()[failed] - before == 1


# ---------------------------------------------------------------- logs


def test_a_log_line_is_one_json_object_with_the_request_id(client, db):
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(json_formatter())
    handler.addFilter(RequestIdFilter())
    logger = logging.getLogger("django.request")
    logger.addHandler(handler)
    try:
        reply = client.get("/app/no-such-page", HTTP_X_REQUEST_ID="lb-7f3a.1")
    finally:
        logger.removeHandler(handler)
    assert (reply.status_code, reply["X-Request-ID"]) == (404, "lb-7f3a.1")
    line = json.loads(stream.getvalue().splitlines()[-1])
    assert set(line) == {"time", "level", "logger", "message", "request_id", "status_code"}
    assert (line["level"], line["logger"], line["message"], line["request_id"]) == (
        "WARNING",
        "django.request",
        "Not Found: /app/no-such-page",
        "lb-7f3a.1",
    )
    assert line["status_code"] == 404


def test_a_request_id_that_is_not_a_plain_token_is_replaced(client, db):
    reply = client.get("/healthz", HTTP_X_REQUEST_ID='evil" injected="1')
    assert len(reply["X-Request-ID"]) == 32 and reply["X-Request-ID"].isalnum()
    assert client.get("/healthz")["X-Request-ID"] != reply["X-Request-ID"]
