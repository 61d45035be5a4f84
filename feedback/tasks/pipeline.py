"""Celery entry points for the response pipeline: thin, idempotent, late-acknowledged."""

from celery import shared_task
from django.db import DatabaseError, InterfaceError

from feedback.pipeline import feedback_process, response_process, responses_sweep

__all__ = ["process_feedback", "process_response", "sweep_unprocessed"]

# Transient failures only: the database or the network blinked. Anything else is a bug and
# must surface; the sweeper brings the row back once it is fixed.
TRANSIENT = (ConnectionError, TimeoutError, InterfaceError, DatabaseError)


@shared_task(
    name="feedback.tasks.pipeline.process_response",
    acks_late=True,
    autoretry_for=TRANSIENT,
    retry_backoff=2,
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=8,
)
def process_response(response_id: int) -> None:
    response_process(response_id)


@shared_task(
    name="feedback.tasks.pipeline.process_feedback",
    acks_late=True,
    autoretry_for=TRANSIENT,
    retry_backoff=2,
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=8,
)
def process_feedback(feedback_id: int) -> None:
    feedback_process(feedback_id)


@shared_task(name="feedback.tasks.pipeline.sweep_unprocessed", acks_late=True, expires=90)
def sweep_unprocessed() -> int:
    return responses_sweep()
