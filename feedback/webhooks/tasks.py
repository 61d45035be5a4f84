"""Celery entry points of webhooks: one delivery, and the periodic retry of those due.

A delivery claims its row with a lease, so a redelivered message does no harm. Routed to the
`alerts` queue (vocsite/celery.py); the retry is in the beat schedule.
"""

from celery import shared_task
from django.db import InterfaceError, OperationalError

from feedback.webhooks.services import webhook_deliver, webhooks_retry_due

__all__ = ["deliver_webhook", "retry_due_webhooks"]

TRANSIENT = (ConnectionError, TimeoutError, OperationalError, InterfaceError)


@shared_task(
    name="feedback.tasks.deliver_webhook",
    acks_late=True,
    autoretry_for=TRANSIENT,
    retry_backoff=5,
    retry_jitter=True,
    max_retries=5,
)
def deliver_webhook(delivery_id: str) -> str:
    # HTTP failures are not retried here: webhook_deliver schedules the next attempt itself
    # (backoff with jitter) and the periodic retry_due_webhooks sends it.
    return webhook_deliver(delivery_id)


@shared_task(name="feedback.tasks.retry_due_webhooks", acks_late=True, expires=30)
def retry_due_webhooks() -> int:
    return webhooks_retry_due()
