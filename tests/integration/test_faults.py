"""Faults in full mode: Redis down while answers arrive; a worker SIGKILLed mid-processing.

Nothing accepted is lost, nothing is counted twice: rollup totals equal the raw answers.
"""

import os
import signal
import subprocess
import uuid
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.db.models import Sum
from django.utils import timezone
from kombu import Queue

from feedback.answering.models import Response
from feedback.answering.pipeline import queue_backlog, responses_sweep
from feedback.answering.services import AnswerIn, response_submit
from feedback.answering.tasks import process_response
from metrics.rollups.models import Rollup
from surveys.delivery.ledger import contact_resolve, display_claim
from tests.factories import ProjectFactory, TouchpointFactory, published_survey
from tests.integration.conftest import wait_for
from vocsite.celery import app

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


class RedisServer:
    """The Redis of REDIS_URL, shut down and started again on the same address.

    The restart runs `redis-server` on the host and port it stopped, with the data folder,
    log and pid files the running server reported: the suite's Redis may listen on any port
    (each test run has its own), so restarting "the" Redis of scripts/services.sh would
    bring back the wrong one and leave this run's broker down."""

    def __init__(self, url: str) -> None:
        address = urlsplit(url)
        self.host = address.hostname or "127.0.0.1"
        self.port = address.port or 6379
        self.config: dict[str, str] = {}

    def cli(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            ["redis-cli", "-h", self.host, "-p", str(self.port), *args],
            capture_output=True,
            text=True,
            timeout=30,
        )

    def answers(self) -> bool:
        return self.cli("ping").stdout.strip() == "PONG"

    def stop(self) -> None:
        for name in ("dir", "logfile", "pidfile"):
            reply = self.cli("config", "get", name).stdout.split("\n")
            self.config[name] = reply[1] if len(reply) > 1 else ""
        self.cli("shutdown", "nosave")
        assert wait_for(lambda: not self.answers(), timeout=10), "Redis did not stop"

    def start(self) -> None:
        """Start it again where it was (nothing to do if it answers)."""
        if self.answers():
            return
        options = [
            part for name, value in self.config.items() if value for part in (f"--{name}", value)
        ]
        subprocess.run(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                self.host,
                "--daemonize",
                "yes",
                "--save",
                "",
                "--appendonly",
                "no",
                *options,
            ],
            check=True,
            capture_output=True,
            timeout=30,
        )
        assert wait_for(self.answers, timeout=10), f"Redis did not come back on {self.port}"


@pytest.fixture
def redis_server():
    """The broker's Redis; started again after the test if the test left it stopped."""
    server = RedisServer(os.environ["REDIS_URL"])
    yield server
    server.start()


def answers_for(count: int):
    """A project with a survey and `count` claimed displays ready to be answered."""
    project = ProjectFactory(recontact_days=0, frequency_cap=100000)
    touchpoint = TouchpointFactory(project=project, key="checkout_completed")
    survey = published_survey(
        project, touchpoints=[touchpoint], recontact_days=0, display_option="always"
    )
    question_id = survey.current_version.snapshot["questions"][0]["id"]
    displays = []
    for i in range(count):
        contact = contact_resolve(project=project, visitor_id=f"fault-{i}")
        displays.append(
            display_claim(project=project, contact=contact, touchpoint_key=touchpoint.key).display
        )
    return project, survey, question_id, displays


def rollup_total(survey) -> int:
    return (
        Rollup.objects.filter(survey=survey, breakdown_attribute="").aggregate(n=Sum("count"))["n"]
        or 0
    )


def test_redis_down_submissions_are_kept_and_processed_exactly_once_when_it_returns(
    workers, eager_off, redis_server
):
    project, survey, question_id, displays = answers_for(25)
    redis_server.stop()
    for i, display in enumerate(displays):
        result = response_submit(
            project=project,
            display=display,
            submission_id=uuid.uuid4(),
            answers=[AnswerIn(question_id, i % 11)],
            finished=True,
        )
        assert result.created is True  # accepted although the broker is down
    assert Response.objects.filter(project=project, finished=True).count() == 25
    assert Response.objects.filter(project=project, processed_at__isnull=True).count() == 25
    assert rollup_total(survey) == 0

    redis_server.start()
    workers.start()
    assert responses_sweep(now=timezone.now() + timedelta(minutes=3)) == 25
    assert wait_for(
        lambda: not Response.objects.filter(project=project, processed_at__isnull=True).exists()
    )
    assert rollup_total(survey) == 25
    # A second sweep finds nothing, and re-running everything counts nothing twice.
    assert responses_sweep(now=timezone.now() + timedelta(minutes=3)) == 0
    assert rollup_total(survey) == 25


def test_a_worker_killed_mid_processing_loses_and_doubles_nothing(workers, eager_off):
    project, survey, question_id, displays = answers_for(150)
    for i, display in enumerate(displays):
        response_submit(
            project=project,
            display=display,
            submission_id=uuid.uuid4(),
            answers=[AnswerIn(question_id, i % 11)],
            finished=True,
        )
    first = workers.start()
    assert wait_for(
        lambda: Response.objects.filter(project=project, processed_at__isnull=False).count() >= 10,
        timeout=60,
    )
    os.kill(first.pid, signal.SIGKILL)
    first.wait(timeout=30)
    processed_at_kill = Response.objects.filter(project=project, processed_at__isnull=False).count()
    assert processed_at_kill < 150  # it really died in the middle

    workers.start()
    # The killed worker's unacknowledged messages wait for Redis's visibility timeout; the
    # sweeper does not wait: it re-enqueues whatever was committed but never processed.
    responses_sweep(now=timezone.now() + timedelta(minutes=3))
    assert wait_for(
        lambda: not Response.objects.filter(project=project, processed_at__isnull=True).exists(),
        timeout=120,
    )
    assert rollup_total(survey) == 150
    expected = {score: sum(1 for i in range(150) if i % 11 == score) for score in range(11)}
    actual = dict(
        Rollup.objects.filter(survey=survey, breakdown_attribute="")
        .values_list("score")
        .annotate(n=Sum("count"))
    )
    assert actual == expected


def test_queue_backlog_reads_the_real_broker(eager_off):
    """What the sweeper checks before adding copies: the length of a Redis-backed queue."""
    probe = Queue("sweep-probe")
    with app.connection_for_write() as connection:
        probe.bind(connection.default_channel).declare()
        try:
            for n in range(3):
                process_response.apply_async((10**9 + n,), queue="sweep-probe")
            assert queue_backlog("sweep-probe") == 3
        finally:
            probe.bind(connection.default_channel).delete()
    assert queue_backlog("no-such-queue") == 0
