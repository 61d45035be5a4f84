"""Builders for closed-loop tests: answers submitted through the real services, processed by
the real pipeline (eager tasks, on-commit callbacks executed)."""

from __future__ import annotations

import uuid

import pytest

from feedback.cases import alert_rules_install_defaults
from feedback.responses import AnswerIn, response_submit
from surveys.ledger import contact_resolve, display_claim
from tests.factories import published_survey


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
