"""What happens to accepted input after commit: finished responses are rolled up, then run
through the steps (tagging, alert rules, recovery, webhooks); feedback goes through its own.

Why it is shaped this way (DESIGN.md §3):
- The request only enqueues, on commit (`robust=True`). If the broker is down the publish
  fails fast and is logged, never raised — the row is committed and `responses_sweep` finds
  it later — so a customer's answer is never refused because Redis is unavailable. In the
  embedded mode (no broker, eager tasks) the same call runs the work in-process after commit,
  and a failure there is logged by Django's robust on_commit instead of failing the request.
- Every step is idempotent, because a message can be delivered twice (a retried task, a
  message redelivered after a killed worker, the sweeper racing a slow queue): the rollup
  claims `rolled_up_at` in the same transaction as its increments, steps must tolerate a
  second call (cases are unique per response and rule, webhooks per endpoint and event), and
  `processed_at` is set only after every step ran.
- The steps are registries (vocsite.registry) declared here in their order: the concerns
  that do them (topics, cases, webhooks in this app; the rollup in `metrics`) register them
  in their app's `ready()`, and start-up fails when one is missing.
- The steps fail one at a time. A step that raises (a bug, data it cannot handle) is logged
  and recorded (`ProcessingFailure`: which step, why), and the other steps still run, for
  that answer and for the rest of its batch; the answer stays unprocessed for the sweeper,
  which runs all its steps again (they are idempotent). After PROCESSING_MAX_ATTEMPTS runs
  that failed, it is quarantined: the sweeper leaves it alone, admins see it (the Django
  admin, the webhooks page), and `manage.py replay_quarantined` runs it again once the cause
  is fixed. Before, one alert rule whose due date overflowed stopped every later step of
  every answer it matched, and the sweeper retried them forever.
- Transient errors (the database or the network blinked) are not a step's failure: they
  propagate, the task retries the batch (Celery's autoretry), and no attempt is counted.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime, timedelta

import kombu.exceptions
from django.conf import settings
from django.db import InterfaceError, OperationalError, connection, transaction
from django.utils import timezone

from feedback.answering.batch import ResponseBatch
from feedback.answering.models import Feedback, ProcessingFailure, Response
from surveys.tenancy.models import Project
from vocsite.batcher import Batcher
from vocsite.celery import app
from vocsite.publish import BROKER_ERRORS, task_publish
from vocsite.registry import Registry

logger = logging.getLogger(__name__)

# First the rollup of a batch of finished responses (metrics), counted exactly once.
RESPONSE_ROLLUP: Registry[Callable[[Sequence[int]], object]] = Registry(
    "the rollup of finished responses", expected=("rollup",)
)
# Then each response's steps, in this order: the contact's last NPS, tags (alert rules may
# match topics), cases, recovery of earlier cases, then webhooks (which may carry the case and
# the tags). Each takes the response's id and the batch it was read in (feedback.answering.batch)
# and is idempotent.
RESPONSE_STEPS: Registry[Callable[[int, ResponseBatch], object]] = Registry(
    "steps for a finished response",
    expected=("last_nps", "topics", "cases", "recovery", "webhooks"),
)
FEEDBACK_STEPS: Registry[Callable[[int], object]] = Registry(
    "steps for a Feedback-tab message", expected=("topics", "cases", "webhooks")
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

# Runs of one answer (or message) whose steps failed before it is quarantined: with the
# sweeper's pace (SWEEP_AFTER) a few minutes, enough for a transient cause to pass.
PROCESSING_MAX_ATTEMPTS = 5
# The database or the network blinked (connection lost, deadlock, serialization failure,
# statement timeout): retried by the task, never counted as a step's failure. An
# IntegrityError or a bug is a step's failure.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    ConnectionError,
    TimeoutError,
    OperationalError,
    InterfaceError,
)

# The tasks that run this module's processing (feedback.answering.tasks), published by name.
PROCESS_RESPONSE = "feedback.tasks.pipeline.process_response"
PROCESS_RESPONSES = "feedback.tasks.pipeline.process_responses"
PROCESS_FEEDBACK = "feedback.tasks.pipeline.process_feedback"


def _publish_response_batch(response_ids: Sequence[int]) -> None:
    if len(response_ids) == 1:
        task_publish(PROCESS_RESPONSE, response_ids[0])
    else:
        task_publish(PROCESS_RESPONSES, list(response_ids))


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

    def publish_feedback_processing() -> None:
        task_publish(PROCESS_FEEDBACK, feedback_id)

    transaction.on_commit(publish_feedback_processing, robust=True)


def _step_isolated():
    """A step's own savepoint when processing runs inside a transaction (the tests, a caller's
    atomic block): on PostgreSQL a failed statement would otherwise poison the transaction
    for the steps after it. Workers run in autocommit, where nothing needs undoing and a
    savepoint per step would only add round trips."""
    return transaction.atomic() if connection.in_atomic_block else nullcontext()


def _step(name: str, run: Callable[[], object], failures: dict[str, str], subject: str) -> None:
    """Run one step; a failure that is not transient is logged and noted in `failures`."""
    try:
        with _step_isolated():
            run()
    except TRANSIENT_ERRORS:
        raise
    except Exception as error:
        logger.exception("processing %s: step %s failed", subject, name)
        failures[name] = f"{type(error).__name__}: {error}"[:1000]


def step_name(step: Callable) -> str:
    """How a failed step is recorded (ProcessingFailure.steps): where its function lives."""
    return f"{step.__module__}.{step.__qualname__}"


def _run_steps(steps: Registry, object_id: int, failures: dict[str, str], subject: str, *batch):
    for step in steps:
        _step(step_name(step), lambda step=step: step(object_id, *batch), failures, subject)


@dataclass(frozen=True)
class _Pending:
    object_id: int
    project_id: int
    failure_id: int | None  # its ProcessingFailure row, if an earlier run failed


def _pending(queryset, ids: Sequence[int], *, quarantined: bool) -> list[_Pending]:
    """The unprocessed ones among `ids`, each with its failure row (one query, a left join on
    the small failures table); quarantined ones only when asked (a replay)."""
    queryset = queryset.filter(pk__in=list(ids), processed_at__isnull=True)
    if not quarantined:
        queryset = queryset.filter(processing_failure__quarantined_at__isnull=True)
    return [
        _Pending(pk, project_id, failure_id)
        for pk, project_id, failure_id in queryset.values_list(
            "pk", "project_id", "processing_failure__pk"
        )
    ]


@transaction.atomic
def _failure_record(subject: str, item: _Pending, failures: dict[str, str]) -> bool:
    """Count a failed run: the steps that failed and why. Returns whether it is (now)
    quarantined: after PROCESSING_MAX_ATTEMPTS runs, or at once when already quarantined (a
    replay that failed again)."""
    now = timezone.now()
    failure, _ = ProcessingFailure.objects.select_for_update().get_or_create(
        **{f"{subject}_id": item.object_id}, defaults={"project_id": item.project_id}
    )
    failure.attempts += 1
    failure.steps = failures
    failure.reason = "; ".join(f"{step}: {error}" for step, error in failures.items())[:4000]
    if failure.quarantined_at is not None or failure.attempts >= PROCESSING_MAX_ATTEMPTS:
        failure.quarantined_at = now
        logger.error(
            "%s %s quarantined after %d failed runs: %s",
            subject,
            item.object_id,
            failure.attempts,
            failure.reason,
        )
    failure.save(update_fields=["attempts", "steps", "reason", "quarantined_at", "updated_at"])
    return failure.quarantined_at is not None


def response_process(response_id: int) -> bool:
    """Roll the response up (exactly once), run the steps in order, mark it processed.

    Safe to call any number of times: returns False when there was nothing to do (unknown,
    unfinished, already processed or quarantined) or when a step failed. A failed step leaves
    `processed_at` null, so the sweeper runs the steps again; the rollup does not count twice."""
    return responses_process([response_id]) == 1


def responses_process(response_ids: Sequence[int], *, quarantined: bool = False) -> int:
    """`response_process` for a batch: the rollup of all of them first (one transaction per
    project instead of one per response), then each response's hooks, then one UPDATE marking
    those done processed. Returns how many were processed now.

    Each step of each response runs whatever an earlier step did (module docstring): a
    response with a failed step stays unprocessed and its failure is recorded. A batch rollup
    that fails is not the end either: each response is then rolled up on its own, so one that
    cannot be counted does not hold back the others. A transient error propagates (after the
    responses done before it are marked), for the task to retry. `quarantined=True` also takes
    quarantined responses (`processing_replay_quarantined`)."""
    pending = _pending(
        Response.objects.filter(finished=True), response_ids, quarantined=quarantined
    )
    if not pending:
        return 0
    ids = [item.object_id for item in pending]
    rollup = RESPONSE_ROLLUP["rollup"]
    batch_failures: dict[str, str] = {}
    _step(step_name(rollup), lambda: rollup(ids), batch_failures, f"responses {ids[:10]}")
    # A batch whose rollup failed is rolled up again one response at a time (one of them
    # cannot be counted; the others can); a batch of one has its answer already.
    alone = bool(batch_failures) and len(pending) > 1
    done: list[_Pending] = []
    try:
        batch = ResponseBatch.load(ids)
        for item in sorted(pending, key=lambda item: item.object_id):
            failures = {} if alone else dict(batch_failures)
            subject = f"response {item.object_id}"
            if alone:
                _step(
                    step_name(rollup),
                    lambda item=item: rollup([item.object_id]),
                    failures,
                    subject,
                )
            _run_steps(RESPONSE_STEPS, item.object_id, failures, subject, batch)
            if failures:
                _failure_record("response", item, failures)
            else:
                done.append(item)
    finally:
        if done:
            Response.objects.filter(
                pk__in=[item.object_id for item in done], processed_at__isnull=True
            ).update(processed_at=timezone.now())
            failed_before = [item.failure_id for item in done if item.failure_id is not None]
            if failed_before:
                ProcessingFailure.objects.filter(pk__in=failed_before).delete()
    return len(done)


def feedback_process(feedback_id: int, *, quarantined: bool = False) -> bool:
    """Run the feedback steps and mark the message processed (idempotent like responses; a
    failed step is recorded and counted the same way)."""
    pending = _pending(Feedback.objects.all(), [feedback_id], quarantined=quarantined)
    if not pending:
        return False
    item = pending[0]
    failures: dict[str, str] = {}
    _run_steps(FEEDBACK_STEPS, feedback_id, failures, f"feedback {feedback_id}")
    if failures:
        _failure_record("feedback", item, failures)
        return False
    Feedback.objects.filter(pk=feedback_id, processed_at__isnull=True).update(
        processed_at=timezone.now()
    )
    if item.failure_id is not None:
        ProcessingFailure.objects.filter(pk=item.failure_id).delete()
    return True


# ---------------------------------------------------------------- quarantine


def processing_quarantined_count(*, project: Project) -> int:
    """How many answers and messages of the project are quarantined (waiting for a replay)."""
    return ProcessingFailure.objects.filter(project=project, quarantined_at__isnull=False).count()


@dataclass(frozen=True)
class ReplayResult:
    replayed: int
    processed: int

    @property
    def still_quarantined(self) -> int:
        return self.replayed - self.processed


def processing_replay_quarantined(
    *, project: Project | None = None, failure_ids: Sequence[int] | None = None
) -> ReplayResult:
    """Run every step of the quarantined answers and messages again now (all of them, one
    project's, or the failures chosen in the admin, quarantined or not): those that pass are
    processed and leave the list, those that fail again are quarantined with the new reason."""
    failures = ProcessingFailure.objects.all()
    if failure_ids is None:
        failures = failures.filter(quarantined_at__isnull=False)
    else:
        failures = failures.filter(pk__in=list(failure_ids))
    if project is not None:
        failures = failures.filter(project=project)
    response_ids = list(
        failures.exclude(response=None).order_by("pk").values_list("response_id", flat=True)
    )
    feedback_ids = list(
        failures.exclude(feedback=None).order_by("pk").values_list("feedback_id", flat=True)
    )
    processed = 0
    for start in range(0, len(response_ids), SWEEP_BATCH):
        processed += responses_process(response_ids[start : start + SWEEP_BATCH], quarantined=True)
    processed += sum(feedback_process(pk, quarantined=True) for pk in feedback_ids)
    return ReplayResult(replayed=len(response_ids) + len(feedback_ids), processed=processed)


def _sweep(queryset, task_name: str, limit: int, expires_at: datetime) -> tuple[int, bool]:
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
            if not task_publish(task_name, object_id, expires=expires_at):
                return sent, True
            sent += 1
        last_pk = batch[-1]
    return sent, False


def queue_backlog(queue: str) -> int | None:
    """Messages waiting in a broker queue, or None when that cannot be told (no broker in the
    embedded mode, broker unreachable)."""
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
        Response.objects.filter(
            finished=True,
            processed_at__isnull=True,
            finished_at__lte=cutoff,
            processing_failure__quarantined_at__isnull=True,  # quarantined: replay by hand
        ),
        PROCESS_RESPONSE,
        limit,
        expires_at,
    )
    feedback = 0
    if not broker_failed and responses < limit:
        feedback, broker_failed = _sweep(
            Feedback.objects.filter(
                processed_at__isnull=True,
                created_at__lte=cutoff,
                processing_failure__quarantined_at__isnull=True,
            ),
            PROCESS_FEEDBACK,
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
