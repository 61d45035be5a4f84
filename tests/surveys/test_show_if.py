"""The one server-side reading of a conditional question (surveys.design.show_if)."""

from __future__ import annotations

from surveys.design.show_if import shown, visible_questions

DETRACTORS = {"question_id": 1, "min": 0, "max": 6}


def test_a_question_shows_while_the_earlier_score_is_in_range():
    assert [shown(DETRACTORS, score) for score in (0, 6, 7, 10)] == [True, True, False, False]
    assert shown(None, None) is True  # no rule: always shown
    assert [shown(DETRACTORS, value) for value in (None, "3", True, 3.0)] == [False] * 4


def test_visible_questions_follow_the_answers_so_far():
    questions = [
        {"id": 1, "type": "nps"},
        {"id": 2, "type": "text", "show_if": DETRACTORS},
        {"id": 3, "type": "text", "show_if": {"question_id": 1, "min": 9, "max": 10}},
    ]
    assert [q["id"] for q in visible_questions(questions, {})] == [1]
    assert [q["id"] for q in visible_questions(questions, {1: 3})] == [1, 2]
    assert [q["id"] for q in visible_questions(questions, {1: 9})] == [1, 3]
