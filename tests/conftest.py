"""Fixtures shared by the whole suite. `respond` submits answers through the real services
and runs the real pipeline (eager tasks, on-commit callbacks executed)."""

from __future__ import annotations

import uuid

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from feedback.answering.services import AnswerIn, response_submit
from feedback.cases.services import alert_rules_install_defaults
from surveys.delivery.ledger import contact_resolve, display_claim
from surveys.tenancy.services import api_key_create
from tests.factories import (
    MembershipFactory,
    ProjectFactory,
    TouchpointFactory,
    UserFactory,
    published_survey,
)
from vocsite import caches


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
def nps_survey(project, touchpoint):
    project.recontact_days = 0
    project.frequency_cap = 10_000
    project.breakdown_attributes = ["plan"]
    project.save()
    alert_rules_install_defaults(project=project)  # as project_create does
    return published_survey(
        project, touchpoints=[touchpoint], display_option="always", recontact_days=0
    )


@pytest.fixture
def respond(project, nps_survey, touchpoint, django_capture_on_commit_callbacks):
    """respond(score, text="", user="u1", attributes=None) → the processed Response."""
    questions = nps_survey.current_version.snapshot["questions"]

    def submit(score: int, text: str = "", user: str = "u1", attributes=None, survey=None):
        survey_questions = (survey.current_version.snapshot["questions"]) if survey else questions
        contact = contact_resolve(
            project=project, visitor_id=None, user_id=user, attributes=attributes
        )
        key = survey.touchpoints.first().key if survey else touchpoint.key
        display = display_claim(project=project, contact=contact, touchpoint_key=key).display
        assert display is not None, "the test survey should always be shown"
        answers = [AnswerIn(survey_questions[0]["id"], score)]
        if text:
            answers.append(AnswerIn(survey_questions[1]["id"], text))
        with django_capture_on_commit_callbacks(execute=True):
            result = response_submit(
                project=project,
                display=display,
                submission_id=uuid.uuid4(),
                answers=answers,
                finished=True,
            )
        return result.response

    return submit
