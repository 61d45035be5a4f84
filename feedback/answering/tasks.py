"""Celery entry points for the response pipeline: thin (an id in, a service call), idempotent,
late-acknowledged (prefetch 1 is set globally), so a worker killed mid-task leaves its
message in Redis to be redelivered and the service's markers make the second run harmless.

Routes (vocsite/celery.py): `process_response` → `rollups`, `process_feedback` → `alerts`,
`sweep_unprocessed` → `default` (scheduled by CELERY_BEAT_SCHEDULE every minute).
"""

from celery import shared_task

from feedback.answering.pipeline import (
    TRANSIENT_ERRORS,
    feedback_process,
    response_process,
    responses_process,
    responses_sweep,
)

__all__ = ["process_feedback", "process_response", "process_responses", "sweep_unprocessed"]

# Retried: transient failures only (feedback.answering.pipeline.TRANSIENT_ERRORS). A step that fails
# for good (a bug, data it cannot handle) is recorded by the pipeline, the other steps still
# run, and the sweeper brings the answer back until it is quarantined.

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
    """A web process's batch (feedback.answering.pipeline._publisher), rolled up together. A transient
    failure retries the batch (each response is idempotent, so those done are skipped); a
    step that fails is recorded and the rest still runs (feedback.answering.pipeline)."""
    return responses_process(response_ids)


@shared_task(name="feedback.tasks.pipeline.process_feedback", **_RETRY)
def process_feedback(feedback_id: int) -> bool:
    return feedback_process(feedback_id)


@shared_task(name="feedback.tasks.pipeline.sweep_unprocessed", acks_late=True, expires=90)
def sweep_unprocessed() -> int:
    return responses_sweep()
