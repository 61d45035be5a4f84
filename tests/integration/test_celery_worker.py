"""A real task through Redis to a real Celery worker process, with its effect in PostgreSQL."""

import uuid

import pytest

from feedback.models import Response
from feedback.responses import AnswerIn, response_submit
from metrics.models import Rollup
from surveys.ledger import contact_resolve, display_claim
from tests.factories import ProjectFactory, TouchpointFactory, published_survey
from tests.integration.conftest import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_a_finished_response_is_processed_by_a_real_worker(workers, eager_off):
    worker = workers.start()
    project = ProjectFactory()
    touchpoint = TouchpointFactory(project=project, key="checkout_completed")
    survey = published_survey(project, touchpoints=[touchpoint])
    contact = contact_resolve(project=project, visitor_id="worker-test")
    display = display_claim(project=project, contact=contact, touchpoint_key=touchpoint.key).display
    question_id = survey.current_version.snapshot["questions"][0]["id"]

    response = response_submit(
        project=project,
        display=display,
        submission_id=uuid.uuid4(),
        answers=[AnswerIn(question_id, 10)],
        finished=True,
    ).response

    assert wait_for(lambda: Response.objects.get(pk=response.pk).processed_at is not None), (
        "worker never processed it"
    )
    cells = Rollup.objects.filter(survey=survey, breakdown_attribute="")
    assert list(cells.values_list("question_type", "score", "count")) == [("nps", 10, 1)]
    assert worker.poll() is None  # still running
