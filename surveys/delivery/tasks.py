"""Periodic upkeep of the throttle ledger, and e-mail survey invitations."""

import smtplib

from celery import shared_task
from django.db import InterfaceError, OperationalError

from surveys.delivery.email_surveys import invitation_send, invitations_due
from surveys.delivery.ledger import claims_expire


@shared_task(name="surveys.tasks.expire_stale_claims", acks_late=True)
def expire_stale_claims() -> int:
    """Claims the widget never confirmed as shown stop counting after 10 minutes."""
    return claims_expire()


@shared_task(
    name="surveys.tasks.send_invitation",
    acks_late=True,
    autoretry_for=(
        ConnectionError,
        TimeoutError,
        OperationalError,
        InterfaceError,
        smtplib.SMTPException,
    ),
    retry_backoff=60,
    retry_jitter=True,
    max_retries=6,
)
def send_invitation(invitation_id: str) -> str:
    """Sent with an ETA at the survey's delay; sending is exactly-once by the row lock."""
    return invitation_send(invitation_id)


@shared_task(name="surveys.tasks.send_due_invitations", acks_late=True, expires=90)
def send_due_invitations() -> int:
    """Every minute: invitations whose time has come (lost tasks, and the embedded mode)."""
    sent = 0
    for invitation_id in invitations_due():
        try:
            sent += invitation_send(invitation_id) == "sent"
        except smtplib.SMTPException:
            continue  # the mail server refused; the invitation stays scheduled for next time
    return sent
