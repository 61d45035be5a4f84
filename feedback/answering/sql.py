"""The one fast path of answering: a new response, its answers and its display's new state
written in one PostgreSQL statement (`response_insert_new`).

The ORM path (`services.response_store`) takes a transaction of six round trips for the same
rows: BEGIN, the locking read, two INSERTs, the display's UPDATE, COMMIT. Ingest is the
second-hottest call there is (DESIGN.md §9: ≥ 40 % of a bare one-INSERT endpoint), so its
common case — the first request for a submission, on a display without a response, with
answers valid on their own — is one statement here. It declines (None) on another database,
and writes nothing when the response is not new (its submission_id or its display is
taken); the caller then takes the ORM path, which handles every case and words every error.
tests/feedback/test_responses.py checks that both paths store the same rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from feedback.answering.models import Answer, Response
from surveys.delivery.models import Display
from vocsite.sql import default_db, insert_values, insert_values_many, update_values


def fast_path_available() -> bool:
    """Whether `response_insert_new` can run here (PostgreSQL only)."""
    return default_db().vendor == "postgresql"


def response_insert_new(
    response: Response,
    answers: Sequence[Answer],
    display: Display,
    display_values: dict[str, Any],
) -> bool | None:
    """INSERT the response unless its submission_id or display is taken; if it was new, its
    answers and the display's new values too — one statement. Returns whether it was new
    (and sets `response.pk`), or None when declined (not PostgreSQL)."""
    db = default_db()
    if db.vendor != "postgresql":
        return None
    response_sql, response_params = insert_values(response)
    parts = [f"WITH r AS ({response_sql} ON CONFLICT DO NOTHING RETURNING id)"]
    params = list(response_params)
    answers_sql, answers_params = _answers_cte(answers)
    parts.append(answers_sql)
    params += answers_params
    if display_values:
        set_sql, set_params = update_values(display, display_values)
        parts.append(f", d AS ({set_sql} AND EXISTS (SELECT FROM r))")
        params += set_params
    parts.append(" SELECT id FROM r")
    with db.cursor() as cursor:
        cursor.execute("".join(parts), params)
        row = cursor.fetchone()
    if row is None:
        return False
    response.pk = row[0]
    response._state.adding, response._state.db = False, db.alias
    for answer in answers:
        answer.response = response
        answer._state.adding, answer._state.db = False, db.alias
    return True


def _answers_cte(answers: Sequence[Answer]) -> tuple[str, list]:
    """`, a AS (INSERT …)`: the answers of the response the statement's `r` inserted (none if
    it inserted none)."""
    if not answers:
        return "", []
    for answer in answers:
        answer.response_id = 0  # a placeholder: the statement takes r.id instead
    columns, fields, values_sql, params = insert_values_many(answers, cast=True)
    fk = [f.column for f in fields].index("response_id")
    select = ", ".join("r.id" if i == fk else f"v.c{i}" for i in range(len(fields)))
    names = ", ".join(f"c{i}" for i in range(len(fields)))
    sql = (
        f", a AS (INSERT INTO {columns} SELECT {select} FROM r"  # noqa: S608 — model metadata
        f" CROSS JOIN (VALUES {values_sql}) AS v({names}))"
    )
    return sql, params
