"""Rollups: additive histograms of scores, kept incrementally and rebuildable from raw rows.

Each scored answer (NPS, CSAT, CES, rating) of a finished response adds 1 to one base cell —
(survey, question uid, the question's scale and wording, touchpoint, stage, channel, day,
score) — and to one cell per breakdown attribute the response carries (its frozen `segment`).
The day is the answer's local date in the project's timezone; a timezone change rebuilds. Increments are an
``INSERT … ON CONFLICT DO UPDATE SET count = count + excluded.count`` that SQLite and
PostgreSQL both understand, so cost grows with the new answers, not with history.

Exactly-once: `rollup_responses` claims `Response.rolled_up_at` with a conditional UPDATE in the
same transaction as the increments; a second run (a retried task, the sweeper, a redelivered
message after a killed worker) finds the marker set and adds nothing. `rollups_rebuild`
recomputes everything from raw rows with GROUP BY and takes an exclusive lock that incremental
runs share, so the two never interleave.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence

from django.db import connection, transaction
from django.db.models import CharField, Count, F, Value
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Coalesce, NullIf, TruncDate
from django.utils import timezone

from feedback.answering.models import Answer, Response
from metrics.rollups.models import Rollup
from surveys.design.models import SCORED_TYPES
from surveys.journey.channels import channel_expression, response_channel
from surveys.tenancy.models import Project
from surveys.tenancy.timezones import local_day, project_zone

CellKey = tuple  # (project, survey, uid, type, scale_max, wording, tp, stage, channel, attr, value, day, score)
CELL_COLUMNS = _COLUMNS = (
    "project_id",
    "survey_id",
    "question_uid",
    "question_type",
    "scale_max",
    "scale_wording",
    "touchpoint_key",
    "stage_key",
    "channel",
    "breakdown_attribute",
    "breakdown_value",
    "day",
    "score",
)
# The upsert's conflict target: the columns of the model's cell key (`rollup_cell_unique`), in
# its order, so the key is declared once.
_CONFLICT = tuple(
    Rollup._meta.get_field(name).column
    for name in next(c for c in Rollup._meta.constraints if c.name == "rollup_cell_unique").fields
)
_LOCK_NAMESPACE = 7_324_001  # advisory lock class shared by incremental runs and the rebuild


def rollups_lock(project_id: int, *, exclusive: bool) -> None:
    """PostgreSQL: a project's rebuild excludes its incremental runs (which share the lock), so
    a rebuild never misses or double-counts a response claimed while it runs. Other projects
    are not blocked. SQLite has one writer at a time anyway."""
    if connection.vendor == "postgresql":
        fn = "pg_advisory_xact_lock" if exclusive else "pg_advisory_xact_lock_shared"
        with connection.cursor() as cursor:
            # The two-key form takes int4s; project ids beyond that only share a lock.
            cursor.execute(f"SELECT {fn}(%s, %s)", [_LOCK_NAMESPACE, project_id % 2_147_483_647])


def cells_increment(counts: Counter) -> None:
    """Add counts to cells with one upsert per batch."""
    if not counts:
        return
    table = Rollup._meta.db_table
    uid_field = Rollup._meta.get_field("question_uid")
    columns = ", ".join(_COLUMNS)
    placeholders = "(" + ", ".join(["%s"] * (len(_COLUMNS) + 1)) + ")"
    # Sorted, so concurrent upserts lock cells in one order and never deadlock each other.
    items = sorted(counts.items())
    for start in range(0, len(items), 500):
        batch = items[start : start + 500]
        params: list = []
        for key, count in batch:
            row = list(key)
            row[2] = uid_field.get_db_prep_value(row[2], connection)
            params.extend([*row, count])
        # Only constant identifiers are formatted in; every value is a bound parameter.
        sql = (
            f"INSERT INTO {table} ({columns}, count) VALUES "  # noqa: S608
            + ", ".join([placeholders] * len(batch))
            + f" ON CONFLICT ({', '.join(_CONFLICT)}) DO UPDATE SET count = {table}.count + excluded.count"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, params)


def cells_for(response: Response, answers: Iterable[Answer], breakdown: list[str]) -> Counter:
    touchpoint = response.touchpoint
    tp_key = touchpoint.key if touchpoint else ""
    stage_key = touchpoint.stage.key if touchpoint and touchpoint.stage else ""
    channel = response_channel(response.channel, touchpoint.channel if touchpoint else None)
    day = local_day(response.finished_at, project_zone(response.project))
    segments = [("", "")] + [
        (name, str(response.segment[name]))
        for name in breakdown
        if response.segment.get(name) not in (None, "")
    ]
    counts: Counter = Counter()
    for answer in answers:
        if answer.question_type not in SCORED_TYPES or answer.value_int is None:
            continue
        q = answer.question
        for attribute, value in segments:
            key = (
                response.project_id,
                response.survey_id,
                q.uid,
                q.type,
                q.scale_max,
                q.scale_wording or "agree",
                tp_key,
                stage_key,
                channel,
                attribute,
                value[:200],
                day,
                answer.value_int,
            )
            counts[key] += 1
    return counts


def rollup_response(response_id: int) -> bool:
    """Count one finished response into the rollups, exactly once. True if it was counted now."""
    return bool(rollup_responses([response_id]))


def rollup_responses(response_ids: Sequence[int]) -> set[int]:
    """Count finished responses into the rollups, exactly once; returns the ids counted now.

    One transaction per project: the claim — `rolled_up_at` set where it is still null, one
    UPDATE … RETURNING for the batch — and one upsert of the batch's summed cells. A worker
    takes a web process's batch of answers at a time (feedback.answering.pipeline), and per response
    this was eight statements."""
    by_project: dict[int, list[int]] = defaultdict(list)
    for pk, project_id in Response.objects.filter(pk__in=list(response_ids)).values_list(
        "pk", "project_id"
    ):
        by_project[project_id].append(pk)
    counted: set[int] = set()
    for project_id, ids in sorted(by_project.items()):
        with transaction.atomic():
            rollups_lock(project_id, exclusive=False)
            claimed = _claim(ids)
            if not claimed:
                continue
            answers: dict[int, list[Answer]] = defaultdict(list)
            for answer in Answer.objects.filter(response_id__in=claimed).select_related("question"):
                answers[answer.response_id].append(answer)
            counts: Counter = Counter()
            for response in Response.objects.select_related("touchpoint__stage", "project").filter(
                pk__in=claimed
            ):
                breakdown = list(response.project.breakdown_attributes or [])
                counts.update(cells_for(response, answers[response.pk], breakdown))
            cells_increment(counts)
            counted.update(claimed)
    return counted


def _claim(response_ids: Sequence[int]) -> list[int]:
    """Mark the finished, not yet counted responses among these as counted; returns them. A
    concurrent claim of the same row waits for this transaction and then finds it taken."""
    table, quote = Response._meta.db_table, connection.ops.quote_name
    stamp = Response._meta.get_field("rolled_up_at").get_db_prep_value(timezone.now(), connection)
    placeholders = ", ".join(["%s"] * len(response_ids))
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {quote(table)} SET rolled_up_at = %s WHERE id IN ({placeholders})"  # noqa: S608 — constant identifiers
            " AND finished AND rolled_up_at IS NULL RETURNING id",
            [stamp, *response_ids],
        )
        return sorted(row[0] for row in cursor.fetchall())


def _grouped(
    project: Project, attribute: str | None, survey_ids: Sequence[int] | None = None
) -> Iterable[dict]:
    """One GROUP BY over the raw answers of the project (of some surveys only, when given): a
    row per cell with its count.

    Mirrors `cells_for` expression by expression; the rollup tests hold the two together."""
    answers = Answer.objects.filter(
        response__project=project,
        response__finished=True,
        # Only what has been claimed: a response committed after the rebuild's claim below is
        # left for its own task (which waits for the rebuild's lock) to count.
        response__rolled_up_at__isnull=False,
        question_type__in=list(SCORED_TYPES),
        value_int__isnull=False,
    )
    if survey_ids is not None:
        answers = answers.filter(response__survey_id__in=list(survey_ids))
    value_expr = (
        NullIf(
            KeyTextTransform(attribute, "response__segment"), Value(""), output_field=CharField()
        )
        if attribute
        else Value("")
    )
    if attribute:
        answers = answers.filter(response__segment__has_key=attribute)
    answers = answers.annotate(
        tp=Coalesce(F("response__touchpoint__key"), Value(""), output_field=CharField()),
        stage=Coalesce(F("response__touchpoint__stage__key"), Value(""), output_field=CharField()),
        ch=channel_expression("response__"),
        wording=Coalesce(
            NullIf(F("question__scale_wording"), Value("")),
            Value("agree"),
            output_field=CharField(),
        ),
        bv=value_expr,
        d=TruncDate("response__finished_at", tzinfo=project_zone(project)),
    )
    if attribute:
        # The incremental path skips a segment value that is missing, null or blank.
        answers = answers.filter(bv__isnull=False)
    return (
        answers.values(
            "response__survey_id",
            "question__uid",
            "question_type",
            "question__scale_max",
            "wording",
            "tp",
            "stage",
            "ch",
            "bv",
            "d",
            "value_int",
        )
        .annotate(n=Count("id"))
        .order_by()
    )


# The rebuild's GROUP BY over every answer of a project sorted on disk with PostgreSQL's
# default 4 MB (5.6 s at 1M answers); with this much it aggregates in memory (3.3 s). Set for
# the rebuild's own transaction only.
REBUILD_WORK_MEM = "128MB"


@transaction.atomic
def _rebuild_project(project: Project) -> int:
    rollups_lock(project.pk, exclusive=True)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('work_mem', %s, true)", [REBUILD_WORK_MEM])
    Rollup.objects.filter(project=project).delete()
    # Claim everything finished but not yet counted: the rebuild counts it now, and the
    # response's own task (or the sweeper) then only runs the hooks.
    Response.objects.filter(project=project, finished=True, rolled_up_at__isnull=True).update(
        rolled_up_at=timezone.now()
    )
    return _recount(project, [None, *(project.breakdown_attributes or [])])


def _recount(
    project: Project, attributes: Sequence[str | None], survey_ids: Sequence[int] | None = None
) -> int:
    """Count the claimed answers into the (emptied) cells of these attributes (None: the base
    cube), of these surveys or all; returns the cells written."""
    written = 0
    for attribute in attributes:
        counts: Counter = Counter()
        for row in _grouped(project, attribute, survey_ids).iterator(chunk_size=5000):
            key = (
                project.pk,
                row["response__survey_id"],
                row["question__uid"],
                row["question_type"],
                row["question__scale_max"],
                row["wording"],
                row["tp"],
                row["stage"],
                row["ch"],
                attribute or "",
                (row["bv"] or "")[:200],
                row["d"],
                row["value_int"],
            )
            counts[key] += row["n"]
        cells_increment(counts)
        written += len(counts)
    return written


def rollups_recount_breakdowns(*, project: Project, survey_ids: Sequence[int]) -> int:
    """Recount these surveys' breakdown cells from the raw rows, in the caller's transaction,
    under the project's exclusive lock (taken here if the caller has not): what erasure runs
    after it rewrote segments, so the cells match the rows whatever changed since they were
    first counted. The base cube is left as it is (segments are not in it)."""
    rollups_lock(project.pk, exclusive=True)
    Rollup.objects.filter(project=project, survey_id__in=list(survey_ids)).exclude(
        breakdown_attribute=""
    ).delete()
    return _recount(project, list(project.breakdown_attributes or []), survey_ids)


def rollups_rebuild(*, project: Project | None = None) -> int:
    """Recompute the histograms of one project (or all) from raw answers; returns cells written.

    Each project is deleted and recomputed in its own transaction under the project's
    exclusive lock, so dashboards see either the old or the new counts, never half."""
    projects = [project] if project is not None else list(Project.objects.order_by("pk"))
    return sum(_rebuild_project(current) for current in projects)
