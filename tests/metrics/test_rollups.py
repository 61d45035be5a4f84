"""Rollups equal a direct count over raw answers (unfinished responses left out), are counted
exactly once, and the rebuild produces exactly the same cells as the incremental path."""

import random
import uuid
from collections import Counter
from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from feedback.answering.models import Answer
from feedback.answering.pipeline import response_process
from feedback.answering.services import AnswerIn, response_submit
from metrics.rollups.models import Rollup
from metrics.rollups.services import rollup_response, rollups_rebuild
from surveys.delivery.ledger import contact_resolve, display_claim
from surveys.design.services import QuestionIn
from tests.factories import StageFactory, TouchpointFactory, published_survey

pytestmark = pytest.mark.django_db


def cells() -> Counter:
    return Counter(
        {
            (
                r.survey_id,
                str(r.question_uid),
                r.touchpoint_key,
                r.stage_key,
                r.channel,
                r.breakdown_attribute,
                r.breakdown_value,
                r.day,
                r.score,
            ): r.count
            for r in Rollup.objects.all()
        }
    )


def build_history(project, seed: int, responses: int = 120, days: int = 30):
    """Random answers through the real services across touchpoints, channels, segments, days."""
    rng = random.Random(seed)
    project.breakdown_attributes = ["plan", "region"]
    project.recontact_days = 0
    project.frequency_cap = 10_000
    project.save()
    stage = StageFactory(project=project, key="buy")
    web = TouchpointFactory(project=project, key="checkout", stage=stage, channel="web")
    app = TouchpointFactory(project=project, key="in_app", stage=None, channel="app")
    survey = published_survey(
        project,
        touchpoints=[web, app],
        display_option="always",
        recontact_days=0,
        questions=[
            QuestionIn(type="nps", text={"en": "NPS"}),
            QuestionIn(
                type="csat", text={"en": "CSAT"}, scale={"min": 1, "max": 5}, required=False
            ),
        ],
    )
    questions = survey.current_version.snapshot["questions"]
    start = timezone.now() - timedelta(days=days)
    for i in range(responses):
        with time_machine.travel(
            start + timedelta(days=rng.randint(0, days - 1), hours=rng.randint(0, 23)), tick=False
        ):
            attributes = {"plan": rng.choice(["free", "pro"])}
            if rng.random() < 0.7:
                attributes["region"] = rng.choice(["cn", "eu"])
            contact = contact_resolve(project=project, visitor_id=f"v{i}", attributes=attributes)
            claim = display_claim(
                project=project, contact=contact, touchpoint_key=rng.choice(["checkout", "in_app"])
            )
            answers = [AnswerIn(questions[0]["id"], rng.randint(0, 10))]
            if rng.random() < 0.6:
                answers.append(AnswerIn(questions[1]["id"], rng.randint(1, 5)))
            response_submit(
                project=project,
                display=claim.display,
                submission_id=uuid.uuid4(),
                answers=answers,
                finished=rng.random() < 0.9,
            )
    return survey


def direct_count() -> Counter:
    """What the rollups must hold, counted straight from raw rows."""
    expected: Counter = Counter()
    for a in Answer.objects.filter(response__finished=True).select_related(
        "response__touchpoint__stage", "question"
    ):
        r, tp = a.response, a.response.touchpoint
        base = (
            r.survey_id,
            str(a.question.uid),
            tp.key,
            tp.stage.key if tp.stage else "",
            tp.channel,
            "",
            "",
            r.finished_at.date(),
            a.value_int,
        )
        expected[base] += 1
        for attribute in ("plan", "region"):
            if attribute in r.segment:
                expected[(*base[:5], attribute, r.segment[attribute], *base[7:])] += 1
    return expected


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_incremental_rollups_equal_a_direct_count_and_the_rebuild(
    project, seed, django_capture_on_commit_callbacks
):
    """60 responses over 8 days fill about 220 cells, 18 to 29 of them (by seed) more than
    once: both the insert and the increment of a cell are exercised, as by 120 over 30 days."""
    with django_capture_on_commit_callbacks(execute=True):
        build_history(project, seed, responses=60, days=8)
    expected = direct_count()
    assert sum(expected.values()) > 0
    assert sum(n > 1 for n in expected.values()) > 10  # cells counted into more than once
    assert cells() == expected  # processed in-process on commit (eager mode)
    # The unfinished responses among them are left out, not rolled up.
    unfinished = project.responses.filter(finished=False)
    assert unfinished.exists()
    assert all(r.rolled_up_at is None for r in unfinished)
    rollups_rebuild(project=project)
    assert cells() == expected


def test_processing_twice_counts_once(project, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        build_history(project, seed=9, responses=10)
    assert cells()
    before = cells()
    response_ids = list(project.responses.filter(finished=True).values_list("pk", flat=True))
    for response_id in response_ids:
        assert rollup_response(response_id) is False
        response_process(response_id)
    assert cells() == before


def test_the_rebuild_aggregates_in_memory_on_postgresql(project):
    """Its GROUP BY runs with REBUILD_WORK_MEM (PostgreSQL's 4 MB default sorted 1M answers on
    disk); SQLite has no such setting and is left alone. The setting in force is read on the
    database connection just before each GROUP BY statement runs."""
    seen: list[str] = []

    def work_mem_at_group_by(execute, sql, params, many, context):
        if connection.vendor == "postgresql" and "GROUP BY" in sql:
            with context["connection"].connection.cursor() as cursor:
                cursor.execute("SHOW work_mem")
                seen.append(cursor.fetchone()[0])
        return execute(sql, params, many, context)

    project.breakdown_attributes = ["plan"]
    project.save(update_fields=["breakdown_attributes"])
    with connection.execute_wrapper(work_mem_at_group_by):
        rollups_rebuild(project=project)
    assert seen == (["128MB", "128MB"] if connection.vendor == "postgresql" else [])
