"""Publishing a Celery task without failing the caller when the broker is away.

A task is named, not imported: services publish by the task's registered name (the names are
stable; DESIGN.md §8), so a service never imports the task module that calls it back. Every
app's `ready()` imports its task modules, so each name is known in web and worker processes
alike. In the embedded mode (eager tasks) publishing runs the task in-process.
"""

from __future__ import annotations

import logging

import kombu.exceptions
import redis.exceptions

from vocsite.celery import app

logger = logging.getLogger(__name__)

# What a publish raises when Redis is unreachable or slow. Anything else is a bug and is
# raised (a robust on_commit logs it with its traceback).
BROKER_ERRORS: tuple[type[BaseException], ...] = (
    kombu.exceptions.OperationalError,
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    ConnectionError,
    TimeoutError,
)


def task_publish(name: str, *args, **options) -> bool:
    """Send the task registered as `name`; a broker outage is logged and reported as False,
    never raised (the row it is about is committed, and a sweeper finds it later)."""
    try:
        app.tasks[name].apply_async(args, **options)
    except BROKER_ERRORS:
        logger.warning("could not enqueue %s%r; it is retried later", name, args, exc_info=True)
        return False
    return True
