"""Raw SQL of the test suite: the demo's rows copied as they are stored and written back, far
faster than a model save (or a serializer round trip) per row."""

from __future__ import annotations

from django.db import connection

Snapshot = list[tuple[str, list[str], list[tuple]]]


def tables_copy(tables: list[str]) -> Snapshot:
    """Every row of `tables`, column by column as stored (no model instance, no field
    conversion): (table, columns, rows) per table, in the order given."""
    quote = connection.ops.quote_name
    snapshot = []
    with connection.cursor() as cursor:
        for table in tables:
            columns = [
                c.name for c in connection.introspection.get_table_description(cursor, table)
            ]
            cursor.execute(f"SELECT {', '.join(map(quote, columns))} FROM {quote(table)}")  # noqa: S608 - names from the schema
            snapshot.append((table, columns, cursor.fetchall()))
    return snapshot


def tables_write(snapshot: Snapshot) -> None:
    """Insert the copied rows back (into tables that do not hold them), one statement per table
    run over all its rows."""
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        for table, columns, rows in snapshot:
            if rows:
                cursor.executemany(
                    f"INSERT INTO {quote(table)} ({', '.join(map(quote, columns))}) "  # noqa: S608
                    f"VALUES ({', '.join(['%s'] * len(columns))})",
                    rows,
                )
