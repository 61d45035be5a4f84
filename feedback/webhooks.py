"""Outgoing webhooks: signed, retried with backoff and jitter, logged, replayable.

Signing follows the Standard Webhooks spec (HMAC-SHA256 over `id.timestamp.body`, headers
`webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64>`), done by the
`standardwebhooks` library so a receiver can verify with the same library in its language.

How a delivery travels:
1. `webhook_emit` writes one WebhookDelivery row per subscribed endpoint in the caller's
   transaction (unique per endpoint, event and subject: one fact is sent once), and enqueues
   the first attempt after commit.
2. `webhook_deliver` claims the row with a short lease (a conditional UPDATE), so a duplicate
   message, the retry scan and a replay can never send the same attempt twice at once; it
   POSTs with a timeout and logs the attempt.
3. A failure schedules the next attempt at an exponential delay with jitter; the periodic
   `webhooks_retry_due` sends what is due. After WEBHOOK_MAX_ATTEMPTS the delivery is failed
   and stays replayable from the UI and the API.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import random
import socket
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from feedback.batch_reads import active_endpoints, finished_response
from feedback.models import (
    Case,
    DeliveryStatus,
    Feedback,
    Response,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)
from surveys.models import Project
from vocsite.errors import ApplicationError

logger = logging.getLogger(__name__)

# While one worker sends, the row is invisible to others for this long (longer than the timeout).
LEASE = timedelta(seconds=60)
USER_AGENT = "vocsite-webhooks/1"


def retry_delay(attempt: int, *, rng: random.Random | None = None) -> timedelta:
    """Exponential backoff with jitter: base·2^(attempt−1), capped, then 50–100 % of it.

    attempt 1 → 15–30 s, 2 → 30–60 s, 3 → 1–2 min, … capped at 3–6 h. The jitter keeps a
    receiver that comes back from an outage from being hit by every retry in the same second."""
    base = settings.WEBHOOK_RETRY_BASE_SECONDS * 2 ** max(attempt - 1, 0)
    capped = min(base, settings.WEBHOOK_RETRY_MAX_SECONDS)
    return timedelta(seconds=capped * (rng or random).uniform(0.5, 1.0))


# ---------------------------------------------------------------- endpoints


def _validate_endpoint(url: str, events: list[str]) -> None:
    errors: dict[str, list[str]] = {}
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        errors["url"] = ["An http(s) URL is required."]
    unknown = sorted(set(events) - set(WebhookEvent.values))
    if not events or unknown:
        errors["events"] = [
            f"Choose from: {', '.join(WebhookEvent.values)}."
            + (f" Unknown: {', '.join(unknown)}." if unknown else "")
        ]
    if errors:
        raise ApplicationError("invalid_webhook", "The webhook cannot be saved.", errors)


def webhook_endpoint_create(
    *,
    project: Project,
    url: str,
    events: list[str],
    description: str = "",
    actor: AbstractBaseUser | None = None,
) -> WebhookEndpoint:
    from surveys.services import audit_record

    _validate_endpoint(url, events)
    endpoint = WebhookEndpoint.objects.create(
        project=project, url=url, events=sorted(set(events)), description=description
    )
    audit_record(
        project=project,
        action="webhook.created",
        obj=endpoint,
        actor=actor,
        after={"url": url, "events": endpoint.events},
    )
    return endpoint


def webhook_endpoint_update(
    *,
    endpoint: WebhookEndpoint,
    actor: AbstractBaseUser | None = None,
    url: str | None = None,
    events: list[str] | None = None,
    description: str | None = None,
    is_active: bool | None = None,
) -> WebhookEndpoint:
    from surveys.services import audit_record

    before = {"url": endpoint.url, "events": endpoint.events, "is_active": endpoint.is_active}
    new_url = endpoint.url if url is None else url
    new_events = endpoint.events if events is None else sorted(set(events))
    _validate_endpoint(new_url, new_events)
    endpoint.url, endpoint.events = new_url, new_events
    if description is not None:
        endpoint.description = description
    if is_active is not None:
        endpoint.is_active = is_active
    endpoint.save(update_fields=["url", "events", "description", "is_active", "updated_at"])
    audit_record(
        project=endpoint.project,
        action="webhook.updated",
        obj=endpoint,
        actor=actor,
        before=before,
        after={"url": endpoint.url, "events": endpoint.events, "is_active": endpoint.is_active},
    )
    return endpoint


# ---------------------------------------------------------------- emitting


def _endpoints_for(project_id: int | None, event: str) -> list[WebhookEndpoint]:
    """The project's active endpoints subscribed to `event`."""
    return [e for e in active_endpoints(project_id) if event in (e.events or [])]


def webhook_emit(
    *,
    project_id: int,
    event: str,
    subject: str,
    contact_id: int | None,
    data: dict | Callable[[], dict],
) -> int:
    """Queue `event` for every active endpoint of the project subscribed to it.

    `contact_id` names the person the payload is about (None when nobody), so erasing them
    finds every delivery that quotes them (surveys.personal_data).

    `data` may be a function building the payload: it is called only if an endpoint wants
    the event (usually none does, and a payload reads related rows). Called inside the
    caller's transaction: if that rolls back, nothing is sent. Returns how many deliveries
    were created (an already-emitted subject is not sent again)."""
    endpoints = _endpoints_for(project_id, event)
    if endpoints and callable(data):
        data = data()
    created_ids = []
    now = timezone.now()
    for endpoint in endpoints:
        delivery, created = WebhookDelivery.objects.get_or_create(
            endpoint=endpoint,
            event=event,
            subject=subject[:100],
            defaults={"payload": {}, "next_attempt_at": now, "contact_id": contact_id},
        )
        if created:
            delivery.payload = json.loads(
                json.dumps(
                    {
                        "id": str(delivery.pk),
                        "type": event,
                        "created_at": now.isoformat(),
                        "data": data,
                    },
                    cls=DjangoJSONEncoder,
                )
            )
            delivery.save(update_fields=["payload"])
            created_ids.append(str(delivery.pk))
    if created_ids:
        transaction.on_commit(lambda: _enqueue(created_ids), robust=True)
    return len(created_ids)


def _enqueue(delivery_ids: list[str]) -> None:
    from feedback.pipeline import task_publish
    from feedback.tasks.cases import deliver_webhook

    for delivery_id in delivery_ids:
        task_publish(deliver_webhook, delivery_id)


# ---------------------------------------------------------------- sending


def _target_refused(url: str) -> str:
    """Refuse private, loopback and link-local targets unless settings allow them.

    Production keeps WEBHOOK_ALLOW_PRIVATE_TARGETS off, so a webhook cannot be pointed at the
    service's own network (SSRF); local and test runs allow 127.0.0.1 receivers."""
    if settings.WEBHOOK_ALLOW_PRIVATE_TARGETS:
        return ""
    host = urlsplit(url).hostname or ""
    try:
        infos = socket.getaddrinfo(host, None)
    except OSError as error:
        return f"cannot resolve {host}: {error}"
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if not address.is_global:
            return f"{host} resolves to a non-public address ({address})"
    return ""


def _claim(delivery_id: str, now: datetime) -> bool:
    due = WebhookDelivery.objects.filter(
        pk=delivery_id, status=DeliveryStatus.PENDING, next_attempt_at__lte=now
    )
    return due.update(next_attempt_at=now + LEASE) == 1


def webhook_deliver(delivery_id: str, *, now: datetime | None = None) -> str:
    """Make one attempt if the delivery is due; returns its status afterwards."""
    now = now or timezone.now()
    if not _claim(delivery_id, now):
        row = WebhookDelivery.objects.filter(pk=delivery_id).values_list("status", flat=True)
        return row.first() or "missing"
    delivery = WebhookDelivery.objects.select_related("endpoint").get(pk=delivery_id)
    endpoint = delivery.endpoint
    body = json.dumps(delivery.payload, separators=(",", ":"), ensure_ascii=False)
    replay = delivery.attempts == 0 and delivery.log.exists()
    status_code, error = None, ""
    started = time.monotonic()
    refused = _target_refused(endpoint.url)
    if refused:
        error = refused
    else:
        sent_at = timezone.now()
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "webhook-id": str(delivery.pk),
            "webhook-timestamp": str(int(sent_at.timestamp())),
            "webhook-signature": Webhook(endpoint.secret).sign(str(delivery.pk), sent_at, body),
            "vocsite-event": delivery.event,
        }
        try:
            reply = requests.post(
                endpoint.url,
                data=body.encode(),
                headers=headers,
                timeout=(settings.WEBHOOK_CONNECT_TIMEOUT, settings.WEBHOOK_READ_TIMEOUT),
                allow_redirects=False,
            )
            status_code = reply.status_code
            if not 200 <= status_code < 300:
                error = f"HTTP {status_code}: {reply.text[:300]}"
        except requests.RequestException as failure:
            error = f"{type(failure).__name__}: {failure}"[:500]
    duration_ms = int((time.monotonic() - started) * 1000)
    return _record(delivery, status_code, error, duration_ms, replay, permanent=bool(refused))


def _record(
    delivery: WebhookDelivery,
    status_code: int | None,
    error: str,
    duration_ms: int,
    replay: bool,
    *,
    permanent: bool,
) -> str:
    now = timezone.now()
    attempts = delivery.attempts + 1
    with transaction.atomic():
        WebhookAttempt.objects.create(
            delivery=delivery,
            number=delivery.log.count() + 1,
            status_code=status_code,
            error=error,
            duration_ms=duration_ms,
            replay=replay,
        )
        if not error:
            status, next_at = DeliveryStatus.SUCCEEDED, None
        elif permanent or attempts >= settings.WEBHOOK_MAX_ATTEMPTS:
            status, next_at = DeliveryStatus.FAILED, None
        else:
            status, next_at = DeliveryStatus.PENDING, now + retry_delay(attempts)
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            attempts=F("attempts") + 1,
            status=status,
            next_attempt_at=next_at,
            last_status_code=status_code,
            last_error=error,
            last_duration_ms=duration_ms,
            delivered_at=now if status == DeliveryStatus.SUCCEEDED else None,
            updated_at=now,
        )
    if error:
        logger.info("webhook %s to %s failed: %s", delivery.pk, delivery.endpoint.url, error)
    return status


def webhooks_retry_due(*, now: datetime | None = None, limit: int = 500) -> int:
    """Periodic: send every pending delivery whose next attempt is due. Returns how many."""
    now = now or timezone.now()
    due = list(
        WebhookDelivery.objects.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
    for delivery_id in due:
        webhook_deliver(str(delivery_id), now=now)
    return len(due)


def webhook_replay(
    *, delivery: WebhookDelivery, actor: AbstractBaseUser | None = None
) -> WebhookDelivery:
    """Send a delivery again (same id, same body, fresh signature), with a fresh retry budget.

    Receivers deduplicate by `webhook-id`, so a replay of something that did arrive is safe."""
    now = timezone.now()
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        status=DeliveryStatus.PENDING, attempts=0, next_attempt_at=now, updated_at=now
    )
    transaction.on_commit(lambda: _enqueue([str(delivery.pk)]), robust=True)
    delivery.refresh_from_db()
    logger.info("webhook delivery %s replayed by %s", delivery.pk, actor or "API key")
    return delivery


# ---------------------------------------------------------------- payloads and hooks


def case_payload(case: Case) -> dict:
    return {
        "case": {
            "id": case.pk,
            "title": case.title,
            "status": case.status,
            "priority": case.priority,
            "team": case.team.name if case.team_id else None,
            "assignee": case.assignee.get_username() if case.assignee_id else None,
            "due_at": case.due_at,
            "overdue": case.overdue_at is not None,
            "response_id": case.response_id,
            "feedback_id": case.feedback_id,
            "contact": case.contact.user_id if case.contact_id else None,
            "rule": case.rule.name if case.rule_id else None,
            "root_cause": case.root_cause,
            "recovered": case.recovered,
            "url": f"{settings.VOCSITE_BASE_URL}/app/cases/{case.pk}/",
        }
    }


def response_payload(response: Response) -> dict:
    return {
        "response": {
            "id": response.pk,
            "survey_id": response.survey_id,
            "survey": response.survey.name,
            "version": response.version.number,
            "touchpoint": response.touchpoint.key if response.touchpoint_id else None,
            "channel": response.channel,
            "contact": response.contact.user_id if response.contact_id else None,
            "language": response.language,
            "finished_at": response.finished_at,
            "segment": response.segment,
            "answers": [
                {
                    "question_id": a.question_id,
                    "type": a.question_type,
                    "value": a.value_int
                    if a.value_int is not None
                    else (a.value_choices if a.value_choices is not None else a.value_text),
                }
                for a in response.answers.all()
            ],
        }
    }


def webhooks_for_response(response_id: int) -> int:
    """Pipeline hook: `response.finished` (once per response and endpoint)."""
    response = finished_response(response_id)
    if response is None or not _endpoints_for(response.project_id, WebhookEvent.RESPONSE_FINISHED):
        return 0  # the usual case: no endpoint wants it, so not even a transaction
    with transaction.atomic():
        return webhook_emit(
            project_id=response.project_id,
            event=WebhookEvent.RESPONSE_FINISHED,
            subject=f"response:{response.pk}",
            contact_id=response.contact_id,
            data=response_payload(response),
        )


def webhooks_for_feedback(feedback_id: int) -> int:
    """Pipeline hook: `feedback.created`."""
    feedback = Feedback.objects.select_related("contact").filter(pk=feedback_id).first()
    if feedback is None:
        return 0
    data = {
        "feedback": {
            "id": feedback.pk,
            "category": feedback.category,
            "rating": feedback.rating,
            "text": feedback.text,
            "url": feedback.url,
            "sentiment": feedback.sentiment,
            "contact": feedback.contact.user_id if feedback.contact_id else None,
            "created_at": feedback.created_at,
        }
    }
    with transaction.atomic():
        return webhook_emit(
            project_id=feedback.project_id,
            event=WebhookEvent.FEEDBACK_CREATED,
            subject=f"feedback:{feedback.pk}",
            contact_id=feedback.contact_id,
            data=data,
        )
