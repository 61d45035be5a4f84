"""One INSERT for a new row, with the SQL built once per model instead of on every call.

Decide writes a Decision on every call and a Display on every claim; through
`Model.objects.create` most of that time is the ORM compiling the same INSERT again
(measured: about three times the cost of the statement itself). This helper keeps the
ORM's own field conversions — defaults applied at instantiation, `pre_save` (auto_now),
`get_db_prep_save` (JSON, UUIDs, SQLite timestamps) — and only caches the statement.

Use it for append-only rows whose primary key is set by Python (a UUID) or not needed back
(a BigAutoField it leaves unset). No model signals are sent: the models it is used for have
no receivers.
"""

from __future__ import annotations

from django.db import connection, models

_statements: dict[tuple[type[models.Model], str], tuple[str, list[models.Field]]] = {}


def _statement(model: type[models.Model]) -> tuple[str, list[models.Field]]:
    key = (model, connection.vendor)
    cached = _statements.get(key)
    if cached is None:
        fields = [
            f
            for f in model._meta.concrete_fields
            if not (f.primary_key and isinstance(f, models.AutoField | models.BigAutoField))
        ]
        quote = connection.ops.quote_name
        columns = ", ".join(quote(f.column) for f in fields)
        placeholders = ", ".join(["%s"] * len(fields))
        table = quote(model._meta.db_table)
        sql = f"INSERT INTO {table} ({columns}) VALUES ({placeholders})"  # noqa: S608 — model metadata
        cached = _statements[key] = (sql, fields)
    return cached


def insert_row(obj: models.Model) -> models.Model:
    """INSERT `obj` as a new row; returns it, saved (its auto primary key, if any, unset)."""
    sql, fields = _statement(type(obj))
    params = [f.get_db_prep_save(f.pre_save(obj, add=True), connection) for f in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
    obj._state.adding = False
    obj._state.db = connection.alias
    return obj
