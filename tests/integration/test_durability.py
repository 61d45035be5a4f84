"""The durable full mode's promise: an answer the server accepted (a 2xx) survives PostgreSQL
dying under it. The test starts the shape of `make up` on ports of its own — PostgreSQL with
its durable defaults (fsync, synchronous_commit, full_page_writes), Redis with an append-only
file, gunicorn with the production settings, a Celery worker — ingests answers through the
real HTTP server from several clients, SIGKILLs every PostgreSQL process mid-ingest (as a
power cut would leave it: no shutdown, no checkpoint), starts it again (crash recovery from
the WAL), and lets the clients retry as the widget does, with the same submission id.

Afterwards every answer that got a 2xx is stored, each once, and the rollups count each
stored answer exactly once.

What a SIGKILL can and cannot tell: the kernel's page cache outlives the processes, so this
cannot tell fsync from no fsync (only losing the machine's power can). It does catch a commit
acknowledged while its WAL was still in PostgreSQL's own memory, as `synchronous_commit=off`
allows: run with the throwaway cluster's settings, one of two runs lost a display decide had
claimed (its answer was then refused with a 404)."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest
import requests

from tests.integration.conftest import ROOT, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]

# The newest installed PostgreSQL, as scripts/services.sh picks it.
_INSTALLED = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name))
PG_BIN = _INSTALLED[-1] if _INSTALLED else None
SECRET_KEY = "durability-test-" + "k" * 48
CLIENTS = 4
VISITORS_PER_CLIENT = 60


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def as_postgres(*command: str) -> list[str]:
    """PostgreSQL refuses to run as root: as scripts/services.sh does, run it as `postgres`."""
    return ["runuser", "-u", "postgres", "--", *command] if os.getuid() == 0 else list(command)


class DurablePostgres:
    """A PostgreSQL cluster of its own, with nothing but PostgreSQL's (durable) defaults."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.data = folder / "data"
        self.port = free_port()
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/vocsite"

    def create(self) -> None:
        self.data.mkdir()
        if os.getuid() == 0:
            shutil.chown(self.folder, "postgres", "postgres")
            shutil.chown(self.data, "postgres", "postgres")
        subprocess.run(
            as_postgres(
                str(PG_BIN / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres"
            ),
            check=True,
            capture_output=True,
        )
        self.start()
        subprocess.run(
            as_postgres(
                str(PG_BIN / "createdb"),
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-U",
                "postgres",
                "vocsite",
            ),
            check=True,
            capture_output=True,
        )

    def start(self) -> None:
        subprocess.run(
            as_postgres(
                str(PG_BIN / "pg_ctl"),
                "-D",
                str(self.data),
                "-l",
                str(self.folder / "server.log"),
                "-w",
                "-o",
                f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1",
                "start",
            ),
            check=True,
            capture_output=True,
            timeout=120,
        )

    def stop(self) -> None:
        subprocess.run(
            as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop"),
            capture_output=True,
            timeout=60,
        )

    def kill(self) -> None:
        """SIGKILL the postmaster and every process it started, the postmaster first so it
        cannot restart the others: the state a crash of the host leaves on disk."""
        postmaster = int((self.data / "postmaster.pid").read_text().split()[0])
        children = [pid for pid in _pids() if _parent(pid) == postmaster]
        os.kill(postmaster, signal.SIGKILL)
        for pid in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        assert wait_for(lambda: not self.answers(), timeout=30), "PostgreSQL did not die"
        assert wait_for(lambda: all(not _alive(pid) for pid in [postmaster, *children]), timeout=30)

    def answers(self) -> bool:
        try:
            with psycopg.connect(self.url, connect_timeout=2) as connection:
                connection.execute("SELECT 1")
            return True
        except psycopg.OperationalError:
            return False

    def query(self, sql: str, *params) -> list[tuple]:
        with psycopg.connect(self.url, connect_timeout=5) as connection:
            return connection.execute(sql, params).fetchall()

    def log(self) -> str:
        return (self.folder / "server.log").read_text(errors="replace")


def _pids() -> list[int]:
    return [int(name) for name in os.listdir("/proc") if name.isdigit()]


def _parent(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[1])


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@dataclass
class Stack:
    folder: Path
    postgres: DurablePostgres
    env: dict
    base_url: str
    processes: list[subprocess.Popen] = field(default_factory=list)

    def manage(self, *args: str) -> str:
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert result.returncode == 0, result.stderr[-3000:]
        return result.stdout

    def spawn(self, name: str, *command: str) -> None:
        log = open(self.folder / f"{name}.log", "w")  # noqa: SIM115 (closed with the process)
        self.processes.append(
            subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=log, stderr=log)
        )

    def tail(self, name: str) -> str:
        path = self.folder / name
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""


SEED = """
import contextlib
import json
from surveys.design.services import QuestionIn, survey_create, survey_publish
from surveys.journey.services import touchpoint_create
from surveys.tenancy.services import project_create
project, _ = project_create(name="Durability", allowed_origins=[BASE_URL])
touchpoint_create(project=project, key="checkout", name="Checkout")
survey = survey_create(project=project, name="NPS",
    questions=[QuestionIn(type="nps", text={"en": "NPS"})], touchpoint_keys=["checkout"])
version = survey_publish(survey=survey)
print(json.dumps({"project": project.pk, "survey": survey.pk, "key": project.public_key,
    "question": version.snapshot["questions"][0]["id"]}))
"""

SWEEP = """
from datetime import timedelta
from django.utils import timezone
from feedback.answering.pipeline import responses_sweep
print(responses_sweep(now=timezone.now() + timedelta(minutes=3)))
"""


@pytest.fixture
def stack():
    if PG_BIN is None or shutil.which("redis-server") is None:
        pytest.fail("the durability test needs PostgreSQL and Redis installed (make services)")
    # Under /tmp, not pytest's tmp_path: the postgres user must be able to reach the folder.
    folder = Path(tempfile.mkdtemp(prefix="vocsite-durable-"))
    folder.chmod(0o755)
    postgres = DurablePostgres(folder / "pg")
    (folder / "pg").mkdir()
    redis_port, http_port = free_port(), free_port()
    (folder / "redis").mkdir()
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("PROMETHEUS_MULTIPROC_DIR", "DJANGO_SETTINGS_MODULE")
    }
    base_url = f"http://127.0.0.1:{http_port}"
    env.update(
        DJANGO_SETTINGS_MODULE="vocsite.settings.production",
        DJANGO_SECRET_KEY=SECRET_KEY,
        DATABASE_URL=postgres.url,
        REDIS_URL=f"redis://127.0.0.1:{redis_port}/0",
        DJANGO_SECURE_SSL_REDIRECT="false",
        DJANGO_SECURE_COOKIES="false",
        DJANGO_SECURE_HSTS_SECONDS="0",
        VOCSITE_BASE_URL=base_url,
        WIDGET_RATE_LIMIT_PER_IP="100000000",
        WIDGET_RATE_LIMIT_PER_VISITOR="100000000",
        LOG_LEVEL="WARNING",
    )
    running = Stack(folder, postgres, env, base_url)
    try:
        postgres.create()
        subprocess.run(
            [
                "redis-server",
                "--port",
                str(redis_port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(folder / "redis"),
                "--daemonize",
                "yes",
                "--save",
                "",
                "--appendonly",
                "yes",
                "--appendfsync",
                "everysec",
                "--logfile",
                str(folder / "redis" / "redis.log"),
            ],
            check=True,
            capture_output=True,
        )
        running.manage("migrate", "--noinput", "-v0")
        running.spawn(
            "gunicorn",
            sys.executable,
            "-m",
            "gunicorn",
            "vocsite.wsgi",
            "--bind",
            f"127.0.0.1:{http_port}",
            "--workers",
            "2",
            "--threads",
            "2",
        )
        running.spawn(
            "worker",
            sys.executable,
            "-m",
            "celery",
            "-A",
            "vocsite",
            "worker",
            "-Q",
            "default,rollups,alerts",
            "--pool=solo",
            "--without-mingle",
            "--without-gossip",
            "-l",
            "WARNING",
        )

        def ready() -> bool:
            try:
                return requests.get(f"{base_url}/readyz", timeout=2).status_code == 200
            except requests.RequestException:
                return False

        assert wait_for(ready, timeout=60), running.tail("gunicorn.log")
        yield running
    finally:
        for process in running.processes:
            process.terminate()
        for process in running.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        subprocess.run(
            ["redis-cli", "-p", str(redis_port), "shutdown", "nosave"], capture_output=True
        )
        postgres.stop()
        shutil.rmtree(folder, ignore_errors=True)


@dataclass
class Ingest:
    """Clients answering through the widget API: decide (claims a display), then the answer.
    A call that fails for the server's sake (5xx, no connection) is retried, as the widget
    retries, with the same submission id; a 4xx is the server refusing, e.g. an answer to a
    display it accepted and then lost, and is noted in `refused`."""

    base_url: str
    key: str
    question: str
    accepted: dict[str, int] = field(default_factory=dict)  # submission id -> score
    refused: list[tuple[str, int, str]] = field(default_factory=list)
    failures: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def call(self, session: requests.Session, path: str, body: dict) -> dict | None:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                reply = session.post(f"{self.base_url}{path}", json=body, timeout=10)
            except requests.RequestException:
                reply = None
            if reply is not None and 200 <= reply.status_code < 300:
                return reply.json()
            if reply is not None and 400 <= reply.status_code < 500:
                with self.lock:
                    self.refused.append((path, reply.status_code, reply.text[:200]))
                return None
            with self.lock:
                self.failures += 1
            time.sleep(0.2)
        raise AssertionError(f"{path} still failing after 120 s")

    def client(self, number: int) -> None:
        session = requests.Session()
        session.headers["Origin"] = self.base_url
        for visitor in range(VISITORS_PER_CLIENT):
            decided = self.call(
                session,
                "/api/widget/v1/decide",
                {"key": self.key, "visitor_id": f"c{number}-v{visitor}", "touchpoint": "checkout"},
            )
            if decided is None:
                continue
            assert decided["show"] is True, decided
            submission = str(uuid.uuid4())
            score = (number + visitor) % 11
            answered = self.call(
                session,
                "/api/widget/v1/responses",
                {
                    "key": self.key,
                    "display_id": decided["display_id"],
                    "submission_id": submission,
                    "answers": [{"question_id": self.question, "value": score}],
                    "finished": True,
                },
            )
            if answered is not None:
                with self.lock:
                    self.accepted[submission] = score


def test_answers_accepted_before_postgresql_is_killed_survive_it_and_count_once(stack):
    postgres = stack.postgres
    assert postgres.query(
        "SELECT current_setting('fsync'), current_setting('synchronous_commit'),"
        " current_setting('full_page_writes')"
    ) == [("on", "on", "on")]
    ready = requests.get(f"{stack.base_url}/readyz", timeout=10)
    assert (ready.status_code, ready.json()) == (
        200,
        {"status": "ready", "checks": {"database": "ok", "broker": "ok", "migrations": "ok"}},
    )
    seeded = json.loads(
        stack.manage("shell", "-v", "0", "-c", f"BASE_URL = {stack.base_url!r}\n{SEED}")
    )
    ingest = Ingest(stack.base_url, seeded["key"], seeded["question"])
    clients = [threading.Thread(target=ingest.client, args=(n,)) for n in range(CLIENTS)]
    for client in clients:
        client.start()

    total = CLIENTS * VISITORS_PER_CLIENT
    assert wait_for(lambda: len(ingest.accepted) >= total // 3, timeout=120)
    postgres.kill()
    accepted_before_kill = len(ingest.accepted)
    # While the database is gone the web processes live on and say they are not ready.
    down = requests.get(f"{stack.base_url}/readyz", timeout=10)
    assert (down.status_code, down.json()["failed"]) == (503, ["database", "migrations"])
    assert requests.get(f"{stack.base_url}/healthz", timeout=10).status_code == 200
    time.sleep(2)  # the clients keep calling a server whose database is gone
    postgres.start()
    for client in clients:
        client.join(timeout=300)
    assert not any(client.is_alive() for client in clients)

    # The kill happened mid-ingest and the server recovered from its WAL.
    assert total // 3 <= accepted_before_kill < total
    # Nothing the server accepted before the crash was forgotten after it: with
    # synchronous_commit off, decide's claimed displays were lost and their answers refused.
    assert ingest.refused == []
    assert len(ingest.accepted) == total and ingest.failures > 0
    assert "database system was interrupted" in postgres.log()

    project = seeded["project"]

    def unprocessed() -> int:
        return postgres.query(
            "SELECT count(*) FROM feedback_response"
            " WHERE project_id = %s AND finished AND processed_at IS NULL",
            project,
        )[0][0]

    # The worker retries what failed while the database was away; whatever lost its task
    # (published by a web process whose transaction's fate it never learned) the sweeper sends.
    if not wait_for(lambda: unprocessed() == 0, timeout=60):
        stack.manage("shell", "-v", "0", "-c", SWEEP)
    assert wait_for(lambda: unprocessed() == 0, timeout=180), stack.tail("worker.log")

    stored = dict(
        postgres.query(
            "SELECT submission_id::text, count(*) FROM feedback_response"
            " WHERE project_id = %s AND finished GROUP BY submission_id",
            project,
        )
    )
    assert set(ingest.accepted) <= set(stored)  # every 2xx is stored…
    assert set(stored.values()) == {1}  # …once
    assert len(stored) == total  # and nothing was stored that no client was told of at last
    by_score = dict(
        postgres.query(
            "SELECT score, sum(count) FROM metrics_rollup"
            " WHERE survey_id = %s AND breakdown_attribute = '' GROUP BY score",
            seeded["survey"],
        )
    )
    expected = {}
    for score in ingest.accepted.values():
        expected[score] = expected.get(score, 0) + 1
    assert by_score == expected  # each answer in the rollups exactly once
