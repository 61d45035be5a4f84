"""Whole rows of one model by a WHERE clause, with the SELECT built once per model.

The widget's answer path reads a display and the response under a submission id on every
call. Through the ORM (or `Model.objects.raw`, which works out the model's column order from
the cursor on every call) building the query and mapping the columns cost several times the
indexed lookup itself (py-spy on a web process at full ingest load: RawQuerySet 18 % of its
CPU). This keeps the ORM's own conversions — each field's database converters, as a
queryset applies them — and `Model.from_db`, so the instances are ordinary ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from django.db import connection, models

from vocsite.row_insert import default_db

M = TypeVar("M", bound=models.Model)
_selects: dict[tuple[type[models.Model], str], tuple[str, list[str], list]] = {}


def _select(model: type[models.Model]) -> tuple[str, list[str], list]:
    key = (model, connection.vendor)
    cached = _selects.get(key)
    if cached is None:
        fields = list(model._meta.concrete_fields)
        quote = connection.ops.quote_name
        columns = ", ".join(quote(f.column) for f in fields)
        converters = []
        for index, field in enumerate(fields):
            column = field.get_col(model._meta.db_table)
            found = connection.ops.get_db_converters(column) + field.get_db_converters(connection)
            if found:
                converters.append((index, column, found))
        table = quote(model._meta.db_table)
        sql = f"SELECT {columns} FROM {table}"  # noqa: S608 — model metadata
        cached = _selects[key] = (sql, [f.attname for f in fields], converters)
    return cached


def select_rows(model: type[M], where: str, params: Sequence[Any], *, suffix: str = "") -> list[M]:
    """Instances of `model` for `SELECT <all columns> FROM <table> WHERE <where><suffix>`
    (suffix: e.g. " FOR UPDATE")."""
    db = default_db()
    sql, attnames, converters = _select(model)
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
