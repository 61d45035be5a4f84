"""A real task through Redis to a real Celery worker process, with its effect in PostgreSQL."""

import uuid

import pytest

from feedback.answering.models import Response
from feedback.answering.services import AnswerIn, response_submit
from metrics.rollups.models import Rollup
from surveys.delivery.ledger import contact_resolve, display_claim
from tests.factories import ProjectFactory, TouchpointFactory, published_survey
from tests.integration.conftest import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def _survey():
    project = ProjectFactory()
    touchpoint = TouchpointFactory(project=project, key="checkout_completed")
    return published_survey(project, touchpoints=[touchpoint])


def _answer(survey, *, visitor_id: str, score: int) -> Response:
    """A visitor is shown the survey and answers its NPS question, finished."""
    project = survey.project
    contact = contact_resolve(project=project, visitor_id=visitor_id)
    display = display_claim(
        project=project, contact=contact, touchpoint_key="checkout_completed"
    ).display
    question_id = survey.current_version.snapshot["questions"][0]["id"]
    return response_submit(
        project=project,
        display=display,
        submission_id=uuid.uuid4(),
        answers=[AnswerIn(question_id, score)],
        finished=True,
    ).response


def test_a_finished_response_is_processed_by_a_real_worker(workers, eager_off):
    worker = workers.start()
    survey = _survey()
    response = _answer(survey, visitor_id="worker-test", score=10)

    assert wait_for(lambda: Response.objects.get(pk=response.pk).processed_at is not None), (
        "worker never processed it"
    )
    cells = Rollup.objects.filter(survey=survey, breakdown_attribute="")
    assert list(cells.values_list("question_type", "score", "count")) == [("nps", 10, 1)]
    assert worker.poll() is None  # still running


def _worker_backends() -> set[int]:
    """PostgreSQL backends on the test database other than this test's own connection."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return {pid for (pid,) in cursor.fetchall()}


def test_the_worker_keeps_its_database_connection_between_tasks(workers, eager_off):
    """Celery's Django fix-up closed the connection after every task, so each task paid for a
    new PostgreSQL backend; now one connection serves task after task (vocsite/celery.py)."""
    workers.start()
    survey = _survey()
    seen: list[set[int]] = []
    for n in range(4):
        response = _answer(survey, visitor_id=f"reuse-{n}", score=9)
        assert wait_for(lambda r=response: Response.objects.get(pk=r.pk).processed_at is not None)
        seen.append(_worker_backends())
    assert len(seen[0]) == 1
    assert seen == [seen[0]] * 4
