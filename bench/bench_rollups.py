"""Rollups (DESIGN.md §9) on PostgreSQL: incremental cost of 10,000 new responses over a
1,000,000-response history against the same over an empty history (target ≤ 2×), and a full
rebuild of 1,000,000 responses (target ≤ 60 s). History is inserted with set-based SQL."""

from __future__ import annotations

import time
import uuid

from common import arguments, row, setup_django, write

args = arguments(history=1_000_000, new=10_000)
setup_django()

from django.db import connection
from django.db.models import Sum

from feedback.models import Response
from metrics.models import Rollup
from metrics.rollups import rollup_response, rollups_rebuild
from surveys.services import (
    QuestionIn,
    project_create,
    stage_create,
    survey_create,
    survey_publish,
    touchpoint_create,
)

assert connection.vendor == "postgresql", "run in full mode (make bench)"


def make_project(label: str):
    project, _ = project_create(name=f"Bench: rollups {label} {uuid.uuid4().hex[:6]}")
    project.breakdown_attributes = ["plan"]
    project.save(update_fields=["breakdown_attributes"])
    stage = stage_create(project=project, key="use", name="Use")
    touchpoints = [
        touchpoint_create(
            project=project,
            key=f"tp_{i}",
            name=f"TP {i}",
            stage=stage,
            channel=["web", "app"][i % 2],
        )
        for i in range(10)
    ]
    survey = survey_create(
        project=project,
        name="NPS",
        questions=[QuestionIn(type="nps", text={"en": "NPS"})],
        touchpoint_keys=[t.key for t in touchpoints],
    )
    version = survey_publish(survey=survey)
    return project, survey, version, touchpoints


def insert_responses(project, survey, version, touchpoints, count: int, rolled_up: bool) -> None:
    """`count` finished responses with one NPS answer each, spread over 365 days."""
    question_id = version.snapshot["questions"][0]["id"]
    tp_ids = [t.pk for t in touchpoints]
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO feedback_response (created_at, updated_at, project_id, survey_id, version_id, touchpoint_id,
                channel, submission_id, finished, finished_at, language, meta, segment, rolled_up_at, processed_at)
            SELECT now() - mod(g, 365) * interval '1 day', now(), %s, %s, %s,
                (%s::bigint[])[1 + mod(g, cardinality(%s::bigint[]))],
                'widget', gen_random_uuid(), true, now() - mod(g, 365) * interval '1 day', 'en', '{}',
                jsonb_build_object('plan', CASE WHEN mod(g, 3) = 0 THEN 'pro' ELSE 'free' END),
                CASE WHEN %s THEN now() END, now()  -- processed: keeps the sweeper away
            FROM generate_series(1, %s) AS g
            """,
            [project.pk, survey.pk, version.pk, tp_ids, tp_ids, rolled_up, count],
        )
        cursor.execute(
            """
            INSERT INTO feedback_answer (response_id, question_id, question_type, value_int, value_text, sentiment, answered_at)
            SELECT r.id, %s, 'nps', mod(r.id * 7919, 11), '', '', now()
            FROM feedback_response r LEFT JOIN feedback_answer a ON a.response_id = r.id
            WHERE r.project_id = %s AND a.id IS NULL
            """,
            [question_id, project.pk],
        )


def incremental(project, survey, version, touchpoints) -> float:
    insert_responses(project, survey, version, touchpoints, args.new, rolled_up=False)
    ids = list(
        Response.objects.filter(project=project, rolled_up_at__isnull=True).values_list(
            "pk", flat=True
        )
    )
    started = time.perf_counter()
    for response_id in ids:
        rollup_response(response_id)
    return time.perf_counter() - started


# Incremental over an empty history.
empty = make_project("empty")
empty_seconds = incremental(*empty)

# Incremental over a 1,000,000-response history (built, then rolled up by a full rebuild).
big = make_project("history")
started = time.perf_counter()
insert_responses(*big, args.history, rolled_up=False)
insert_seconds = time.perf_counter() - started
with connection.cursor() as cursor:
    cursor.execute("ANALYZE feedback_response; ANALYZE feedback_answer; ANALYZE metrics_rollup;")
started = time.perf_counter()
cells = rollups_rebuild(project=big[0])
rebuild_seconds = time.perf_counter() - started
history_seconds = incremental(*big)

total = Rollup.objects.filter(project=big[0], breakdown_attribute="").aggregate(n=Sum("count"))["n"]
ratio = history_seconds / empty_seconds if empty_seconds else 0.0
result = {
    "name": "rollups",
    "history": args.history,
    "new": args.new,
    "insert_history_seconds": round(insert_seconds, 1),
    "rebuild_seconds": round(rebuild_seconds, 1),
    "rebuild_cells": cells,
    "incremental_empty_seconds": round(empty_seconds, 2),
    "incremental_over_history_seconds": round(history_seconds, 2),
    "ratio": round(ratio, 2),
    "rollup_total_equals_responses": total == args.history + args.new,
}
write("rollups", result)
row(
    f"rollup {args.new:,} new over {args.history:,}",
    f"{history_seconds:.1f} s",
    f"over empty history: {empty_seconds:.1f} s ({ratio:.2f}×)",
    "≤ 2×",
    ratio <= 2,
)
row(
    f"full rebuild of {args.history:,} responses",
    f"{rebuild_seconds:.1f} s ({cells:,} cells)",
    "—",
    "≤ 60 s",
    rebuild_seconds <= 60,
)
row(
    "rollup total after rebuild + incremental",
    f"{total:,}",
    f"responses: {args.history + args.new:,}",
    "exact",
    total == args.history + args.new,
)
