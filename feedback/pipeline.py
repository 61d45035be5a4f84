"""What happens to accepted input after commit: finished responses are rolled up, then run
through the hooks (tagging, alert rules, recovery, webhooks); feedback goes through its own.

Why it is shaped this way (DESIGN.md §3):
- The request only enqueues, on commit (`robust=True`). If the broker is down the publish
  fails fast and is logged, never raised — the row is committed and `responses_sweep` finds
  it later — so a customer's answer is never refused because Redis is unavailable. In the
  embedded mode (no broker, eager tasks) the same call runs the work in-process after commit,
  and a failure there is logged by Django's robust on_commit instead of failing the request.
- Every step is idempotent, because a message can be delivered twice (a retried task, a
  message redelivered after a killed worker, the sweeper racing a slow queue): the rollup
  claims `rolled_up_at` in the same transaction as its increments, hooks must tolerate a
  second call (cases are unique per response and rule, webhooks per endpoint and event), and
  `processed_at` is set only after every hook ran.
- Hooks are dotted paths so features that land later (topics, cases, webhooks) plug in
  without this module importing them; a hook whose module or function does not exist yet is
  skipped, a hook that exists but fails makes the task fail (and the sweeper retry it).
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

import kombu.exceptions
import redis.exceptions
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from feedback.batch_reads import responses_loaded
from feedback.models import Feedback, Response
from metrics.rollups import rollup_responses
from vocsite.batcher import Batcher

logger = logging.getLogger(__name__)

# After the rollup, in this order: tags first (alert rules may match topics), then cases,
# then recovery of earlier cases, then webhooks (which may carry the case and the tags).
# Other features append their hook here; each takes the object's id and is idempotent.
RESPONSE_HOOKS: tuple[str, ...] = (
    "feedback.responses.contact_last_nps_update",
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

# A finished response normally is processed within seconds; one still unprocessed after this
# long lost its message (broker down at commit, worker killed before acking, queue purged).
SWEEP_AFTER = timedelta(minutes=2)
SWEEP_BATCH = 1000
# One sweep re-enqueues at most this many, so a run ends well inside its one-minute interval
# even after a long outage; the next run continues where the backlog stands.
SWEEP_MAX_PER_RUN = 20_000
# A re-enqueued message older than this is dropped by the worker unprocessed: when the queue
# is already backlogged, each sweep would otherwise add another copy of every waiting row.
# The row stays unprocessed, so a later sweep enqueues it again.
SWEEP_MESSAGE_EXPIRES = timedelta(minutes=10)
# The queue finished responses are processed on (vocsite/celery.py) and the backlog above which
# a sweep waits for the next run.
PROCESSING_QUEUE = "rollups"
SWEEP_MAX_BACKLOG = 1000

# What a publish raises when Redis is unreachable or slow. Anything else is a bug and is
# logged with its traceback by the robust on_commit, not hidden here.
BROKER_ERRORS: tuple[type[BaseException], ...] = (
    kombu.exceptions.OperationalError,
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    ConnectionError,
    TimeoutError,
)


def task_publish(task, object_id: int | str, **options) -> bool:
    """Send one task; a broker outage is logged and reported as False, never raised."""
    try:
        task.apply_async((object_id,), **options)
    except BROKER_ERRORS:
        logger.warning(
            "could not enqueue %s(%s); the sweeper will retry", task.name, object_id, exc_info=True
        )
        return False
    return True


def _process_response_task():
    from feedback.tasks.pipeline import process_response  # the tasks module imports this one

    return process_response


def _process_feedback_task():
    from feedback.tasks.pipeline import process_feedback

    return process_feedback


def _publish_response_batch(response_ids: Sequence[int]) -> None:
    if len(response_ids) == 1:
        task_publish(_process_response_task(), response_ids[0])
    else:
        from feedback.tasks.pipeline import process_responses

        task_publish(process_responses, list(response_ids))


# Under load one Celery message per answer cost the web process more than storing the answer
# (kombu builds each message): the ids committed in the last RESPONSE_PUBLISH_BATCH_SECONDS
# go out as one message. Nothing is lost if the process dies first: the rows are committed
# and unprocessed, and the sweeper enqueues them again (SWEEP_AFTER).
_publisher: Batcher[int] = Batcher(
    "response-publisher", lambda: settings.RESPONSE_PUBLISH_BATCH_SECONDS, _publish_response_batch
)


def enqueue_processing(response_id: int) -> None:
    """Called inside response_submit's transaction: processing starts after commit.

    Nothing is sent if the transaction rolls back. `robust=True` keeps a failure of the
    callback (in eager mode: of the processing itself) from failing the committed request."""

    # A named function, not a partial: Django logs a robust callback's failure by __qualname__.
    def publish_response_processing() -> None:
        _publisher.add(response_id)

    transaction.on_commit(publish_response_processing, robust=True)


def enqueue_feedback_processing(feedback_id: int) -> None:
    """Like `enqueue_processing`, for Feedback-tab messages."""
    task = _process_feedback_task()

    def publish_feedback_processing() -> None:
        task_publish(task, feedback_id)

    transaction.on_commit(publish_feedback_processing, robust=True)


def hook_resolve(path: str) -> Callable[[int], object] | None:
    """The hook function at `path`, or None while its feature is not built yet.

    Only a missing module or a missing function means "not built": an ImportError raised from
    inside an existing module (a broken dependency) propagates, so it cannot be skipped
    silently."""
    module_path, _, name = path.rpartition(".")
    try:
        module = importlib.import_module(module_path)
    except ModuleNotFoundError as error:
        missing = error.name or ""
        if missing and (module_path == missing or module_path.startswith(missing + ".")):
            return None
        raise
    try:
        return getattr(module, name)
    except AttributeError:
        return None


def _run_hooks(paths: tuple[str, ...], object_id: int) -> None:
    for path in paths:
        hook = hook_resolve(path)
        if hook is not None:
            hook(object_id)


def response_process(response_id: int) -> bool:
    """Roll the response up (exactly once), run the hooks in order, mark it processed.

    Safe to call any number of times: returns False when there was nothing to do (unknown,
    unfinished or already processed). A crash between the steps leaves `processed_at` null,
    so a retry or the sweeper runs the remaining steps; the rollup does not count twice."""
    return responses_process([response_id]) == 1


def responses_process(
    response_ids: Sequence[int], *, failed: Callable[[int, Exception], None] | None = None
) -> int:
    """`response_process` for a batch: the rollup of all of them first (one transaction per
    project instead of one per response), then each response's hooks, then one UPDATE marking
    those done processed. Returns how many were processed now.

    A response whose hooks raise stays unprocessed (the sweeper brings it back). Without
    `failed` the error propagates — after the responses done before it are marked. With it,
    `failed(response_id, error)` is called inside the `except` block (it may raise) and the batch
    goes on; then a batch rollup that raises is not the end either: each response is rolled
    up on its own, so one that cannot be counted does not hold back the others."""
    pending = list(
        Response.objects.filter(
            pk__in=list(response_ids), finished=True, processed_at__isnull=True
        ).values_list("pk", flat=True)
    )
    if not pending:
        return 0
    alone = False
    try:
        rollup_responses(pending)
    except Exception:
        if failed is None:
            raise
        alone = True
    done: list[int] = []
    try:
        with responses_loaded(pending):  # read once for all the hooks (feedback.batch_reads)
            for response_id in sorted(pending):
                try:
                    if alone:
                        rollup_responses([response_id])
                    _run_hooks(RESPONSE_HOOKS, response_id)
                except Exception as error:
                    if failed is None:
                        raise
                    failed(response_id, error)
                    continue
                done.append(response_id)
    finally:
        if done:
            Response.objects.filter(pk__in=done, processed_at__isnull=True).update(
                processed_at=timezone.now()
            )
    return len(done)


def feedback_process(feedback_id: int) -> bool:
    """Run the feedback hooks and mark the message processed (idempotent like responses)."""
    if not Feedback.objects.filter(pk=feedback_id, processed_at__isnull=True).exists():
        return False
    _run_hooks(FEEDBACK_HOOKS, feedback_id)
    Feedback.objects.filter(pk=feedback_id, processed_at__isnull=True).update(
        processed_at=timezone.now()
    )
    return True


def _sweep(queryset, task, limit: int, expires_at: datetime) -> tuple[int, bool]:
    """Re-enqueue ids from `queryset` in pk order, batch by batch (keyset, no OFFSET).

    Returns (how many were sent, whether the broker failed). Stops at the first broker error:
    with Redis down each attempt costs a connect timeout, and the next run tries again."""
    sent, last_pk = 0, 0
    while sent < limit:
        batch = list(
            queryset.filter(pk__gt=last_pk)
            .order_by("pk")
            .values_list("pk", flat=True)[: min(SWEEP_BATCH, limit - sent)]
        )
        if not batch:
            return sent, False
        for object_id in batch:
            if not task_publish(task, object_id, expires=expires_at):
                return sent, True
            sent += 1
        last_pk = batch[-1]
    return sent, False


def queue_backlog(queue: str) -> int | None:
    """Messages waiting in a broker queue, or None when that cannot be told (no broker in the
    embedded mode, broker unreachable)."""
    from vocsite.celery import app

    if app.conf.task_always_eager:
        return None
    try:
        with app.connection_for_read() as connection:
            return connection.default_channel.queue_declare(queue=queue, passive=True).message_count
    except kombu.exceptions.ChannelError:
        return 0  # the queue does not exist (yet): nothing is waiting in it
    except (*BROKER_ERRORS, kombu.exceptions.KombuError, OSError):
        return None


def responses_sweep(*, now: datetime | None = None, limit: int = SWEEP_MAX_PER_RUN) -> int:
    """Re-enqueue committed work whose task never ran (broker down, worker killed).

    Returns how many messages were sent. Responses first: they carry the metrics. While the
    processing queue already holds a backlog, the sweep waits: the unprocessed rows are most
    likely still queued, and adding a copy of each would only push new answers further back
    (found by the load test: a long backlog grew to 27,000 duplicate messages)."""
    backlog = queue_backlog(PROCESSING_QUEUE)
    if backlog is not None and backlog > SWEEP_MAX_BACKLOG:
        logger.info("sweeper waits: %d messages already in the %s queue", backlog, PROCESSING_QUEUE)
        return 0
    now = now or timezone.now()
    cutoff = now - SWEEP_AFTER
    expires_at = now + SWEEP_MESSAGE_EXPIRES
    responses, broker_failed = _sweep(
        Response.objects.filter(finished=True, processed_at__isnull=True, finished_at__lte=cutoff),
        _process_response_task(),
        limit,
        expires_at,
    )
    feedback = 0
    if not broker_failed and responses < limit:
        feedback, broker_failed = _sweep(
            Feedback.objects.filter(processed_at__isnull=True, created_at__lte=cutoff),
            _process_feedback_task(),
            limit - responses,
            expires_at,
        )
    if responses or feedback or broker_failed:
        logger.info(
            "sweeper re-enqueued %d responses and %d feedback%s",
            responses,
            feedback,
            " (broker unavailable, stopped early)" if broker_failed else "",
        )
    return responses + feedback
