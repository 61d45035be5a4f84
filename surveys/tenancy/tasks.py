"""Tenancy's periodic upkeep: data retention (surveys.tenancy.retention)."""

from celery import shared_task

from surveys.tenancy.retention import retention_apply


@shared_task(name="surveys.tasks.apply_retention", acks_late=True)
def apply_retention() -> int:
    """Daily: delete the raw rows older than each project's retention, within the run's time
    budget (what is left waits for the next run). Returns the rows deleted."""
    return sum(sum(run.deleted.values()) for run in retention_apply())
