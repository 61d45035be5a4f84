"""Celery tasks of the metrics app (routed to the `rollups` queue by vocsite/celery.py).

Incremental rollups run inside the processing of finished answers (feedback.answering.pipeline), next to the hooks
that follow them; this module holds the heavy, rare job: recomputing histograms from raw rows
(after a bug fix in the rollup code, when a project adds a breakdown attribute, or when its
timezone changes, since rollup days are local days), so the staff UI can start it without
blocking a web request.
"""

from celery import shared_task

from metrics.rollups.services import rollups_rebuild
from surveys.tenancy.models import Project
from vocsite.publish import task_publish

__all__ = ["rebuild_rollups", "rollups_rebuild_later"]


@shared_task(name="metrics.tasks.rebuild_rollups", acks_late=True)
def rebuild_rollups(project_id: int | None = None) -> int:
    """Recompute one project's rollups (or all); idempotent, so a redelivery is harmless."""
    if project_id is None:
        return rollups_rebuild()
    project = Project.objects.filter(pk=project_id).first()
    return rollups_rebuild(project=project) if project is not None else 0


def rollups_rebuild_later(project_id: int) -> None:
    """Enqueue one project's rebuild (registered for a change of the project's timezone: every
    answer's local day may move). Eager mode runs it here; a broker outage is logged."""
    task_publish(rebuild_rollups.name, project_id)
