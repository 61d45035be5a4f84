"""Integration tests run against real PostgreSQL and Redis (`make integration` sets
DATABASE_URL and REDIS_URL). They refuse to run on anything else rather than skip."""

import os

import pytest
from django.db import connection


@pytest.fixture(autouse=True)
def _real_services(request):
    if request.node.get_closest_marker("integration") is None:
        return
    assert connection.vendor == "postgresql", "integration tests need DATABASE_URL=postgres://…"
    assert os.environ.get("REDIS_URL"), "integration tests need REDIS_URL=redis://…"
