"""Periodic upkeep of the throttle ledger."""

from celery import shared_task

from surveys.ledger import claims_expire


@shared_task(name="surveys.tasks.expire_stale_claims", acks_late=True)
def expire_stale_claims() -> int:
    """Claims the widget never confirmed as shown stop counting after 10 minutes."""
    return claims_expire()
