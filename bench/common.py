"""Shared bits of the benchmark scripts: Django set-up, argument parsing, result output."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"


def setup_django() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vocsite.settings.production")
    import django

    django.setup()
    print(f"ran on: {services_settings()}", flush=True)


def services_settings() -> str:
    """The durability settings of the PostgreSQL and Redis this run measured: the figures of a
    throwaway cluster (no fsync) and of a durable one are not comparable."""
    import redis
    from django.conf import settings
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_setting('fsync'), current_setting('synchronous_commit'),"
            " current_setting('full_page_writes')"
        )
        fsync, synchronous_commit, full_page_writes = cursor.fetchone()
    postgres = (
        f"PostgreSQL fsync={fsync} synchronous_commit={synchronous_commit}"
        f" full_page_writes={full_page_writes}"
    )
    if not settings.REDIS_URL:
        return postgres
    config = redis.Redis.from_url(settings.REDIS_URL).config_get("appendonly")
    return f"{postgres}; Redis appendonly={config.get('appendonly', '?')}"


def arguments(**defaults) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base-url", default="http://127.0.0.1:8000")
    for name, value in defaults.items():
        parser.add_argument(f"--{name.replace('_', '-')}", type=type(value), default=value)
    return parser.parse_args()


def write(name: str, result: dict) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(result, indent=2, default=str))


def row(name: str, measured: str, baseline: str, target: str, met: bool) -> None:
    print(
        f"| {name} | {measured} | {baseline} | {target} | {'met' if met else 'MISSED'} |",
        flush=True,
    )
