"""What happens to accepted input after commit: finished responses are rolled up, then run
through the hooks (tagging, alert rules, recovery, webhooks); feedback goes through its own.

The request only enqueues, on commit. If the broker is down the enqueue fails quietly — the row
is committed and `responses_sweep` finds it later — so a customer's answer is never refused
because Redis is unavailable. Every step is idempotent: the rollup claims a marker, cases are
unique per (response, rule), webhooks per (endpoint, event, subject).
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from feedback.models import Feedback, Response
from metrics.rollups import rollup_response

logger = logging.getLogger(__name__)

# After the rollup, in this order: tags first (alert rules may match topics), then cases.
RESPONSE_HOOKS: tuple[str, ...] = (
    "feedback.topics.tag_response",
    "feedback.cases.cases_open_for_response",
    "feedback.cases.cases_recover_for_response",
    "feedback.webhooks.webhooks_for_response",
)
FEEDBACK_HOOKS: tuple[str, ...] = (
    "feedback.topics.tag_feedback",
    "feedback.cases.cases_open_for_feedback",
    "feedback.webhooks.webhooks_for_feedback",
)
SWEEP_AFTER = timedelta(minutes=2)
SWEEP_BATCH = 1000


def _publish(task_name: str, object_id: int) -> None:
    """Send a task; a broker outage is logged, never raised (the sweeper catches up)."""
    from celery import current_app

    try:
        current_app.tasks[task_name].delay(object_id)
    except Exception:  # kombu/redis raise many connection error types; all mean "later"
        logger.warning(
            "could not enqueue %s(%s); the sweeper will retry", task_name, object_id, exc_info=True
        )


def enqueue_processing(response_id: int) -> None:
    """Called inside response_submit's transaction: processing starts after commit."""
    transaction.on_commit(lambda: _publish("feedback.tasks.pipeline.process_response", response_id))


def enqueue_feedback_processing(feedback_id: int) -> None:
    transaction.on_commit(lambda: _publish("feedback.tasks.pipeline.process_feedback", feedback_id))


def _run_hooks(paths: tuple[str, ...], object_id: int) -> None:
    for path in paths:
        try:
            hook = import_string(path)
        except ImportError:
            continue  # that feature is not installed in this build
        hook(object_id)


def response_process(response_id: int) -> None:
    """Roll the response up (exactly once), run the hooks, mark it processed."""
    if not Response.objects.filter(
        pk=response_id, finished=True, processed_at__isnull=True
    ).exists():
        return
    rollup_response(response_id)
    _run_hooks(RESPONSE_HOOKS, response_id)
    Response.objects.filter(pk=response_id, processed_at__isnull=True).update(
        processed_at=timezone.now()
    )


def feedback_process(feedback_id: int) -> None:
    if not Feedback.objects.filter(pk=feedback_id, processed_at__isnull=True).exists():
        return
    _run_hooks(FEEDBACK_HOOKS, feedback_id)
    Feedback.objects.filter(pk=feedback_id, processed_at__isnull=True).update(
        processed_at=timezone.now()
    )


def responses_sweep(*, now=None) -> int:
    """Re-enqueue committed work whose task never ran (broker down, worker killed)."""
    cutoff = (now or timezone.now()) - SWEEP_AFTER
    response_ids = list(
        Response.objects.filter(finished=True, processed_at__isnull=True, finished_at__lte=cutoff)
        .order_by("finished_at")
        .values_list("pk", flat=True)[:SWEEP_BATCH]
    )
    feedback_ids = list(
        Feedback.objects.filter(processed_at__isnull=True, created_at__lte=cutoff)
        .order_by("created_at")
        .values_list("pk", flat=True)[:SWEEP_BATCH]
    )
    for response_id in response_ids:
        _publish("feedback.tasks.pipeline.process_response", response_id)
    for feedback_id in feedback_ids:
        _publish("feedback.tasks.pipeline.process_feedback", feedback_id)
    if response_ids or feedback_ids:
        logger.info(
            "sweeper re-enqueued %d responses, %d feedback", len(response_ids), len(feedback_ids)
        )
    return len(response_ids) + len(feedback_ids)
