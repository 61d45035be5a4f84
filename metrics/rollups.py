"""Rollups: additive histograms of scores, kept incrementally and rebuildable from raw rows.

Each scored answer (NPS, CSAT, CES, rating) of a finished response adds 1 to one base cell —
(survey, question uid, touchpoint, stage, channel, day, score) — and to one cell per breakdown
attribute the response carries (its frozen `segment`). Increments are an
``INSERT … ON CONFLICT DO UPDATE SET count = count + excluded.count`` that SQLite and
PostgreSQL both understand, so cost grows with the new answers, not with history.

Exactly-once: `rollup_response` claims `Response.rolled_up_at` with a conditional UPDATE in the
same transaction as the increments; a second run (a retried task, the sweeper, a redelivered
message after a killed worker) finds the marker set and adds nothing. `rollups_rebuild`
recomputes everything from raw rows with GROUP BY and takes an exclusive lock that incremental
runs share, so the two never interleave.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import UTC, date

from django.db import connection, transaction
from django.db.models import Case, CharField, Count, F, Value, When
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from feedback.models import Answer, Response
from metrics.models import Rollup
from surveys.models import SCORED_TYPES, Project

CellKey = tuple  # (project_id, survey_id, uid, type, scale_max, tp, stage, channel, attr, value, day, score)
_COLUMNS = (
    "project_id",
    "survey_id",
    "question_uid",
    "question_type",
    "scale_max",
    "touchpoint_key",
    "stage_key",
    "channel",
    "breakdown_attribute",
    "breakdown_value",
    "day",
    "score",
)
_CONFLICT = (
    "survey_id",
    "question_uid",
    "touchpoint_key",
    "stage_key",
    "channel",
    "breakdown_attribute",
    "breakdown_value",
    "day",
    "score",
)
_LOCK_KEY = 7_324_001  # advisory lock id shared by incremental runs and the rebuild


def _lock(*, exclusive: bool) -> None:
    """PostgreSQL: rebuild excludes incremental runs. SQLite has one writer anyway."""
    if connection.vendor == "postgresql":
        fn = "pg_advisory_xact_lock" if exclusive else "pg_advisory_xact_lock_shared"
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {fn}(%s)", [_LOCK_KEY])


def response_channel(response_channel_value: str, touchpoint_channel: str | None) -> str:
    """An e-mail link answer is the e-mail channel; a widget answer is its touchpoint's."""
    return "email" if response_channel_value == "email" else (touchpoint_channel or "web")


def cells_increment(counts: Counter) -> None:
    """Add counts to cells with one upsert per batch."""
    if not counts:
        return
    table = Rollup._meta.db_table
    uid_field = Rollup._meta.get_field("question_uid")
    columns = ", ".join(_COLUMNS)
    placeholders = "(" + ", ".join(["%s"] * (len(_COLUMNS) + 1)) + ")"
    items = list(counts.items())
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


def _cells_for(response: Response, answers: Iterable[Answer], breakdown: list[str]) -> Counter:
    touchpoint = response.touchpoint
    tp_key = touchpoint.key if touchpoint else ""
    stage_key = touchpoint.stage.key if touchpoint and touchpoint.stage else ""
    channel = response_channel(response.channel, touchpoint.channel if touchpoint else None)
    day: date = response.finished_at.astimezone(UTC).date()
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
    with transaction.atomic():
        _lock(exclusive=False)
        claimed = Response.objects.filter(
            pk=response_id, finished=True, rolled_up_at__isnull=True
        ).update(rolled_up_at=timezone.now())
        if not claimed:
            return False
        response = Response.objects.select_related("touchpoint__stage", "project").get(
            pk=response_id
        )
        answers = Answer.objects.filter(response=response).select_related("question")
        cells_increment(
            _cells_for(response, answers, list(response.project.breakdown_attributes or []))
        )
        return True


def _grouped(project: Project, attribute: str | None) -> Iterable[dict]:
    answers = Answer.objects.filter(
        response__project=project,
        response__finished=True,
        question_type__in=list(SCORED_TYPES),
        value_int__isnull=False,
    )
    value_expr = KeyTextTransform(attribute, "response__segment") if attribute else Value("")
    if attribute:
        answers = answers.filter(response__segment__has_key=attribute)
    return (
        answers.annotate(
            tp=Coalesce(F("response__touchpoint__key"), Value(""), output_field=CharField()),
            stage=Coalesce(
                F("response__touchpoint__stage__key"), Value(""), output_field=CharField()
            ),
            ch=Case(
                When(response__channel="email", then=Value("email")),
                default=Coalesce(F("response__touchpoint__channel"), Value("web")),
                output_field=CharField(),
            ),
            bv=value_expr,
            d=TruncDate("response__finished_at", tzinfo=UTC),
        )
        .values(
            "response__survey_id",
            "question__uid",
            "question_type",
            "question__scale_max",
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


def rollups_rebuild(*, project: Project | None = None) -> int:
    """Recompute every histogram from raw answers; returns the number of cells written."""
    projects = [project] if project is not None else list(Project.objects.all())
    written = 0
    for current in projects:
        with transaction.atomic():
            _lock(exclusive=True)
            Rollup.objects.filter(project=current).delete()
            Response.objects.filter(
                project=current, finished=True, rolled_up_at__isnull=True
            ).update(rolled_up_at=timezone.now())
            for attribute in [None, *(current.breakdown_attributes or [])]:
                counts: Counter = Counter()
                for row in _grouped(current, attribute).iterator(chunk_size=5000):
                    key = (
                        current.pk,
                        row["response__survey_id"],
                        row["question__uid"],
                        row["question_type"],
                        row["question__scale_max"],
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
