"""Fuzzing every endpoint of the OpenAPI schema with schemathesis: its coverage phase (every
boundary and negative case the schema defines), then a few random requests per operation.

Properties checked on every generated request: never a 5xx, the status code and content type
are ones the schema documents, and the body conforms to the documented response schema.
Requests carry real credentials (the project's secret key, and its public key wherever a
`key` field exists) so the fuzzing reaches past authentication into validation.
"""

from __future__ import annotations

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis import checks

from surveys.tenancy.services import project_create
from tests.factories import rolled_back_after

schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", get_wsgi_application())

CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
]


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    """schemathesis calls the WSGI application directly, not through Django's test client, so
    each request's end would close the database connection — inside the test's transaction.
    (SQLite's in-memory test database ignores the close; PostgreSQL does not.) The test client
    disconnects the same handler."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture(scope="module")
def credentials(django_db_setup, django_db_blocker):
    """One project for every operation, made once: each operation's requests run in their own
    rolled-back transaction, so what one operation writes is gone before the next."""
    with rolled_back_after(django_db_blocker):
        with django_db_blocker.unblock():
            project, key = project_create(name="Fuzz", allowed_origins=["http://fuzz.example"])
        yield {"public_key": project.public_key, "secret_key": key.raw}


def _with_keys(case, credentials: dict) -> None:
    """Put the real public key wherever a widget operation takes one."""
    if not case.path.startswith("/api/widget/"):
        return
    if isinstance(case.body, dict) and "key" in case.body:
        case.body["key"] = credentials["public_key"]
    if case.query and "key" in case.query:
        case.query["key"] = credentials["public_key"]


@schema.parametrize()
@settings(
    settings.get_profile("api_fuzz"),
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
)
def test_no_endpoint_returns_5xx_or_breaks_its_schema(case, credentials, db):
    _with_keys(case, credentials)
    case.call_and_validate(
        headers={"Authorization": f"Bearer {credentials['secret_key']}"},
        checks=CHECKS,
    )


def test_the_schema_covers_the_public_contract():
    paths = set(schema.raw_schema["paths"])
    for path in ("/api/v1/touchpoints", "/api/v1/surveys", "/api/v1/surveys/{survey_id}/publish"):
        assert path in paths
