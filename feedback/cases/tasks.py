"""Celery entry points of the closed loop: SLA escalation, case e-mails, webhook deliveries.

Thin and idempotent like the pipeline tasks: escalation claims each case with a conditional
UPDATE, a delivery claims its row with a lease, so a redelivered message does no harm.
Routed to the `alerts` queue (vocsite/celery.py); the periodic ones are in the beat schedule.
"""

from celery import shared_task
from django.db import InterfaceError, OperationalError

from feedback.cases.notifications import case_email_send
from feedback.cases.services import cases_escalate_overdue
from feedback.webhooks.services import webhook_deliver, webhooks_retry_due

__all__ = ["deliver_webhook", "escalate_overdue_cases", "retry_due_webhooks", "send_case_email"]

TRANSIENT = (ConnectionError, TimeoutError, OperationalError, InterfaceError)


@shared_task(name="feedback.tasks.escalate_overdue_cases", acks_late=True, expires=450)
def escalate_overdue_cases() -> int:
    return cases_escalate_overdue()


@shared_task(
    name="feedback.tasks.send_case_email",
    bind=True,
    acks_late=True,
    autoretry_for=(*TRANSIENT, OSError),  # OSError: SMTP errors, unreachable or unknown host
    retry_backoff=30,
    retry_jitter=True,
    max_retries=5,
)
def send_case_email(self, case_id: int, kind: str) -> int:
    # On its last attempt an unreachable mail server is recorded on the case, not raised. Run
    # in-process (eager: embedded mode) there is no later attempt: the first one is the last.
    last_attempt = self.request.is_eager or self.request.retries >= self.max_retries
    return case_email_send(case_id=case_id, kind=kind, last_attempt=last_attempt)


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
