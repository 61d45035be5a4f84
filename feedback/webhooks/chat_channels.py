"""A team's chat channels (Slack, Microsoft Teams, Feishu, DingTalk, WeCom): adding, editing,
pausing, deleting, a test message, and queueing a case's message for its team.

A channel is a webhook endpoint with a chat `kind` and a `team`, so a message is one more
delivery row in the outbox (feedback.webhooks.services): the same claim, retries with backoff,
attempt log and replay. The row keeps the message in the platform's format
(feedback.webhooks.chat_formats), written in the project's default language when the event
happens; each attempt is signed as it is sent (feedback.webhooks.chat_signing).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext

from feedback.answering.batch import ResponseBatch
from feedback.webhooks.chat_formats import ChatMessage, chat_message_body
from feedback.webhooks.models import (
    CHAT_EVENTS,
    CHAT_KINDS,
    EndpointKind,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)
from feedback.webhooks.services import webhook_deliveries_enqueue
from surveys.tenancy.models import Team
from surveys.tenancy.services import audit_record
from vocsite.errors import ApplicationError

# The platforms that sign with a secret, and whether one is required to send at all.
SIGNING_KINDS = (EndpointKind.FEISHU, EndpointKind.DINGTALK)
SECRET_REQUIRED_KINDS = (EndpointKind.DINGTALK,)
SECRET_MAX_LENGTH = WebhookEndpoint._meta.get_field("secret").max_length


def chat_language(code: str) -> str:
    """The Django language to write a project's messages in (its default language, e.g. "zh"
    → "zh-hans"), else the site's."""
    try:
        return translation.get_supported_language_variant(code)
    except LookupError:
        return settings.LANGUAGE_CODE


def _validate(*, kind: str, url: str, events: list[str], secret: str) -> None:
    """https only where private targets are refused (production); http too in development
    and tests, whose receivers run on 127.0.0.1 (the rule of WEBHOOK_ALLOW_PRIVATE_TARGETS)."""
    errors: dict[str, list[str]] = {}
    if kind not in CHAT_KINDS:
        errors["kind"] = [gettext("Choose a chat platform.")]
    parts = urlsplit(url)
    schemes = ("http", "https") if settings.WEBHOOK_ALLOW_PRIVATE_TARGETS else ("https",)
    if parts.scheme not in schemes or not parts.hostname:
        errors["url"] = [
            gettext("An https URL is required.")
            if "http" not in schemes
            else gettext("An http(s) URL is required.")
        ]
    allowed = [e.value for e in CHAT_EVENTS]
    if not events or set(events) - set(allowed):
        errors["events"] = [gettext("Choose from: %(events)s.") % {"events": ", ".join(allowed)}]
    if kind in SECRET_REQUIRED_KINDS and not secret:
        errors["secret"] = [gettext("DingTalk robots are added with their signing secret.")]
    if len(secret) > SECRET_MAX_LENGTH:
        errors["secret"] = [gettext("A signing secret is at most 100 characters.")]
    if errors:
        raise ApplicationError(
            "invalid_chat_channel", gettext("The chat channel cannot be saved."), errors
        )


def _audited(channel: WebhookEndpoint) -> dict:
    return {
        "team": channel.team.name,
        "platform": str(EndpointKind(channel.kind).label),
        "url": channel.shown_url,
        "events": channel.events,
        "is_active": channel.is_active,
    }


def chat_channel_create(
    *,
    team: Team,
    kind: str,
    url: str,
    events: list[str],
    secret: str = "",
    description: str = "",
    actor: AbstractBaseUser | None = None,
) -> WebhookEndpoint:
    secret = secret.strip() if kind in SIGNING_KINDS else ""
    _validate(kind=kind, url=url, events=events, secret=secret)
    channel = WebhookEndpoint.objects.create(
        project_id=team.project_id,
        team=team,
        kind=kind,
        url=url,
        secret=secret,
        events=sorted(set(events)),
        description=description,
    )
    audit_record(
        project=team.project,
        action="chat_channel.created",
        obj=channel,
        actor=actor,
        after=_audited(channel),
    )
    return channel


def chat_channel_update(
    *,
    channel: WebhookEndpoint,
    actor: AbstractBaseUser | None = None,
    url: str | None = None,
    events: list[str] | None = None,
    secret: str | None = None,
    description: str | None = None,
    is_active: bool | None = None,
    remove_secret: bool = False,
) -> WebhookEndpoint:
    """Change what is given; a secret left out (or blank) is kept unless `remove_secret` (a
    Feishu bot whose signing was turned off). The platform stays: a channel moved to another
    platform is a new channel."""
    before = _audited(channel)
    new_url = channel.url if url is None else url
    new_events = channel.events if events is None else sorted(set(events))
    new_secret = "" if remove_secret else channel.secret
    if secret and secret.strip() and channel.kind in SIGNING_KINDS:
        new_secret = secret.strip()
    _validate(kind=channel.kind, url=new_url, events=new_events, secret=new_secret)
    channel.url, channel.events, channel.secret = new_url, new_events, new_secret
    if description is not None:
        channel.description = description
    if is_active is not None:
        channel.is_active = is_active
    channel.save(
        update_fields=["url", "events", "secret", "description", "is_active", "updated_at"]
    )
    audit_record(
        project=channel.project,
        action="chat_channel.updated",
        obj=channel,
        actor=actor,
        before=before,
        after=_audited(channel),
    )
    return channel


def chat_channel_delete(*, channel: WebhookEndpoint, actor: AbstractBaseUser | None = None) -> None:
    """Delete a channel with its delivery log; nothing more is sent to it."""
    audit_record(
        project=channel.project,
        action="chat_channel.deleted",
        obj=channel,
        actor=actor,
        before=_audited(channel),
    )
    channel.delete()


def _queue(
    *,
    channel: WebhookEndpoint,
    event: str,
    subject: str,
    contact_id: int | None,
    message: ChatMessage,
) -> WebhookDelivery | None:
    """One delivery row holding the platform's message, due now; None if this channel was
    already told this (one fact is sent once)."""
    delivery, created = WebhookDelivery.objects.get_or_create(
        endpoint=channel,
        event=event,
        subject=subject[:100],
        defaults={
            "payload": chat_message_body(channel.kind, message),
            "next_attempt_at": timezone.now(),
            "contact_id": contact_id,
        },
    )
    return delivery if created else None


def chat_test_send(
    *, channel: WebhookEndpoint, actor: AbstractBaseUser | None = None
) -> WebhookDelivery:
    """Queue a test message to this channel (paused or not): a real delivery through the
    outbox, signed, retried and logged like a case's."""
    project = channel.project
    with translation.override(chat_language(project.default_language)):
        message = ChatMessage(
            headline=gettext("vocsite test message"),
            facts=(
                (gettext("Team"), channel.team.name),
                (gettext("Sent by"), getattr(actor, "username", None) or gettext("API key")),
            ),
            comment=gettext("This channel will receive the team's case notifications: %(events)s.")
            % {"events": ", ".join(channel.event_labels)},
            link_label=gettext("Open the inbox"),
            link_url=f"{settings.VOCSITE_BASE_URL}/app/inbox/",
        )
    with transaction.atomic():
        delivery = _queue(
            channel=channel,
            event=WebhookEvent.TEST_PING,
            subject=f"test:{uuid.uuid4()}",
            contact_id=None,
            message=message,
        )
        transaction.on_commit(lambda: webhook_deliveries_enqueue([str(delivery.pk)]), robust=True)
    return delivery


def active_chat_channels(team_id: int) -> list[WebhookEndpoint]:
    return list(
        WebhookEndpoint.objects.filter(team_id=team_id, is_active=True)
        .exclude(kind=EndpointKind.STANDARD)
        .order_by("pk")
    )


def chat_notify(
    *,
    team_id: int,
    event: str,
    subject: str,
    contact_id: int | None,
    message: Callable[[], ChatMessage],
    batch: ResponseBatch | None = None,
) -> int:
    """Queue `event` for every active channel of the team that chose it, in the caller's
    transaction (a rollback sends nothing); sent after commit. `message` is built only if a
    channel wants the event (usually none does, and it reads the answers). The channels are
    read once per processing batch. Returns how many deliveries were queued."""
    if batch is None:
        channels = active_chat_channels(team_id)
    else:
        channels = batch.memo(("chat.channels", team_id), lambda: active_chat_channels(team_id))
    channels = [c for c in channels if event in (c.events or [])]
    if not channels:
        return 0
    built = message()
    queued = [
        str(delivery.pk)
        for channel in channels
        if (
            delivery := _queue(
                channel=channel,
                event=event,
                subject=subject,
                contact_id=contact_id,
                message=built,
            )
        )
        is not None
    ]
    if queued:
        transaction.on_commit(lambda: webhook_deliveries_enqueue(queued), robust=True)
    return len(queued)
