"""Set-based seeding for the PostgreSQL benchmarks: a project with a journey and surveys, and
responses with answers inserted by `generate_series` (a million rows in seconds, not hours)."""

from __future__ import annotations

import time
import uuid

from django.db import connection

from feedback.answering.models import Response
from feedback.answering.pipeline import queue_backlog
from surveys.design.services import QuestionIn, survey_create, survey_publish
from surveys.journey.services import stage_create, touchpoint_create
from surveys.tenancy.models import Project
from surveys.tenancy.services import project_create

STAGES = ("discover", "buy", "onboard", "use", "support", "renew")


def make_project(label: str, *, touchpoints: int = 10, csat: bool = False):
    """A project with six stages, `touchpoints` touchpoints spread over them, an NPS survey on
    all of them and (with `csat`) a CSAT survey on the support touchpoints.
    Returns (project, [(survey, version, touchpoints)...])."""
    project, _ = project_create(name=f"Bench: {label} {uuid.uuid4().hex[:6]}")
    project.breakdown_attributes = ["plan"]
    project.save(update_fields=["breakdown_attributes"])
    stages = [
        stage_create(project=project, key=key, name=key.title(), position=i)
        for i, key in enumerate(STAGES)
    ]
    points = [
        touchpoint_create(
            project=project,
            key=f"tp_{i}",
            name=f"Touchpoint {i}",
            stage=stages[i * len(stages) // touchpoints],
            channel=["web", "app"][i % 2],
            position=i,
        )
        for i in range(touchpoints)
    ]
    surveys = []
    nps = survey_create(
        project=project,
        name="NPS",
        questions=[QuestionIn(type="nps", text={"en": "NPS"})],
        touchpoint_keys=[t.key for t in points],
    )
    surveys.append((nps, survey_publish(survey=nps), points))
    if csat:
        support = [t for t in points if t.stage.key == "support"]
        survey = survey_create(
            project=project,
            name="CSAT",
            questions=[QuestionIn(type="csat", text={"en": "CSAT"}, scale={"min": 1, "max": 5})],
            touchpoint_keys=[t.key for t in support],
        )
        surveys.append((survey, survey_publish(survey=survey), support))
    return project, surveys


def insert_responses(project, survey, version, touchpoints, count: int, *, rolled_up: bool):
    """`count` finished responses with one answer each, spread over 365 days, touchpoints and
    two plans; scores are a fixed pseudo-random function of the row id."""
    question = version.snapshot["questions"][0]
    scale = question.get("scale") or {"min": 0, "max": 10}
    low, high = scale["min"], scale["max"]
    tp_ids = [t.pk for t in touchpoints]
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO feedback_response (created_at, updated_at, project_id, survey_id,
                version_id, touchpoint_id, channel, submission_id, finished, finished_at,
                language, meta, segment, rolled_up_at, processed_at)
            SELECT now() - mod(g, 365) * interval '1 day', now(), %s, %s, %s,
                (%s::bigint[])[1 + mod(g, cardinality(%s::bigint[]))],
                CASE WHEN mod(g, 2) = 0 THEN 'web' ELSE 'app' END, gen_random_uuid(), true,
                now() - mod(g, 365) * interval '1 day', 'en', '{}',
                jsonb_build_object('plan', CASE WHEN mod(g, 3) = 0 THEN 'pro' ELSE 'free' END),
                CASE WHEN %s THEN now() END, now()  -- processed: keeps the sweeper away
            FROM generate_series(1, %s) AS g
            """,
            [project.pk, survey.pk, version.pk, tp_ids, tp_ids, rolled_up, count],
        )
        cursor.execute(
            """
            INSERT INTO feedback_answer (response_id, question_id, question_type, value_int,
                value_text, sentiment, answered_at)
            SELECT r.id, %s, %s, %s + mod(r.id * 7919, %s), '', '', now()
            FROM feedback_response r LEFT JOIN feedback_answer a ON a.response_id = r.id
            WHERE r.project_id = %s AND r.survey_id = %s AND a.id IS NULL
            """,
            [question["id"], question["type"], low, high - low + 1, project.pk, survey.pk],
        )


def analyze() -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "ANALYZE feedback_response; ANALYZE feedback_answer; ANALYZE metrics_rollup;"
        )


def wait_processed(project: Project, deadline_seconds: float, queues: tuple[str, ...] = ()) -> None:
    """Wait (at most `deadline_seconds`) until the Celery worker has processed every stored
    response of the project and the named broker queues are empty."""
    deadline = time.monotonic() + deadline_seconds
    while time.monotonic() < deadline and (
        Response.objects.filter(project=project, processed_at__isnull=True).exists()
        or any(queue_backlog(queue) for queue in queues)
    ):
        time.sleep(1)


def settle(*tables: str) -> None:
    """VACUUM ANALYZE tables a benchmark has just rewritten in bulk (by default those a
    rollups run rewrites by the million: the earlier run's project deleted, the rebuild's
    claim UPDATE): otherwise the dead rows slow the queries that follow and autovacuum works
    through them while the next measurement runs. Seen: the full rebuild 54 s after a manual
    VACUUM, 63 s right after the deletes; the next run's raw aggregate at 10,000 responses
    33 ms vs 712 ms; decide's claim-heavy p99 1.5 s, every statement stalled for up to
    600 ms while autovacuum worked through the displays the decide reset had deleted."""
    names = ", ".join(tables or ("feedback_response", "feedback_answer", "metrics_rollup"))
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM ANALYZE {names}")


def drop_earlier(*labels: str) -> int:
    """Remove the projects earlier runs of a benchmark made (`make_project(label)`), with
    set-based deletes for their answers, responses and rollups and the ORM's cascade for the
    small rest. Each rollups run adds a 1,000,000-response project; five left behind had grown
    the database to 6 million responses while the full rebuild drifted from 57 s to 68 and 76 s
    over three runs (the growth is the likely cause, not proven)."""
    ids = [
        pk
        for label in labels
        for pk in Project.objects.filter(name__startswith=f"Bench: {label} ").values_list(
            "pk", flat=True
        )
    ]
    if ids:
        with connection.cursor() as cursor:
            cursor.execute(
                "DELETE FROM feedback_answer a USING feedback_response r"
                " WHERE a.response_id = r.id AND r.project_id = ANY(%s)",
                [ids],
            )
            cursor.execute("DELETE FROM metrics_rollup WHERE project_id = ANY(%s)", [ids])
            cursor.execute("DELETE FROM feedback_response WHERE project_id = ANY(%s)", [ids])
        Project.objects.filter(pk__in=ids).delete()
    return len(ids)
