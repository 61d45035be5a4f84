"""A 1–5 CES worded as effort (1 = very low effort) reads the other way round everywhere an
answer is judged good or bad: alert rules, recovery and the frontline's unhappy list."""

from __future__ import annotations

import pytest

from feedback.answering.models import Answer
from feedback.answering.selectors import unhappy_scores
from feedback.cases.models import Case
from feedback.cases.services import CaseChange, alert_rules_install_defaults, case_change
from surveys.design.services import QuestionIn
from tests.factories import RootCauseFactory, answered, published_survey

pytestmark = pytest.mark.django_db


@pytest.fixture
def answer(project, touchpoint):
    project.recontact_days = 0
    project.frequency_cap = 1000
    project.save()
    alert_rules_install_defaults(project=project)  # CES 1–3 opens a case (agreement reading)
    survey = published_survey(
        project,
        touchpoints=[touchpoint],
        questions=[
            QuestionIn(
                type="ces",
                text={"en": "How much effort did it take?"},
                scale={"min": 1, "max": 5},
                scale_wording="effort",
            )
        ],
        display_option="always",
        recontact_days=0,
    )

    def send(score: int, user: str = "u1"):
        return answered(survey, score, user_id=user)

    return send


def test_much_effort_opens_a_case_and_little_effort_does_not(answer):
    answer(1, user="easy")
    assert Case.objects.count() == 0
    answer(5, user="hard")
    assert Case.objects.get().contact.user_id == "hard"


def test_the_unhappy_list_holds_much_effort_only(answer):
    answer(1, user="easy")
    answer(4, user="hard")
    unhappy = Answer.objects.filter(unhappy_scores())
    assert [a.response.contact.user_id for a in unhappy] == ["hard"]


def test_very_little_effort_later_recovers_the_case(answer):
    answer(5)
    case = Case.objects.get()
    case_change(
        case=case,
        actor=None,
        change=CaseChange(
            status="resolved",
            root_cause=RootCauseFactory(project=case.project, name="product"),
            resolution_note="called",
        ),
    )
    answer(5)  # still much effort: not recovered
    case.refresh_from_db()
    assert case.recovered is False
    answer(1)
    case.refresh_from_db()
    assert case.recovered is True
