"""No known secrets outside the demo: `seed_demo` (staff logins with a known password) refuses
production settings, and the embedded default makes its own random secret key on first run,
kept in var/secret_key for its owner only. Only the test settings carry a fixed key."""

import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from surveys.tenancy.models import Project
from tests.test_settings import GOOD_ENV
from vocsite.settings.local import local_secret_key

ROOT = Path(__file__).resolve().parent.parent


def _run(code_or_args: list[str], **env_overrides: str) -> subprocess.CompletedProcess:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "DATABASE_", "REDIS_", "CELERY_"))
    }
    return subprocess.run(
        [sys.executable, *code_or_args],
        cwd=ROOT,
        env=env | env_overrides,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_seed_demo_refuses_production_settings():
    """Refused before anything is read or written: the database named here does not exist."""
    result = _run(["manage.py", "seed_demo"], **GOOD_ENV)
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stdout == ""
    assert result.stderr.strip() == (
        "CommandError: Refusing to seed the demo under vocsite.settings.production: its staff "
        "logins have a known password. The demo belongs to the embedded default (make run, "
        "vocsite.settings.local); create real projects with manage.py create_project."
    )


@pytest.mark.django_db
def test_seed_demo_refuses_settings_that_do_not_allow_the_demo(settings):
    del settings.VOCSITE_DEMO_ALLOWED
    with pytest.raises(CommandError, match="Refusing to seed the demo"):
        call_command("seed_demo")
    assert not Project.objects.exists()


def test_the_local_secret_key_is_random_private_and_kept(tmp_path):
    path = tmp_path / "var" / "secret_key"
    key = local_secret_key(path)
    assert re.fullmatch(r"[A-Za-z0-9_-]{86}", key)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text() == key + "\n"
    assert local_secret_key(path) == key  # the next start uses the same key
    assert local_secret_key(tmp_path / "other" / "secret_key") != key


def test_a_key_file_others_can_read_is_made_private(tmp_path):
    path = tmp_path / "secret_key"
    path.write_text("kept-from-an-earlier-run\n")
    path.chmod(0o644)
    assert local_secret_key(path) == "kept-from-an-earlier-run"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_the_embedded_default_uses_its_kept_key():
    code = "from django.conf import settings; print(settings.SECRET_KEY)"
    result = _run(["-c", code], DJANGO_SETTINGS_MODULE="vocsite.settings.local")
    assert result.returncode == 0, result.stderr
    kept = ROOT / "var" / "secret_key"
    assert result.stdout.strip() == kept.read_text().strip()
    assert len(result.stdout.strip()) >= 50
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600


def test_only_the_test_settings_carry_a_fixed_secret_key():
    fixed = [
        path.name
        for path in sorted((ROOT / "vocsite" / "settings").glob("*.py"))
        if re.search(r"^SECRET_KEY\s*=\s*[\"']", path.read_text(), re.MULTILINE)
    ]
    assert fixed == ["test.py"]
