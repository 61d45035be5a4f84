"""The rollups' statements the ORM cannot write: the upsert that adds counts to cells, the
claim of responses not yet counted, the project's advisory lock and the rebuild's memory.

The upsert is one ``INSERT … ON CONFLICT DO UPDATE SET count = count + excluded.count`` that
SQLite and PostgreSQL both understand, so the cost of counting grows with the new answers, not
with history; the claim is one ``UPDATE … RETURNING`` for a whole batch of responses.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from django.utils import timezone

from feedback.answering.models import Response
from metrics.rollups.models import Rollup
from vocsite.sql import default_db

# A cell's key, in this order: (project, survey, question uid, question type, scale max,
# wording, touchpoint, stage, channel, breakdown attribute, breakdown value, day, score).
CELL_COLUMNS = (
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
_UPSERT_BATCH = 500
_LOCK_NAMESPACE = 7_324_001  # advisory lock class shared by incremental runs and the rebuild


def rollups_lock(project_id: int, *, exclusive: bool) -> None:
    """PostgreSQL: a project's rebuild excludes its incremental runs (which share the lock), so
    a rebuild never misses or double-counts a response claimed while it runs. Other projects
    are not blocked. SQLite has one writer at a time anyway."""
    db = default_db()
    if db.vendor == "postgresql":
        fn = "pg_advisory_xact_lock" if exclusive else "pg_advisory_xact_lock_shared"
        with db.cursor() as cursor:
            # The two-key form takes int4s; project ids beyond that only share a lock.
            cursor.execute(f"SELECT {fn}(%s, %s)", [_LOCK_NAMESPACE, project_id % 2_147_483_647])


def cells_increment(counts: Mapping[tuple, int]) -> None:
    """Add counts to cells (keys in CELL_COLUMNS order), one upsert per 500 cells."""
    if not counts:
        return
    db = default_db()
    table = Rollup._meta.db_table
    uid_field = Rollup._meta.get_field("question_uid")
    columns = ", ".join(CELL_COLUMNS)
    placeholders = "(" + ", ".join(["%s"] * (len(CELL_COLUMNS) + 1)) + ")"
    # Sorted, so concurrent upserts lock cells in one order and never deadlock each other.
    items = sorted(counts.items())
    for start in range(0, len(items), _UPSERT_BATCH):
        batch = items[start : start + _UPSERT_BATCH]
        params: list = []
        for key, count in batch:
            row = list(key)
            row[2] = uid_field.get_db_prep_value(row[2], db)
            params.extend([*row, count])
        # Only constant identifiers are formatted in; every value is a bound parameter.
        sql = (
            f"INSERT INTO {table} ({columns}, count) VALUES "  # noqa: S608
            + ", ".join([placeholders] * len(batch))
            + f" ON CONFLICT ({', '.join(_CONFLICT)}) DO UPDATE SET count = {table}.count + excluded.count"
        )
        with db.cursor() as cursor:
            cursor.execute(sql, params)


def responses_claim(response_ids: Sequence[int]) -> list[int]:
    """Mark the finished, not yet counted responses among these as counted (`rolled_up_at`
    now); returns them, sorted. A concurrent claim of the same row waits for this transaction
    and then finds it taken."""
    db = default_db()
    table, quote = Response._meta.db_table, db.ops.quote_name
    stamp = Response._meta.get_field("rolled_up_at").get_db_prep_value(timezone.now(), db)
    placeholders = ", ".join(["%s"] * len(response_ids))
    with db.cursor() as cursor:
        cursor.execute(
            f"UPDATE {quote(table)} SET rolled_up_at = %s WHERE id IN ({placeholders})"  # noqa: S608 — constant identifiers
            " AND finished AND rolled_up_at IS NULL RETURNING id",
            [stamp, *response_ids],
        )
        return sorted(row[0] for row in cursor.fetchall())


def work_mem_set(amount: str) -> None:
    """PostgreSQL: sort and hash in up to `amount` of memory for the rest of this transaction.
    Elsewhere nothing."""
    db = default_db()
    if db.vendor == "postgresql":
        with db.cursor() as cursor:
            cursor.execute("SELECT set_config('work_mem', %s, true)", [amount])
