"""Retagging a project's history after a topic rule changed (routed to the `alerts` queue).

Idempotent: tagging recomputes rule tags, so a redelivered message repeats harmless work; a
run that is no longer queued or running is left alone."""

from celery import shared_task

from feedback.topics.services import retag_run

__all__ = ["retag_project"]


@shared_task(name="feedback.tasks.retag_project", acks_late=True)
def retag_project(run_id: int) -> str:
    return retag_run(run_id).status
