"""Readiness (/readyz): can this process serve traffic now? Each check names what it found.

- database: one round trip.
- broker: a connection to CELERY_BROKER_URL within a second ("not used" in the embedded mode,
  which has none). Answers are accepted while the broker is down (the sweeper sends their
  work later), but a process that cannot reach it should not be sent new traffic when others
  can.
- migrations: none of the code's migrations is unapplied — a process started before
  `migrate` ran would fail on the new columns. The plan is read from the database each time
  (the migration modules are already imported: a few milliseconds).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections

# Any database error, InterfaceError included (a connection the server closed under it).
from django.db import Error as DatabaseError
from django.db.migrations.executor import MigrationExecutor
from kombu import Connection

from vocsite.publish import BROKER_ERRORS
from vocsite.sql import database_ping

OK = "ok"
NOT_USED = "not used"


@dataclass(frozen=True)
class Readiness:
    checks: dict[str, str]

    @property
    def ready(self) -> bool:
        return all(result in (OK, NOT_USED) for result in self.checks.values())

    @property
    def failed(self) -> list[str]:
        return [name for name, result in self.checks.items() if result not in (OK, NOT_USED)]


def _database() -> str:
    try:
        database_ping()
    except DatabaseError as error:
        return f"unreachable: {type(error).__name__}"
    return OK


def _broker() -> str:
    url = settings.CELERY_BROKER_URL
    if not url:
        return NOT_USED
    try:
        with Connection(url, connect_timeout=1, transport_options={"max_retries": 0}) as broker:
            broker.ensure_connection(max_retries=1, timeout=1)
    except (*BROKER_ERRORS, OSError) as error:
        return f"unreachable: {type(error).__name__}"
    return OK


def _migrations() -> str:
    try:
        executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except DatabaseError as error:
        return f"unknown: {type(error).__name__}"
    if plan:
        return f"{len(plan)} unapplied"
    return OK


def readiness() -> Readiness:
    return Readiness({"database": _database(), "broker": _broker(), "migrations": _migrations()})
