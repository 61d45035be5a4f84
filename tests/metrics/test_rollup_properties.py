"""Property: whatever happens — answers on a question whose scale changes, people erased, the
rollups rebuilt — the rollups equal the raw answers counted afresh, and erasure changes no
total (DESIGN.md §7; hypothesis draws the stories)."""

from __future__ import annotations

import uuid
from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from feedback.answering.models import Answer
from feedback.answering.services import AnswerIn, response_submit
from metrics.rollups.models import Rollup
from metrics.rollups.services import rollups_rebuild
from surveys.contacts.models import Contact
from surveys.contacts.services import contact_erase
from surveys.delivery.ledger import contact_resolve, display_claim
from surveys.design.services import QuestionIn, survey_publish, survey_update
from tests.factories import ProjectFactory, TouchpointFactory, published_survey

pytestmark = pytest.mark.django_db

PLANS = ["pro", "free", "Ada Lovelace"]

step = st.one_of(
    st.tuples(st.just("answer"), st.integers(1, 7), st.sampled_from(PLANS)),
    st.tuples(st.just("rescale"), st.sampled_from([3, 5, 7]), st.just("")),
    st.tuples(st.just("erase"), st.integers(0, 50), st.just("")),
    st.tuples(st.just("rebuild"), st.just(0), st.just("")),
)


def _csat(scale_max: int) -> QuestionIn:
    return QuestionIn(type="csat", text={"en": "Satisfied?"}, scale={"min": 1, "max": scale_max})


def _cells(project) -> Counter:
    return Counter(
        {
            (
                r.question_uid,
                r.scale_max,
                r.scale_wording,
                r.breakdown_attribute,
                r.breakdown_value,
                r.day,
                r.score,
            ): r.count
            for r in Rollup.objects.filter(project=project)
        }
    )


def _totals(project) -> Counter:
    """Answers per (scale, score) in the base cube, and per attribute: what metrics add up."""
    totals: Counter = Counter()
    for r in Rollup.objects.filter(project=project):
        totals[(r.breakdown_attribute, r.scale_max, r.score)] += r.count
    return totals


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(story=st.lists(step, min_size=1, max_size=14))
def test_rollups_equal_the_raw_answers_whatever_happens(story, django_capture_on_commit_callbacks):
    project = ProjectFactory(breakdown_attributes=["plan"], recontact_days=0, frequency_cap=10**4)
    touchpoint = TouchpointFactory(project=project, key="support_closed")
    survey = published_survey(
        project,
        touchpoints=[touchpoint],
        questions=[_csat(5)],
        display_option="always",
        recontact_days=0,
    )
    scale = 5
    for kind, value, plan in story:
        if kind == "answer":
            contact = contact_resolve(
                project=project,
                visitor_id=f"v-{uuid.uuid4()}",
                attributes={"plan": plan},
            )
            display = display_claim(
                project=project, contact=contact, touchpoint_key=touchpoint.key
            ).display
            question = survey.current_version.snapshot["questions"][0]["id"]
            with django_capture_on_commit_callbacks(execute=True):
                response_submit(
                    project=project,
                    display=display,
                    submission_id=uuid.uuid4(),
                    answers=[AnswerIn(question, min(value, scale))],
                    finished=True,
                )
        elif kind == "rescale":
            scale = value
            survey_update(survey=survey, questions=[_csat(scale)])
            survey_publish(survey=survey)
            survey.refresh_from_db()
        elif kind == "erase":
            people = list(
                Contact.objects.filter(project=project, erased_at__isnull=True).order_by("pk")
            )
            if people:
                before = _totals(project)
                contact_erase(contact=people[value % len(people)])
                # Erasure moves breakdown counts to one bucket; no total changes.
                assert _totals(project) == before
        else:
            rollups_rebuild(project=project)
        incremental = _cells(project)
        rollups_rebuild(project=project)
        assert _cells(project) == incremental
        # And the rollups count every scored answer exactly once in the base cube.
        answers = Answer.objects.filter(response__project=project, value_int__isnull=False)
        base = sum(n for key, n in incremental.items() if key[3] == "")  # breakdown_attribute == ""
        assert base == answers.count()
