"""In-process runner for the Celery beat schedule, used only in the embedded mode.

With no broker there is no `celery beat`; this thread walks the same CELERY_BEAT_SCHEDULE
(using Celery's own schedule objects to know what is due) and runs each due task in-process.
Full mode never starts it: beat and the workers do this work there.
"""

from __future__ import annotations

import logging
import sys
import threading
import time

from celery import current_app
from celery.schedules import schedule as celery_schedule
from django.conf import settings
from django.db import close_old_connections
from django.utils import timezone

logger = logging.getLogger(__name__)
_started = False


def _as_schedule(value):
    return value if hasattr(value, "is_due") else celery_schedule(value)


def run_forever(poll_seconds: float = 5.0) -> None:
    entries = {
        name: (entry["task"], _as_schedule(entry["schedule"]), timezone.now())
        for name, entry in settings.CELERY_BEAT_SCHEDULE.items()
    }
    while True:
        for name, (task_name, sched, last_run) in list(entries.items()):
            is_due, _next = sched.is_due(last_run)
            if not is_due:
                continue
            entries[name] = (task_name, sched, timezone.now())
            try:
                close_old_connections()
                current_app.tasks[task_name].apply()
            except Exception:  # a failing job must not stop the others
                logger.exception("periodic job %s failed", name)
            finally:
                close_old_connections()
        time.sleep(poll_seconds)


def start_if_serving() -> None:
    """Start once, and only in a serving process (not in migrate, shell or the reloader parent)."""
    global _started
    import os

    serving = "runserver" in sys.argv and (
        os.environ.get("RUN_MAIN") == "true" or "--noreload" in sys.argv
    )
    if _started or not serving:
        return
    _started = True
    threading.Thread(target=run_forever, name="vocsite-scheduler", daemon=True).start()
    logger.info("embedded scheduler started (%d periodic jobs)", len(settings.CELERY_BEAT_SCHEDULE))
