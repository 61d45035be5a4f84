"""Celery entry point of the weekly digests: run hourly by beat (and by the embedded
scheduler, which walks the same schedule); sending is idempotent (metrics.digests.services)."""

from celery import shared_task

from metrics.digests.services import digests_send_due

__all__ = ["send_due_digests"]


@shared_task(name="metrics.tasks.send_due_digests", acks_late=True, expires=5400)
def send_due_digests() -> int:
    return digests_send_due()
