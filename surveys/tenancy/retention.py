"""Data retention: a project's raw answers and displays older than `Project.retention_months`
are deleted, in bounded batches, while its rollups keep the history.

Raw rows live in several apps — displays and e-mail invitations here, responses with their
answers in `feedback` — so, as with `PERSONAL_DATA`, the app that owns a table registers one
`RetainedRows` entry for it (in its `AppConfig.ready()`) saying how to count and delete its
expired rows; `surveys` declares the registry and runs the loop without importing any higher
app. Entries run in the declared order: responses before the displays they point at.

The cut-off is the start of a day in the project's timezone (the same days rollups count),
N months before today. Before a project's first batch its `raw_rows_kept_from` moves to that
day: a rollup rebuild recounts only from it on and keeps the cells before it, which are then
the only record of those days (`metrics.rollups.services`).

Every batch is its own transaction of at most `batch_size` rows of one kind, so a run never
holds a long lock or a huge transaction; a run stops once its time budget is spent (after at
least one batch) and the next run carries on where it stopped.
"""

from __future__ import annotations

import calendar
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime

from django.utils import timezone

from surveys.tenancy.models import Project
from surveys.tenancy.timezones import day_start, local_day, project_zone
from vocsite.registry import Registry

# Rows per statement: small enough that a batch's delete and its index updates stay short on
# PostgreSQL, large enough that ten million rows take a few thousand statements.
RETENTION_BATCH_SIZE = 5000
# How long one run may delete before it leaves the rest to the next run (the daily task).
RETENTION_TIME_BUDGET_SECONDS = 15 * 60


@dataclass(frozen=True)
class RetainedRows:
    """One kind of raw row retention deletes. `count(project, cutoff)` is how many rows are
    expired (a dry run's figure); `delete(project, cutoff, limit)` deletes at most `limit` of
    them, oldest first, in its own transaction, and returns how many it deleted. A row the
    history still needs (an answer not counted into the rollups yet) is never expired."""

    name: str
    count: Callable[[Project, datetime], int]
    delete: Callable[[Project, datetime, int], int]


# Every kind of raw row with an age, in the order a run deletes them.
RETENTION: Registry[RetainedRows] = Registry(
    "raw rows retention deletes", expected=("responses", "invitations", "displays")
)


def retained_rows_register(entry: RetainedRows) -> None:
    RETENTION.register(entry.name, entry)


def months_before(day: date, months: int) -> date:
    """The same day of the month `months` earlier (the month's last day where it is shorter:
    31 March less one month is 28 or 29 February)."""
    year, month_index = divmod(day.year * 12 + day.month - 1 - months, 12)
    last = calendar.monthrange(year, month_index + 1)[1]
    return date(year, month_index + 1, min(day.day, last))


def retention_first_kept_day(project: Project, now: datetime) -> date:
    """The first day (project's days) whose raw rows a project with a retention keeps."""
    return months_before(local_day(now, project_zone(project)), project.retention_months)


@dataclass
class RetentionRun:
    """What one run did (or, dry, would do) for one project."""

    project: Project
    first_kept_day: date
    cutoff: datetime
    deleted: dict[str, int] = field(default_factory=dict)
    # False when the time budget ran out before every expired row of the project was deleted.
    complete: bool = True


def _projects(project: Project | None) -> list[Project]:
    if project is not None:
        return [project] if project.retention_months else []
    return list(Project.objects.filter(retention_months__isnull=False).order_by("pk"))


def retention_preview(
    *, project: Project | None = None, now: datetime | None = None
) -> list[RetentionRun]:
    """What a run would delete now, per project with a retention (nothing is changed)."""
    now = now or timezone.now()
    runs = []
    for current in _projects(project):
        first_kept = retention_first_kept_day(current, now)
        cutoff = day_start(first_kept, project_zone(current))
        counts = {entry.name: entry.count(current, cutoff) for entry in RETENTION}
        runs.append(RetentionRun(current, first_kept, cutoff, counts))
    return runs


def _boundary_move(project: Project, first_kept: date) -> None:
    """Tell the rollups where the raw history now starts, before the first row goes (a
    rebuild that starts after this keeps the cells before the day)."""
    if project.raw_rows_kept_from is None or project.raw_rows_kept_from < first_kept:
        Project.objects.filter(pk=project.pk).update(raw_rows_kept_from=first_kept)
        project.raw_rows_kept_from = first_kept


def retention_apply(
    *,
    project: Project | None = None,
    now: datetime | None = None,
    batch_size: int = RETENTION_BATCH_SIZE,
    budget_seconds: float = RETENTION_TIME_BUDGET_SECONDS,
) -> list[RetentionRun]:
    """Delete the expired raw rows of one project (or of every project with a retention), in
    batches of at most `batch_size` rows, each committed on its own; once `budget_seconds`
    are spent no further batch starts (the first that deletes anything always runs, so every
    run gets on). Returns a run per project it reached."""
    now = now or timezone.now()
    started = time.monotonic()
    batches = 0
    runs: list[RetentionRun] = []
    for current in _projects(project):
        first_kept = retention_first_kept_day(current, now)
        run = RetentionRun(current, first_kept, day_start(first_kept, project_zone(current)))
        runs.append(run)
        _boundary_move(current, first_kept)
        for entry in RETENTION:
            run.deleted[entry.name] = 0
            while True:
                if batches and time.monotonic() - started >= budget_seconds:
                    run.complete = False
                    return runs
                deleted = entry.delete(current, run.cutoff, batch_size)
                # A batch that found nothing costs one indexed read: it does not spend the
                # budget, so a run always gets to the next kind of row.
                batches += deleted > 0
                run.deleted[entry.name] += deleted
                if deleted < batch_size:
                    break
    return runs
