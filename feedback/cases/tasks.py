"""Celery entry points of the closed loop: SLA escalation and case e-mails.

Thin and idempotent like the pipeline tasks: escalation claims each case with a conditional
UPDATE so a redelivered message does no harm.
Routed to the `alerts` queue (vocsite/celery.py); the periodic ones are in the beat schedule.
"""

from celery import shared_task
from django.db import InterfaceError, OperationalError

from feedback.cases.notifications import case_email_send
from feedback.cases.services import cases_escalate_overdue

__all__ = ["escalate_overdue_cases", "send_case_email"]

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
