"""Closed-loop tests use `survey` and `respond` from tests/conftest.py; webhook tests use the
real HTTP `receiver` (tests/conftest.py), an `endpoint` subscribed to every event, and
`delivered`."""

from __future__ import annotations

import pytest

from feedback.webhooks.services import webhook_endpoint_create


@pytest.fixture
def endpoint(project, receiver):
    endpoint = webhook_endpoint_create(
        project=project,
        url=receiver.url,
        events=[
            "response.finished",
            "case.created",
            "case.updated",
            "case.overdue",
            "feedback.created",
        ],
    )
    receiver.secret = endpoint.secret
    return endpoint


@pytest.fixture
def delivered(django_capture_on_commit_callbacks):
    """Run a block with on-commit callbacks executed (eager tasks deliver in-process)."""
    return lambda: django_capture_on_commit_callbacks(execute=True)
