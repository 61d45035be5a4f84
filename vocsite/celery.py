"""The Celery app. Queues: `default`, `rollups`, `alerts` (DESIGN.md §8)."""

import os

from celery import Celery
from celery.signals import task_postrun, task_prerun, worker_process_shutdown
from kombu import Queue

from vocsite.batcher import Batcher

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vocsite.settings.local")

app = Celery("vocsite")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.task_queues = (Queue("default"), Queue("rollups"), Queue("alerts"))
app.conf.task_routes = {
    "metrics.tasks.send_due_digests": {"queue": "default"},  # e-mail, not rollup work
    "metrics.tasks.*": {"queue": "rollups"},
    "feedback.tasks.pipeline.process_response": {"queue": "rollups"},
    "feedback.tasks.pipeline.process_responses": {"queue": "rollups"},
    "feedback.tasks.pipeline.process_feedback": {"queue": "alerts"},
    "feedback.tasks.escalate_overdue_cases": {"queue": "alerts"},
    "feedback.tasks.send_case_email": {"queue": "alerts"},
    "feedback.tasks.deliver_webhook": {"queue": "alerts"},
    "feedback.tasks.retry_due_webhooks": {"queue": "alerts"},
    "feedback.tasks.retag_project": {"queue": "alerts"},
    "surveys.tasks.*": {"queue": "default"},
}
# No autodiscovery: each app's ready() imports its task modules (they live by concern, not in
# one `tasks` module per app), so web and worker processes register the same tasks.


@worker_process_shutdown.connect
def _flush_batches(**kwargs) -> None:
    """A prefork child leaves through os._exit, which skips atexit: write what its batchers
    still hold (decision rows of e-mail survey claims) first."""

    Batcher.flush_all()


@task_prerun.connect
@task_postrun.connect
def _recycle_old_connections(task=None, **kwargs) -> None:
    """Django's request rule around every task a worker runs: drop a database connection that
    broke or is older than CONN_MAX_AGE, keep the rest (settings: CELERY_DB_REUSE_MAX). Not
    for a task run eagerly inside a request or a test: its connection is the caller's."""
    from django.db import close_old_connections

    if task is not None and not getattr(task.request, "is_eager", False):
        close_old_connections()
