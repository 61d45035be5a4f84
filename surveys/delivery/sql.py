"""Delivery's raw SQL, each statement behind a named function with the reason it is not ORM."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from django.db import connection

from surveys.delivery.models import DecisionCount

# (project id, survey id or None, touchpoint key, stage key, channel, reason, day)
DecisionKey = tuple[int, int | None, str, str, str, str, date]


def decision_counts_add(counts: Mapping[DecisionKey, int]) -> None:
    """Add `counts` to decide's daily counters in one upsert (the ORM's upsert can only
    overwrite a counter, not add to it). The conflict target is the `decision_count_key`
    index, survey through COALESCE as there; keys go in sorted, so concurrent flushes lock
    counters in one order and never deadlock each other."""
    if not counts:
        return
    table = DecisionCount._meta.db_table
    day_field = DecisionCount._meta.get_field("day")
    items = sorted(counts.items(), key=lambda item: (item[0][0], item[0][1] or 0, *item[0][2:]))
    for start in range(0, len(items), 500):
        batch = items[start : start + 500]
        params: list = []
        for (project, survey, touchpoint, stage, channel, reason, day), count in batch:
            day_value = day_field.get_db_prep_value(day, connection)
            params.extend([project, survey, touchpoint, stage, channel, reason, day_value, count])
        values = ", ".join(["(%s, %s, %s, %s, %s, %s, %s, %s)"] * len(batch))
        # Only constant identifiers are formatted in; every value is a bound parameter.
        sql = (
            f"INSERT INTO {table} (project_id, survey_id, touchpoint_key, stage_key, channel,"  # noqa: S608
            f" reason, day, count) VALUES {values}"
            " ON CONFLICT (project_id, COALESCE(survey_id, 0), touchpoint_key, stage_key,"
            f" channel, reason, day) DO UPDATE SET count = {table}.count + excluded.count"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
