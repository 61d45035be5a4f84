"""Run-mode settings: production refuses unsafe configurations and passes `check --deploy`."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GOOD_ENV = {
    "DJANGO_SETTINGS_MODULE": "vocsite.settings.production",
    "DJANGO_SECRET_KEY": secrets.token_urlsafe(64),
    "DATABASE_URL": "postgres://vocsite@127.0.0.1:5432/vocsite",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "DJANGO_ALLOWED_HOSTS": "voc.example.com",
}


def _manage(*args: str, **env_overrides: str) -> subprocess.CompletedProcess:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "DATABASE_", "REDIS_", "CELERY_"))
    }
    env |= GOOD_ENV | env_overrides
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_check_deploy_is_clean():
    result = _manage("check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key():
    result = _manage("check", DJANGO_SECRET_KEY="")
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set" in result.stderr


def test_production_refuses_eager_tasks():
    result = _manage("check", CELERY_TASK_ALWAYS_EAGER="true")
    assert result.returncode != 0
    assert "no eager tasks" in result.stderr


def test_production_refuses_sqlite():
    result = _manage("check", DATABASE_URL="sqlite:////tmp/x.sqlite3")
    assert result.returncode != 0
    assert "PostgreSQL" in result.stderr


def test_production_answers_probes_over_plain_http_and_redirects_the_rest_to_https():
    probe = (
        "from django.test import Client\n"
        "c = Client(HTTP_HOST='voc.example.com')\n"
        "print([c.get(p).status_code for p in ('/healthz', '/readyz', '/metrics', '/app/')])"
    )
    result = _manage("shell", "-v", "0", "-c", probe, METRICS_TOKEN="t" * 32)
    assert result.returncode == 0, result.stderr
    # readyz: 503, the database of GOOD_ENV is not there; metrics: 401, no token sent.
    assert result.stdout.strip() == "[200, 503, 401, 301]"
