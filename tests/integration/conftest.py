"""Integration tests run against real PostgreSQL and Redis (`make integration` sets
DATABASE_URL and REDIS_URL) and real Celery worker processes. They refuse to run on anything
else rather than skip."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _real_services(request):
    if request.node.get_closest_marker("integration") is None:
        return
    assert connection.vendor == "postgresql", "integration tests need DATABASE_URL=postgres://…"
    assert os.environ.get("REDIS_URL"), "integration tests need REDIS_URL=redis://…"


def worker_env() -> dict:
    """The worker talks to the same test database and Redis as the test process."""
    db = connection.settings_dict
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="vocsite.settings.test",
        CELERY_TASK_ALWAYS_EAGER="false",
        DATABASE_URL=f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
    )
    return env


class Workers:
    """Start and stop real `celery worker` processes (solo pool, prefetch 1, acks late)."""

    def __init__(self) -> None:
        self.processes: list[subprocess.Popen] = []

    def start(self) -> subprocess.Popen:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "vocsite",
                "worker",
                "-Q",
                "default,rollups,alerts",
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
        self.processes.append(process)
        return process

    def stop_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()


@pytest.fixture
def workers():
    pool = Workers()
    yield pool
    pool.stop_all()


@pytest.fixture
def eager_off():
    """Publish tasks to Redis from the test process instead of running them in-process."""
    from celery import current_app

    current_app.conf.task_always_eager = False
    yield
    current_app.conf.task_always_eager = True


def wait_for(predicate, timeout: float = 90.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.25)
    return False
