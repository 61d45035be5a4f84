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
            FROM generate_series(1, %s::int) AS g
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
    finished response of the project and the named broker queues are empty. (`finished`: the
    partial index of unprocessed responses serves the read; without it the read scanned the
    project's history, seconds at 10M answers.)"""
    deadline = time.monotonic() + deadline_seconds
    while time.monotonic() < deadline and (
        Response.objects.filter(project=project, finished=True, processed_at__isnull=True).exists()
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


# The history-growth benchmark (bench_growth.py): every contact has HISTORY_PER_CONTACT
# displays over the last two years, each answered (one NPS answer, processed and rolled up), so
# a contact's ledger is the same size at 10,000 contacts as at 1,000,000: only the tables grow.
HISTORY_PER_CONTACT = 10
HISTORY_DAYS = 730


def growth_project(name: str, *, surveys: int, origin: str) -> tuple[Project, list]:
    """The growth benchmark's project (kept between runs): `surveys` NPS surveys, each on two of
    as many touchpoints, half the visitors sampled. Returns (project, [(survey, version)...])."""
    project = Project.objects.filter(name=name).first()
    if project is None:
        project, _ = project_create(name=name, allowed_origins=[origin])
        for i in range(surveys):
            touchpoint_create(project=project, key=f"tp_{i}", name=f"Touchpoint {i}")
        for i in range(surveys):
            survey = survey_create(
                project=project,
                name=f"Survey {i}",
                questions=[QuestionIn(type="nps", text={"en": "How likely…?"})],
                touchpoint_keys=[f"tp_{i}", f"tp_{(i + 1) % surveys}"],
                sample_percent=50,
                priority=i % 3,
            )
            survey_publish(survey=survey)
    published = []
    for survey in project.surveys.select_related("current_version").order_by("pk"):
        published.append((survey, survey.current_version))
    return project, published


def history_contacts(project: Project) -> int:
    """How many contacts the growth history holds (user-1 … user-N)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM surveys_contact WHERE project_id = %s AND user_id LIKE 'user-%%'",
            [project.pk],
        )
        return cursor.fetchone()[0]


def grow_history(project: Project, surveys: list, contacts: int, *, chunk: int = 100_000) -> int:
    """Grow the project's history to `contacts` contacts (user-N, each with a visitor id
    visitor-N), each with HISTORY_PER_CONTACT answered displays spread over two years and the
    surveys' touchpoints: one response per display, one NPS answer per response, marked
    processed and rolled up (the caller rebuilds the rollups). Returns the contacts added.

    `chunk` contacts (and their rows) per round. The rows are consistent by construction, so
    the foreign-key triggers are off while they are written (`session_replication_role`):
    Django's foreign keys are deferred, and each inserted row queued a check per key until
    COMMIT (tens of millions of queued events at 10M answers)."""
    have = history_contacts(project)
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")
        try:
            for first in range(have + 1, contacts + 1, chunk):
                _grow_chunk(cursor, project, surveys, first, min(contacts, first + chunk - 1))
                print(f"  seeded contacts up to {min(contacts, first + chunk - 1):,}", flush=True)
        finally:
            cursor.execute("SET session_replication_role = DEFAULT")
    return max(0, contacts - have)


def _grow_chunk(cursor, project: Project, surveys: list, first: int, last: int) -> None:
    survey_ids = [s.pk for s, _ in surveys]
    version_ids = [v.pk for _, v in surveys]
    question_ids = [v.snapshot["questions"][0]["id"] for _, v in surveys]
    touchpoint_ids = [project.touchpoints.get(key=f"tp_{i}").pk for i in range(len(surveys))]
    cursor.execute("SELECT coalesce(max(id), 0) FROM surveys_contact")
    last_contact = cursor.fetchone()[0]
    cursor.execute("SELECT coalesce(max(id), 0) FROM feedback_response")
    last_response = cursor.fetchone()[0]
    cursor.execute(
        """
        INSERT INTO surveys_contact (created_at, updated_at, project_id, user_id, email,
            phone, attributes, language, lifecycle, revenue_total, claim_count)
        SELECT now(), now(), %s, 'user-' || g, '', '',
            jsonb_build_object('plan', CASE WHEN mod(g, 3) = 0 THEN 'pro' ELSE 'free' END),
            'en', 'active', 0, 0
        FROM generate_series(%s::int, %s::int) AS g
        """,
        [project.pk, first, last],
    )
    cursor.execute(
        """
        INSERT INTO surveys_visitorid (created_at, updated_at, project_id, visitor_id,
            contact_id)
        SELECT now(), now(), project_id, 'visitor-' || substr(user_id, 6), id
        FROM surveys_contact WHERE project_id = %s AND id > %s
        """,
        [project.pk, last_contact],
    )
    cursor.execute(
        """
        INSERT INTO surveys_display (id, created_at, updated_at, project_id, contact_id,
            survey_id, version_id, touchpoint_id, channel, status, language, url,
            claimed_at, shown_at, responded_at)
        SELECT gen_random_uuid(), t, t, project_id, id, (%s::bigint[])[s], (%s::bigint[])[s],
            (%s::bigint[])[s], 'widget', 'responded', 'en', '', t, t, t
        FROM (
            SELECT c.project_id, c.id, 1 + mod(c.id + k * 7, %s::int) AS s,
                now() - (8 + mod(c.id * 31 + k * 73, %s::int - 8)) * interval '1 day' AS t
            FROM surveys_contact c CROSS JOIN generate_series(1, %s::int) AS k
            WHERE c.project_id = %s AND c.id > %s
        ) AS spread
        """,
        [
            survey_ids,
            version_ids,
            touchpoint_ids,
            len(surveys),
            HISTORY_DAYS,
            HISTORY_PER_CONTACT,
            project.pk,
            last_contact,
        ],
    )
    cursor.execute(
        """
        INSERT INTO feedback_response (created_at, updated_at, project_id, survey_id,
            version_id, display_id, contact_id, touchpoint_id, channel, submission_id,
            finished, finished_at, language, meta, segment, rolled_up_at, processed_at)
        SELECT d.claimed_at, d.claimed_at, d.project_id, d.survey_id, d.version_id, d.id,
            d.contact_id, d.touchpoint_id, 'widget', gen_random_uuid(), true, d.claimed_at,
            'en', '{}', '{}', now(), now()
        FROM surveys_display d
        WHERE d.project_id = %s AND d.contact_id > %s AND d.status = 'responded'
        """,
        [project.pk, last_contact],
    )
    cursor.execute(
        """
        INSERT INTO feedback_answer (response_id, question_id, question_type, value_int,
            value_text, sentiment, answered_at)
        SELECT r.id, (%s::bigint[])[array_position(%s::bigint[], r.survey_id)], 'nps',
            mod(r.id * 7919, 11), '', '', r.finished_at
        FROM feedback_response r WHERE r.project_id = %s AND r.id > %s
        """,
        [question_ids, survey_ids, project.pk, last_response],
    )


def stale_claims_insert(project: Project, count: int, contacts: int) -> None:
    """`count` widget claims never confirmed, an hour old (past CLAIM_TTL), of contacts spread
    over the whole population: what the claim sweeper expires."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO surveys_display (id, created_at, updated_at, project_id, contact_id,
                survey_id, version_id, touchpoint_id, channel, status, language, url,
                claimed_at)
            SELECT gen_random_uuid(), t, t, c.project_id, c.id, d.survey_id, d.version_id,
                d.touchpoint_id, 'widget', 'claimed', 'en', '', t
            FROM generate_series(1, %s::int) AS g
            JOIN surveys_contact c
                ON c.project_id = %s AND c.user_id = 'user-' || (1 + mod(g * 7919, %s::int))
            CROSS JOIN LATERAL (SELECT survey_id, version_id, touchpoint_id FROM surveys_display
                WHERE contact_id = c.id LIMIT 1) AS d
            CROSS JOIN (SELECT now() - interval '1 hour' AS t) AS ago
            """,
            [count, project.pk, contacts],
        )


def unprocessed_responses_insert(project: Project, surveys: list, count: int) -> list[int]:
    """`count` new finished responses (one NPS answer each) not yet processed: a batch for the
    worker. Returns their ids."""
    survey_ids = [s.pk for s, _ in surveys]
    version_ids = [v.pk for _, v in surveys]
    question_ids = [v.snapshot["questions"][0]["id"] for _, v in surveys]
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO feedback_response (created_at, updated_at, project_id, survey_id,
                version_id, channel, submission_id, finished, finished_at, language, meta,
                segment)
            SELECT now(), now(), %s, (%s::bigint[])[s], (%s::bigint[])[s], 'widget',
                gen_random_uuid(), true, now(), 'en', '{}', '{}'
            FROM (SELECT 1 + mod(g, %s::int) AS s FROM generate_series(1, %s::int) AS g) AS spread
            RETURNING id
            """,
            [project.pk, survey_ids, version_ids, len(surveys), count],
        )
        ids = [row[0] for row in cursor.fetchall()]
        cursor.execute(
            """
            INSERT INTO feedback_answer (response_id, question_id, question_type, value_int,
                value_text, sentiment, answered_at)
            SELECT r.id, (%s::bigint[])[array_position(%s::bigint[], r.survey_id)], 'nps',
                mod(r.id * 7919, 11), '', '', now()
            FROM feedback_response r WHERE r.id = ANY(%s)
            """,
            [question_ids, survey_ids, ids],
        )
    return ids
