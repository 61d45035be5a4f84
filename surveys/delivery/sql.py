"""Delivery's raw SQL, each statement behind a named function with the reason it is not ORM."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime

from django.db import connection

from surveys.delivery.models import DecisionCount, WidgetOrigin

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


# (project id, origin) -> (last allowed call or None, last refused call or None)
OriginSeen = dict[tuple[int, str], tuple[datetime | None, datetime | None]]

_LATER = "CASE WHEN excluded.{c} IS NULL THEN {t}.{c} WHEN {t}.{c} IS NULL OR excluded.{c} > {t}.{c} THEN excluded.{c} ELSE {t}.{c} END"


def widget_origins_seen(seen: OriginSeen) -> None:
    """Record when each origin's calls were last served and refused, keeping the later of what
    is stored and what is written (processes flush at different moments): an upsert the ORM
    cannot express, written the same for PostgreSQL and SQLite (no GREATEST in SQLite, and
    SQLite's MAX(a, b) is NULL when either is)."""
    if not seen:
        return
    table = WidgetOrigin._meta.db_table
    at_field = WidgetOrigin._meta.get_field("last_allowed_at")
    params: list = []
    for (project, origin), (allowed, refused) in sorted(seen.items()):
        params.extend(
            [
                project,
                origin,
                at_field.get_db_prep_value(allowed, connection),
                at_field.get_db_prep_value(refused, connection),
            ]
        )
    values = ", ".join(["(%s, %s, %s, %s)"] * len(seen))
    later = ", ".join(
        f"{c} = " + _LATER.format(c=c, t=table) for c in ("last_allowed_at", "last_refused_at")
    )
    # Only constant identifiers are formatted in; every value is a bound parameter.
    sql = (
        f"INSERT INTO {table} (project_id, origin, last_allowed_at, last_refused_at)"  # noqa: S608
        f" VALUES {values} ON CONFLICT (project_id, origin) DO UPDATE SET {later}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
