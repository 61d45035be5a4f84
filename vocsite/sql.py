"""The kernel's raw SQL: rows of one model written and read with statements built once per
model and column set, instead of compiled by the ORM on every call, and the few statements
that belong to no domain (the health check, the planner's statistics).

Decide writes a Display on every claim and answering reads a display on every call; through
the ORM most of that time is the ORM compiling the same statement again (measured: about
three times the cost of the statement itself; `Model.objects.raw` maps the columns from the
cursor on every call, 18 % of a web process's CPU at full ingest load). These helpers keep the
ORM's own field conversions — defaults applied at instantiation, `pre_save` (auto_now),
`get_db_prep_save` (JSON, UUIDs, SQLite timestamps) on the way in, each field's database
converters and `Model.from_db` on the way out — and only cache the statement.

Use the writers for append-only rows whose primary key is set by Python (a UUID) or not
needed back (a BigAutoField they leave unset). No model signals are sent: the models they are
used for have no receivers. The statement builders (`insert_values`, `update_set`, …) are for
the `sql.py` modules of the apps, which extend them (ON CONFLICT, RETURNING, a WITH clause).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from django.db import DEFAULT_DB_ALIAS, connections, models
from django.db.backends.base.base import BaseDatabaseWrapper

_statements: dict[tuple[type[models.Model], str], tuple[str, list[models.Field]]] = {}
_casts: dict[tuple[type[models.Model], str], str] = {}
_selects: dict[tuple[type[models.Model], str], tuple[str, list[str], list]] = {}

M = TypeVar("M", bound=models.Model)


def default_db() -> BaseDatabaseWrapper:
    """This thread's default connection itself. `django.db.connection` is a proxy that looks
    the connection up again (a thread-local read) on every attribute access, and preparing a
    field's value reads it several times: on the answer path, a fifth of the CPU profiled."""
    return connections[DEFAULT_DB_ALIAS]


def _params(obj: models.Model, fields: Sequence[models.Field], db: BaseDatabaseWrapper) -> list:
    """A new row's values for these fields as the database adapter wants them (defaults and
    `pre_save`, e.g. auto_now, applied)."""
    return [f.get_db_prep_save(f.pre_save(obj, add=True), db) for f in fields]


def _statement(
    model: type[models.Model], db: BaseDatabaseWrapper
) -> tuple[str, list[models.Field]]:
    key = (model, db.vendor)
    cached = _statements.get(key)
    if cached is None:
        fields = [
            f
            for f in model._meta.concrete_fields
            if not (f.primary_key and isinstance(f, models.AutoField | models.BigAutoField))
        ]
        quote = db.ops.quote_name
        columns = ", ".join(quote(f.column) for f in fields)
        placeholders = ", ".join(["%s"] * len(fields))
        table = quote(model._meta.db_table)
        sql = f"INSERT INTO {table} ({columns}) VALUES ({placeholders})"  # noqa: S608 — model metadata
        cached = _statements[key] = (sql, fields)
    return cached


def insert_target(model: type[models.Model]) -> tuple[str, list[models.Field]]:
    """`<table> (<columns>)` of a new row of `model` and its fields in column order, for
    `INSERT INTO … SELECT` statements the caller writes."""
    sql, fields = _statement(model, default_db())
    return sql[len("INSERT INTO ") : sql.index(" VALUES ")], fields


def insert_row(obj: models.Model, *, returning_pk: bool = False) -> models.Model:
    """INSERT `obj` as a new row; returns it, saved. An auto primary key is left unset unless
    `returning_pk` (then read back with RETURNING, or the cursor's lastrowid)."""
    db = default_db()
    sql, fields = _statement(type(obj), db)
    params = _params(obj, fields, db)
    returning = returning_pk and db.features.can_return_columns_from_insert
    if returning:
        sql += f" RETURNING {db.ops.quote_name(obj._meta.pk.column)}"
    with db.cursor() as cursor:
        cursor.execute(sql, params)
        if returning:
            obj.pk = cursor.fetchone()[0]
        elif returning_pk:
            obj.pk = cursor.lastrowid
    obj._state.adding = False
    obj._state.db = db.alias
    return obj


def insert_values(obj: models.Model) -> tuple[str, list]:
    """`INSERT INTO <table> (<columns>) VALUES (...)` for `obj` and its prepared parameters,
    for callers that extend the statement (ON CONFLICT, RETURNING, a WITH clause) and run it
    themselves; the instance is not marked saved."""
    db = default_db()
    sql, fields = _statement(type(obj), db)
    return sql, _params(obj, fields, db)


def insert_values_many(
    objs: Sequence[models.Model], *, cast: bool = False
) -> tuple[str, list[models.Field], str, list]:
    """For rows of one model: `<table> (<columns>)`, the fields in column order, the VALUES
    tuples and their prepared parameters — to be used as `INSERT INTO … SELECT … FROM
    (VALUES …)`. `cast` types each placeholder (`%s::integer`), which a VALUES list outside
    an INSERT needs (PostgreSQL would read an untyped NULL as text)."""
    db = default_db()
    model = type(objs[0])
    target, fields = insert_target(model)
    if cast:
        one = _casts.get((model, db.vendor))
        if one is None:
            types = ", ".join(f"%s::{f.cast_db_type(db)}" for f in fields)
            one = _casts[(model, db.vendor)] = f"({types})"
    else:
        one = "(" + ", ".join(["%s"] * len(fields)) + ")"
    params = [value for obj in objs for value in _params(obj, fields, db)]
    return target, fields, ", ".join([one] * len(objs)), params


_updates: dict[tuple[type[models.Model], tuple[str, ...], str], tuple[str, list[models.Field]]] = {}


def update_set(model: type[models.Model], names: Sequence[str]) -> tuple[str, list[models.Field]]:
    """`UPDATE <table> SET a = %s, b = %s` for these fields (the caller adds the rest: further
    SET terms, the WHERE), and the fields whose prepared values fill the placeholders."""
    db = default_db()
    key = (model, tuple(names), db.vendor)
    cached = _updates.get(key)
    if cached is None:
        fields = [model._meta.get_field(name) for name in names]
        quote = db.ops.quote_name
        sets = ", ".join(f"{quote(f.column)} = %s" for f in fields)
        cached = _updates[key] = (f"UPDATE {quote(model._meta.db_table)} SET {sets}", fields)  # noqa: S608
    return cached


def prepared(obj: models.Model, fields: Sequence[models.Field]) -> list:
    """The instance's values of these fields as the database adapter wants them."""
    db = default_db()
    return [f.get_db_prep_save(getattr(obj, f.attname), db) for f in fields]


def update_row(obj: models.Model, names: Sequence[str]) -> int:
    """UPDATE these columns of `obj`'s row from the instance; returns the rows changed."""
    fields = [obj._meta.get_field(name) for name in names]
    sql, params = update_values(obj, {f.name: getattr(obj, f.attname) for f in fields})
    with default_db().cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def update_values(obj: models.Model, values: dict) -> tuple[str, list]:
    """`UPDATE <table> SET … WHERE <pk> = %s` setting these columns of `obj`'s row to
    `values` (the instance is left unchanged), and its parameters; the caller may add
    conditions with AND."""
    db = default_db()
    sql, fields = update_set(type(obj), list(values))
    params = [f.get_db_prep_save(values[f.name], db) for f in fields]
    params.append(obj._meta.pk.get_db_prep_value(obj.pk, db))
    return f"{sql} WHERE {db.ops.quote_name(obj._meta.pk.column)} = %s", params


def _select(model: type[models.Model], db: BaseDatabaseWrapper) -> tuple[str, list[str], list]:
    key = (model, db.vendor)
    cached = _selects.get(key)
    if cached is None:
        fields = list(model._meta.concrete_fields)
        quote = db.ops.quote_name
        columns = ", ".join(quote(f.column) for f in fields)
        converters = []
        for index, field in enumerate(fields):
            column = field.get_col(model._meta.db_table)
            found = db.ops.get_db_converters(column) + field.get_db_converters(db)
            if found:
                converters.append((index, column, found))
        table = quote(model._meta.db_table)
        sql = f"SELECT {columns} FROM {table}"  # noqa: S608 — model metadata
        cached = _selects[key] = (sql, [f.attname for f in fields], converters)
    return cached


def select_rows(model: type[M], where: str, params: Sequence[Any], *, suffix: str = "") -> list[M]:
    """Instances of `model` for `SELECT <all columns> FROM <table> WHERE <where><suffix>`
    (suffix: e.g. " FOR UPDATE"), as a queryset would build them."""
    db = default_db()
    sql, attnames, converters = _select(model, db)
    with db.cursor() as cursor:
        cursor.execute(f"{sql} WHERE {where}{suffix}", params)
        rows = cursor.fetchall()
    instances = []
    for row in rows:
        values = list(row)
        for index, column, functions in converters:
            for convert in functions:
                values[index] = convert(values[index], column, db)
        instances.append(model.from_db(db.alias, attnames, values))
    return instances


def database_ping() -> None:
    """One round trip to the database; raises if it cannot be reached (the health check)."""
    with default_db().cursor() as cursor:
        cursor.execute("SELECT 1")


def planner_statistics_refresh() -> None:
    """PostgreSQL: ANALYZE every table, so statements after a bulk load are planned for the
    rows now there rather than for the empty tables autovacuum last saw. Elsewhere nothing."""
    db = default_db()
    if db.vendor == "postgresql":
        with db.cursor() as cursor:
            cursor.execute("ANALYZE")
