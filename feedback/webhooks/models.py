"""Webhook endpoints, their deliveries and each delivery's attempts (DESIGN.md §4)."""

from __future__ import annotations

import base64
import secrets
import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

from surveys.tenancy.models import Project
from vocsite.models import TimeStampedModel


class WebhookEvent(models.TextChoices):
    RESPONSE_FINISHED = "response.finished", _("Response Finished")
    CASE_CREATED = "case.created", _("Case Created")
    CASE_UPDATED = "case.updated", _("Case Updated")
    CASE_OVERDUE = "case.overdue", _("Case Overdue")
    FEEDBACK_CREATED = "feedback.created", _("Feedback Created")
    # Sent on demand from the webhooks page or `POST /api/v1/webhooks/{id}/test`, never
    # subscribed to: it travels the same signed delivery path as the events above.
    TEST_PING = "test.ping", _("Test Ping")


SUBSCRIBABLE_EVENTS = tuple(e for e in WebhookEvent if e != WebhookEvent.TEST_PING)


def new_webhook_secret() -> str:
    """Standard Webhooks format (whsec_ + base64 of 32 random bytes), so receivers can verify
    signatures with the `standardwebhooks` library of their language."""
    return f"whsec_{base64.b64encode(secrets.token_bytes(32)).decode()}"


class WebhookEndpoint(TimeStampedModel):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="webhooks")
    url = models.URLField(max_length=2000)
    secret = models.CharField(max_length=100, default=new_webhook_secret)
    events = models.JSONField(default=list)
    description = models.CharField(max_length=200, blank=True)
    is_active = models.BooleanField(default=True)

    def __str__(self) -> str:
        return self.url


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed (retries exhausted)")


class WebhookDelivery(TimeStampedModel):
    """One event sent to one endpoint, signed HMAC-SHA256 over id.timestamp.body, replayable."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    endpoint = models.ForeignKey(
        WebhookEndpoint,
        on_delete=models.CASCADE,
        related_name="deliveries",
        db_index=False,
    )
    event = models.CharField(max_length=32, choices=WebhookEvent.choices)
    # What the event is about, so one fact is delivered once per endpoint.
    subject = models.CharField(max_length=100)
    # The person the payload concerns: erasure finds their deliveries by it.
    contact = models.ForeignKey(
        "surveys.Contact",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="webhook_deliveries",
    )
    payload = models.JSONField()
    status = models.CharField(
        max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    last_duration_ms = models.PositiveIntegerField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "webhook deliveries"
        constraints = [
            models.UniqueConstraint(
                fields=["endpoint", "event", "subject"], name="webhook_delivery_once"
            ),
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="webhook_due")]

    def __str__(self) -> str:
        return f"{self.event} → {self.endpoint} ({self.status})"


class WebhookAttempt(models.Model):
    """One HTTP attempt of a delivery: the log that shows what the receiver answered."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="log")
    number = models.PositiveIntegerField()
    status_code = models.PositiveIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    # What was sent besides the body (the signature included; credentials of the URL masked).
    request_headers = models.JSONField(default=dict, blank=True)
    # The start of the receiver's reply, kept only from a public address: a reply from inside
    # the network (allowed in development) is never stored (see services.webhook_post).
    response_excerpt = models.TextField(blank=True)
    replay = models.BooleanField(default=False, help_text="Sent because someone replayed it.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["delivery", "number"]

    def __str__(self) -> str:
        return f"attempt {self.number}: {self.status_code or self.error[:40]}"
