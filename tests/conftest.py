"""Fixtures shared by the whole suite: one per concept. `survey` is the published survey at
a touchpoint; `respond` (like `answered` in tests/factories.py) claims then answers through
the real services and runs the real pipeline (eager tasks, on-commit callbacks executed);
`broker` and `broker_down` publish for real; `receiver` is a real HTTP
server that verifies webhook signatures; `demo` is the demo seeded once per run."""

from __future__ import annotations

import json
import logging
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core import serializers
from django.core.cache import cache
from django.core.management.color import no_style
from django.db import connection, transaction
from django.test import TestCase
from django.utils import timezone, translation
from hypothesis import settings as hypothesis_settings
from rest_framework.test import APIClient
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from feedback.cases.services import alert_rules_install_defaults
from metrics.demo.seed import demo_seed
from surveys.tenancy.models import Project
from surveys.tenancy.services import api_key_create
from tests.factories import (
    MembershipFactory,
    ProjectFactory,
    TouchpointFactory,
    UserFactory,
    answered,
    published_survey,
)
from tests.sql import Snapshot, tables_copy, tables_write
from vocsite import caches
from vocsite.celery import app as celery_app
from vocsite.sql import planner_statistics_refresh

# Hypothesis example budgets, by name: each property states why its budget reaches every
# kind of input its strategy draws.
# "payloads": pure conversion of a request body, a body differing from a valid one in a few
# fields; 500 examples reach every field with every kind of value.
hypothesis_settings.register_profile("payloads", max_examples=500, deadline=None)
# "api_fuzz": random requests to one API operation through the whole stack, on top of
# schemathesis's coverage phase, which already sends every boundary and every negative case
# the schema defines for each parameter and body field; 5 random combinations per operation
# (new ones each run: the seed is not fixed) add to that.
hypothesis_settings.register_profile("api_fuzz", max_examples=5, deadline=None)


@pytest.fixture(autouse=True)
def _default_language_and_timezone_after():
    """A request leaves its language (LocaleMiddleware) and a page its project's timezone
    active in the thread; the next test starts from the defaults, whatever ran before it."""
    yield
    translation.deactivate()
    timezone.deactivate()


@pytest.fixture
def fresh_rate_counters():
    """Rate-limit counters live in the cache: each test starts and leaves them at zero."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def caches_on(settings):
    """The configuration caches (vocsite.caches) on, as in production (the test settings turn
    them off), and empty at the start and the end: a rolled-back test's SQLite ids come back in
    the next test, and must not find this one's entries."""
    settings.WIDGET_PROJECT_CACHE_SECONDS = 30
    caches.clear_all()
    yield
    caches.clear_all()


@pytest.fixture
def project(db):
    return ProjectFactory()


@pytest.fixture
def touchpoint(project):
    return TouchpointFactory(project=project, key="checkout_completed")


@pytest.fixture
def secret_key(project) -> str:
    return api_key_create(project=project).raw


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def server_client(secret_key) -> APIClient:
    """An API client authenticated with the project's secret key."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret_key}")
    return client


@pytest.fixture
def staff_user(project):
    user = UserFactory()
    MembershipFactory(user=user, project=project, role="admin")
    return user


@pytest.fixture
def survey(project, touchpoint):
    """The suite's survey: an NPS question and a "why" for detractors, published at the
    `checkout_completed` touchpoint, shown every time it is asked for (no cooldown, no cap),
    with the project's default alert rules and a `plan` breakdown."""
    project.recontact_days = 0
    project.frequency_cap = 10_000
    project.breakdown_attributes = ["plan"]
    project.save()
    alert_rules_install_defaults(project=project)  # as project_create does
    return published_survey(
        project, touchpoints=[touchpoint], display_option="always", recontact_days=0
    )


@pytest.fixture
def respond(survey):
    """respond(score, text="", user="u1", attributes=None, survey=None) → the processed
    Response: `answered` (tests/factories.py) as the signed-in customer `user`."""

    def submit(score: int, text: str = "", user: str = "u1", attributes=None, survey=survey):
        return answered(survey, score, text or None, user_id=user, attributes=attributes)

    return submit


class Receiver:
    """A real HTTP server answering with the queued statuses (then 200), verifying signatures.
    `bodies` are the replies' bodies, in turn (then "ok"): a chat platform's error code comes
    in a 200's body. Each request is kept with its path (a DingTalk signature is in the URL)."""

    def __init__(self):
        self.secret = ""
        self.statuses: list[int] = []
        self.bodies: list[bytes] = []
        self.delay = 0.0
        self.received: list[dict] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"])).decode()
                payload, verified = json.loads(body), False
                if (
                    receiver.secret
                ):  # a Standard Webhooks endpoint's (chat platforms sign otherwise)
                    try:
                        payload = Webhook(receiver.secret).verify(body, dict(self.headers))
                        verified = True
                    except WebhookVerificationError:
                        pass
                receiver.received.append(
                    {
                        "path": self.path,
                        "headers": dict(self.headers),
                        "payload": payload,
                        "verified": verified,
                        "body": body,
                    }
                )
                time.sleep(receiver.delay)
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.end_headers()
                reply = b"ok" if status < 300 else b"receiver is down"
                self.wfile.write(receiver.bodies.pop(0) if receiver.bodies else reply)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.close()


class MemoryBroker:
    """Tasks published for real, to kombu's in-memory transport instead of Redis: what a test
    reads back is the message a worker would get (task name, arguments, expiry), and `work()`
    runs the queued messages the way a worker does, until none is left."""

    QUEUES = ("default", "rollups", "alerts")

    def take(self, queue: str = "rollups") -> list[dict]:
        """Remove and return the messages waiting in `queue`, oldest first."""
        taken = []
        with celery_app.connection_for_read() as connection:
            channel = connection.default_channel
            while (message := channel.basic_get(queue, no_ack=True)) is not None:
                args, kwargs, _ = message.decode()
                taken.append(
                    {
                        "task": message.headers["task"],
                        "args": args,
                        "kwargs": kwargs,
                        "expires": message.headers.get("expires"),
                    }
                )
        return taken

    def work(self) -> list[tuple[str, tuple, dict]]:
        """Run every queued message (and those they publish); returns what ran, in order."""
        ran = []
        while messages := [m for queue in self.QUEUES for m in self.take(queue)]:
            for message in messages:
                ran.append((message["task"], tuple(message["args"]), message["kwargs"]))
                # A worker commits as it goes; inside the test's transaction, what the task
                # leaves for after commit is run as it returns.
                with TestCase.captureOnCommitCallbacks(execute=True):
                    celery_app.tasks[message["task"]].apply(message["args"], message["kwargs"])
        return ran


@pytest.fixture
def broker(settings):
    """Publishing goes to an in-memory broker (no eager run); emptied afterwards."""
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = "memory://"
    # Celery keeps the producer pool of the first publish (eager ones too) on `app.amqp`, a
    # cached property: dropped so publishing connects to this broker, and again afterwards.
    del celery_app.amqp
    memory = MemoryBroker()
    yield memory
    for queue in MemoryBroker.QUEUES:
        memory.take(queue)
    del celery_app.amqp


class BrokerOutage(logging.Handler):
    """Publishing goes to a Redis nobody listens on (a closed port), and fails at once (no
    reconnect attempts): the real error path of an unreachable broker. `attempts` are the
    object ids whose publish failed, from the warning each failure logs; `end()` is Redis
    coming back (tasks run eagerly again)."""

    def __init__(self, settings) -> None:
        super().__init__()
        self.settings = settings
        self.attempts: list[int] = []
        self.saved = (settings.CELERY_TASK_ALWAYS_EAGER, settings.CELERY_BROKER_URL)
        settings.CELERY_TASK_ALWAYS_EAGER = False
        settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
        settings.CELERY_BROKER_TRANSPORT_OPTIONS = {
            **settings.CELERY_BROKER_TRANSPORT_OPTIONS,
            "max_retries": 0,
        }
        del celery_app.amqp  # the producer pool cached for the previous broker (see `broker`)
        logging.getLogger("vocsite.publish").addHandler(self)

    def emit(self, record: logging.LogRecord) -> None:
        self.attempts.append(record.args[1][0])

    def end(self) -> None:
        logging.getLogger("vocsite.publish").removeHandler(self)
        self.settings.CELERY_TASK_ALWAYS_EAGER, self.settings.CELERY_BROKER_URL = self.saved
        del celery_app.amqp


@pytest.fixture
def broker_down(settings):
    outage = BrokerOutage(settings)
    yield outage
    outage.end()


# ---------------------------------------------------------------- the demo, seeded once per run

DEMO_APPS = ("vocsite", "surveys", "feedback", "metrics")


def _demo_models() -> list:
    """The models the demo writes rows to (its staff users and the apps' rows; not content
    types and permissions, which a flush recreates under new ids), parents before children."""
    models = [get_user_model()]
    models += [m for label in DEMO_APPS for m in apps.get_app_config(label).get_models()]
    return serializers.sort_dependencies([(None, models)], allow_cycles=True)


def _demo_tables(models: list) -> list[str]:
    """The models' tables and those of their many-to-many fields."""
    tables = [m._meta.db_table for m in models]
    tables += [
        field.remote_field.through._meta.db_table
        for m in models
        for field in m._meta.local_many_to_many
        if field.remote_field.through._meta.auto_created
    ]
    return list(dict.fromkeys(tables))


@pytest.fixture(scope="session")
def demo_rows(django_db_setup, django_db_blocker) -> Snapshot:
    """The demo (metrics.demo.seed, seed 7) seeded once per test run and kept as its rows; the
    seeding itself is rolled back, so no other test sees it."""
    with django_db_blocker.unblock(), transaction.atomic():
        demo_seed(seed=7)
        rows = tables_copy(_demo_tables(_demo_models()))
        transaction.set_rollback(True)
    return rows


@pytest.fixture
def demo(demo_rows, django_db_blocker) -> Project:
    """The demo project with its history, written from the rows seeded once per run: in a test
    that runs in a transaction it is rolled back with it, in a transactional (browser) test it
    is flushed with the rest."""
    with django_db_blocker.unblock(), transaction.atomic():
        tables_write(demo_rows)
        with connection.cursor() as cursor:
            for sql in connection.ops.sequence_reset_sql(no_style(), _demo_models()):
                cursor.execute(sql)
        # Statistics for the rows just written (rolled back with them): planned for the empty
        # tables autovacuum last saw, the dashboards' joins take minutes on PostgreSQL.
        planner_statistics_refresh()
    return Project.objects.get(is_demo=True)
