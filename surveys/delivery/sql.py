"""Delivery's raw SQL, each statement behind a named function with the reason it is not ORM.

Decide's reads and its compare-and-set: the visitor's contact (with its ledger), the ledger
alone, the locked contact, the claim count's bump, and a display seen through one project's
key. Every widget call runs one or more of these, and through the ORM building the query and
mapping the columns cost several times the indexed query itself (README, "Operating": decide
is held to ≥ 40 % of a bare Django view). The domain — which displays count, what a claim
changes, who wins a race — stays in `surveys.delivery.ledger` and `selectors`.

Then the upserts the ORM cannot express: decide's daily counters and the widget's origins.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from uuid import UUID

from django.db import connection, transaction

from surveys.contacts.models import Contact
from surveys.delivery.models import DecisionCount, Display, DisplayStatus, WidgetOrigin
from vocsite.sql import (
    default_db,
    insert_values,
    insert_values_many,
    prepared,
    select_rows,
    update_set,
)

# What a widget call reads of a contact; the other columns stay deferred (a later access
# loads them).
HOT_CONTACT_COLUMNS = (
    "id",
    "project_id",
    "user_id",
    "attributes",
    "language",
    "opted_out_at",
    "last_seen_at",
    "merged_into_id",
    "claim_count",
)
_HOT_CONTACT_SELECT = ", ".join(f"c.{column}" for column in HOT_CONTACT_COLUMNS)

# A ledger row: (survey_id, status, claimed_at, dismissed_at, channel) of a display that is
# not expired. The first column is never null on a display.
_LEDGER_COLUMNS = "d.survey_id, d.status, d.claimed_at, d.dismissed_at, d.channel"
_LEDGER_SQL = (
    f"SELECT {_LEDGER_COLUMNS} FROM surveys_display d"  # noqa: S608 — constants
    " WHERE d.contact_id = %s AND d.status <> %s"
)
_VISITOR_LINK_SQL = (
    f"SELECT {_HOT_CONTACT_SELECT}, v.id FROM surveys_contact c"  # noqa: S608 — constants
    " JOIN surveys_visitorid v ON v.contact_id = c.id"
    " WHERE v.project_id = %s AND v.visitor_id = %s"
)
_VISITOR_LINK_WITH_LEDGER_SQL = (
    f"SELECT {_HOT_CONTACT_SELECT}, v.id, {_LEDGER_COLUMNS}"  # noqa: S608 — constants
    " FROM surveys_contact c JOIN surveys_visitorid v ON v.contact_id = c.id"
    " LEFT JOIN surveys_display d ON d.contact_id = c.id AND d.status <> %s"
    " WHERE v.project_id = %s AND v.visitor_id = %s"
)
_CONTACT_SQL = f"SELECT {_HOT_CONTACT_SELECT} FROM surveys_contact c WHERE c.id = %s"  # noqa: S608


def utc(value: datetime | None) -> datetime | None:
    """SQLite hands raw SQL its timestamps naive (they are stored in UTC); PostgreSQL aware."""
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


def _contact_from_row(row: Sequence) -> Contact:
    db = default_db()
    values = dict(zip(HOT_CONTACT_COLUMNS, row, strict=True))
    values["attributes"] = Contact._meta.get_field("attributes").from_db_value(
        values["attributes"], None, db
    )
    for column in ("opted_out_at", "last_seen_at"):
        values[column] = utc(values[column])
    return Contact.from_db(db.alias, HOT_CONTACT_COLUMNS, list(values.values()))


def _ledger_row(row: Sequence) -> tuple:
    survey_id, status, claimed_at, dismissed_at, channel = row
    return survey_id, status, utc(claimed_at), utc(dismissed_at), channel


@dataclass(frozen=True)
class VisitorLink:
    """A visitor id's row and its contact (the hot columns only); `ledger`: the contact's
    ledger rows when they were read with it, else None."""

    pk: int
    contact: Contact
    ledger: list[tuple] | None = None


def visitor_link_read(
    project_id: int, visitor_id: str, *, with_ledger: bool = False
) -> VisitorLink | None:
    """The visitor id's link and its contact in one query; with_ledger: the contact's ledger
    rows too, still one query."""
    if with_ledger:
        sql = _VISITOR_LINK_WITH_LEDGER_SQL
        params = [DisplayStatus.EXPIRED.value, project_id, visitor_id]
    else:
        sql, params = _VISITOR_LINK_SQL, [project_id, visitor_id]
    with default_db().cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    if not rows:
        return None
    width = len(HOT_CONTACT_COLUMNS)
    ledger = None
    if with_ledger:
        ledger = [_ledger_row(row[width + 1 :]) for row in rows if row[width + 1] is not None]
    return VisitorLink(pk=rows[0][width], contact=_contact_from_row(rows[0][:width]), ledger=ledger)


def ledger_rows(contact_id: int) -> list[tuple]:
    """The contact's ledger rows: one query over the (contact, claimed_at) index."""
    with default_db().cursor() as cursor:
        cursor.execute(_LEDGER_SQL, [contact_id, DisplayStatus.EXPIRED.value])
        return [_ledger_row(row) for row in cursor.fetchall()]


def contact_lock_read(contact_id: int) -> Contact:
    """The contact row as it is now (the hot columns), locked until the transaction ends.
    (SQLite has no FOR UPDATE and needs none: its transactions take the write lock up front.)"""
    db = default_db()
    sql = _CONTACT_SQL + (" FOR UPDATE" if db.features.has_select_for_update else "")
    with db.cursor() as cursor:
        cursor.execute(sql, [contact_id])
        return _contact_from_row(cursor.fetchone())


def display_claim_write(
    contact: Contact, names: Sequence[str], display: Display, *, expected: int | None
) -> bool:
    """Claim `display` for `contact`: the contact's `names` fields written from the instance
    and its claim_count raised by one — if the count is still `expected` and the contact was
    not merged away, or with expected=None unconditionally — and the display inserted only if
    that UPDATE matched. Returns whether the claim was written.

    On PostgreSQL this is one statement (the UPDATE in a WITH clause, the INSERT selecting
    from it), so a claim outside a transaction needs no BEGIN and COMMIT round trips: six
    round trips per claim became two with the contact's read. SQLite cannot put an UPDATE in
    a WITH clause; there the two statements run in one transaction."""
    update_sql, fields = update_set(Contact, names)
    update_sql += ", claim_count = claim_count + 1 WHERE id = %s"
    update_params = [*prepared(contact, fields), contact.pk]
    if expected is not None:
        update_sql += " AND claim_count = %s AND merged_into_id IS NULL"
        update_params.append(expected)
    db = default_db()
    if db.vendor == "postgresql":
        target, _fields, values, insert_params = insert_values_many([display], cast=True)
        sql = (
            f"WITH bumped AS ({update_sql} RETURNING 1)"  # noqa: S608 — built from model metadata
            f" INSERT INTO {target} SELECT * FROM (VALUES {values}) AS claim"
            " WHERE EXISTS (SELECT 1 FROM bumped)"
        )
        with db.cursor() as cursor:
            cursor.execute(sql, [*update_params, *insert_params])
            written = cursor.rowcount == 1
    else:
        with transaction.atomic(), db.cursor() as cursor:
            cursor.execute(update_sql, update_params)
            written = cursor.rowcount == 1
            if written:
                insert_sql, insert_params = insert_values(display)
                cursor.execute(insert_sql, insert_params)
    if written:
        display._state.adding = False
        display._state.db = db.alias
    return written


def display_of_project(display_id: UUID, project_id: int) -> Display | None:
    """The display with this id in this project, unless its person was erased. No joins:
    planning a five-table join cost PostgreSQL more than running it (3 ms), and the callers
    need only the display's own columns."""
    pk = Display._meta.pk.get_db_prep_value(display_id, default_db())
    rows = select_rows(
        Display,
        "id = %s AND project_id = %s AND NOT EXISTS (SELECT 1 FROM surveys_contact c"
        " WHERE c.id = surveys_display.contact_id AND c.erased_at IS NOT NULL)",
        [pk, project_id],
    )
    return rows[0] if rows else None


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
