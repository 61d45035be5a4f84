"""A real task through Redis to a real Celery worker process, with its effect in PostgreSQL."""

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from celery import current_app
from django.db import connection

from feedback.models import Response
from feedback.responses import AnswerIn, response_submit
from metrics.models import Rollup
from surveys.ledger import contact_resolve, display_claim
from tests.factories import ProjectFactory, TouchpointFactory, published_survey

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
ROOT = Path(__file__).resolve().parents[2]


def worker_env() -> dict:
    db = connection.settings_dict
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="vocsite.settings.test",
        CELERY_TASK_ALWAYS_EAGER="false",
        DATABASE_URL=f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
    )
    return env


@pytest.fixture
def worker():
    queue = f"it-{uuid.uuid4().hex[:8]}"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "vocsite",
            "worker",
            "-Q",
            f"{queue},default,rollups,alerts",
            "--pool=solo",
            "-c",
            "1",
            "--without-mingle",
            "--without-gossip",
            "-l",
            "WARNING",
        ],
        cwd=ROOT,
        env=worker_env(),
    )
    yield process
    process.terminate()
    process.wait(timeout=30)


def wait_for(predicate, timeout: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.25)
    return False


def test_a_finished_response_is_processed_by_a_real_worker(worker):
    project = ProjectFactory()
    touchpoint = TouchpointFactory(project=project, key="checkout_completed")
    survey = published_survey(project, touchpoints=[touchpoint])
    contact = contact_resolve(project=project, visitor_id="worker-test")
    display = display_claim(project=project, contact=contact, touchpoint_key=touchpoint.key).display
    question_id = survey.current_version.snapshot["questions"][0]["id"]

    current_app.conf.task_always_eager = False  # publish to Redis instead of running in-process
    try:
        response = response_submit(
            project=project,
            display=display,
            submission_id=uuid.uuid4(),
            answers=[AnswerIn(question_id, 10)],
            finished=True,
        ).response
    finally:
        current_app.conf.task_always_eager = True

    assert wait_for(lambda: Response.objects.get(pk=response.pk).processed_at is not None), (
        "worker never processed it"
    )
    cells = Rollup.objects.filter(survey=survey, breakdown_attribute="")
    assert list(cells.values_list("question_type", "score", "count")) == [("nps", 10, 1)]
    assert worker.poll() is None  # still running
