"""Webhook endpoints, their deliveries and each delivery's attempts (DESIGN.md §4)."""

from __future__ import annotations

import base64
import secrets
import uuid
from urllib.parse import urlsplit

from django.db import models
from django.utils.translation import gettext_lazy as _

from surveys.tenancy.models import Project, Team
from vocsite.models import TimeStampedModel


class WebhookEvent(models.TextChoices):
    RESPONSE_FINISHED = "response.finished", _("Response Finished")
    CASE_CREATED = "case.created", _("Case Created")
    CASE_UPDATED = "case.updated", _("Case Updated")
    CASE_OVERDUE = "case.overdue", _("Case Overdue")
    FEEDBACK_CREATED = "feedback.created", _("Feedback Created")
    # Team chat channels only: a person was given the case (endpoints get `case.updated`).
    CASE_ASSIGNED = "case.assigned", _("Case Assigned")
    # Sent on demand from the webhooks page or `POST /api/v1/webhooks/{id}/test`, never
    # subscribed to: it travels the same signed delivery path as the events above.
    TEST_PING = "test.ping", _("Test Ping")


SUBSCRIBABLE_EVENTS = tuple(
    e for e in WebhookEvent if e not in (WebhookEvent.TEST_PING, WebhookEvent.CASE_ASSIGNED)
)
# What a team's chat channel can be told about its cases.
CHAT_EVENTS = (WebhookEvent.CASE_CREATED, WebhookEvent.CASE_ASSIGNED, WebhookEvent.CASE_OVERDUE)


class EndpointKind(models.TextChoices):
    """How a delivery is written and signed for its receiver: a Standard Webhooks JSON event,
    or a message in a chat platform's own format (feedback/webhooks/chat_formats.py)."""

    STANDARD = "standard", _("Standard Webhooks (JSON event)")
    SLACK = "slack", _("Slack")
    TEAMS = "teams", _("Microsoft Teams")
    FEISHU = "feishu", _("Feishu / Lark")
    DINGTALK = "dingtalk", _("DingTalk")
    WECOM = "wecom", _("WeCom")


CHAT_KINDS = tuple(kind for kind in EndpointKind if kind != EndpointKind.STANDARD)


def new_webhook_secret() -> str:
    """Standard Webhooks format (whsec_ + base64 of 32 random bytes), so receivers can verify
    signatures with the `standardwebhooks` library of their language."""
    return f"whsec_{base64.b64encode(secrets.token_bytes(32)).decode()}"


class WebhookEndpoint(TimeStampedModel):
    """Where deliveries go. A team's chat channel is an endpoint too (a chat `kind` and its
    `team`), so its messages share the outbox: the same rows, retries, log and replay."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="webhooks")
    kind = models.CharField(
        max_length=16, choices=EndpointKind.choices, default=EndpointKind.STANDARD
    )
    team = models.ForeignKey(
        Team, on_delete=models.CASCADE, null=True, blank=True, related_name="chat_channels"
    )
    url = models.URLField(max_length=2000)
    # Standard: the whsec_ signing secret. Chat: the platform's signing secret (Feishu,
    # DingTalk), else empty.
    secret = models.CharField(max_length=100, default=new_webhook_secret)
    events = models.JSONField(default=list)
    description = models.CharField(max_length=200, blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind=EndpointKind.STANDARD, team__isnull=True)
                | (~models.Q(kind=EndpointKind.STANDARD) & models.Q(team__isnull=False)),
                name="webhook_chat_channel_has_team",
            ),
        ]

    def __str__(self) -> str:
        return self.shown_url

    @property
    def is_chat(self) -> bool:
        return self.kind != EndpointKind.STANDARD

    @property
    def event_labels(self) -> list[str]:
        """The events it receives, in words."""
        return [str(WebhookEvent(e).label) for e in self.events if e in WebhookEvent.values]

    @property
    def shown_url(self) -> str:
        """The URL as pages and the audit log show it: a chat webhook's URL is its credential
        (whoever has it can post to the channel), so only its scheme and host are shown."""
        if not self.is_chat:
            return self.url
        parts = urlsplit(self.url)
        return f"{parts.scheme}://{parts.hostname or ''}/…"


# What a delivery's payload becomes when the person it quotes is erased (feedback.personal_data).
ERASED_PAYLOAD = {"erased": True}


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
