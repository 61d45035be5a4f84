"""Celery entry points for the response pipeline: thin (an id in, a service call), idempotent,
late-acknowledged (prefetch 1 is set globally), so a worker killed mid-task leaves its
message in Redis to be redelivered and the service's markers make the second run harmless.

Routes (vocsite/celery.py): `process_response` → `rollups`, `process_feedback` → `alerts`,
`sweep_unprocessed` → `default` (scheduled by CELERY_BEAT_SCHEDULE every minute).
"""

import logging

from celery import shared_task
from django.db import InterfaceError, OperationalError

from feedback.pipeline import (
    feedback_process,
    response_process,
    responses_process,
    responses_sweep,
)

logger = logging.getLogger(__name__)

__all__ = ["process_feedback", "process_response", "process_responses", "sweep_unprocessed"]

# Transient failures only: the database or the network blinked (connection lost, deadlock,
# serialization failure, statement timeout). An IntegrityError or a bug is not retried: it
# surfaces in the logs and the sweeper brings the row back once it is fixed.
TRANSIENT_ERRORS = (ConnectionError, TimeoutError, OperationalError, InterfaceError)

_RETRY = {
    "acks_late": True,
    "autoretry_for": TRANSIENT_ERRORS,
    "retry_backoff": 2,
    "retry_backoff_max": 300,
    "retry_jitter": True,
    "max_retries": 8,
}


@shared_task(name="feedback.tasks.pipeline.process_response", **_RETRY)
def process_response(response_id: int) -> bool:
    return response_process(response_id)


@shared_task(name="feedback.tasks.pipeline.process_responses", **_RETRY)
def process_responses(response_ids: list[int]) -> int:
    """A web process's batch (feedback.pipeline._publisher), rolled up together. A transient
    failure retries the batch (each response is idempotent, so those done are skipped); any
    other failure is logged and the rest of the batch still runs — the sweeper brings that
    one back."""

    def failed(response_id: int, error: Exception) -> None:
        if isinstance(error, TRANSIENT_ERRORS):
            raise error
        logger.exception("processing response %s failed; the sweeper retries it", response_id)

    return responses_process(response_ids, failed=failed)


@shared_task(name="feedback.tasks.pipeline.process_feedback", **_RETRY)
def process_feedback(feedback_id: int) -> bool:
    return feedback_process(feedback_id)


@shared_task(name="feedback.tasks.pipeline.sweep_unprocessed", acks_late=True, expires=90)
def sweep_unprocessed() -> int:
    return responses_sweep()
