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
   resolves the receiver's host once, checks every address (`webhook_target`: no private,
   loopback or otherwise internal address unless WEBHOOK_ALLOW_PRIVATE_TARGETS), POSTs to
   a checked address with the host's name kept for the Host header, TLS SNI and the
   certificate (`webhook_post`), with timeouts, and logs the attempt: the headers sent, the
   status code, a failure in words, and the start of the reply only when it came from a
   public address (a reply from inside the network is never stored).
   A test event (`webhook_test_send`, `test.ping`) is one more delivery row on this same path.
   A team chat channel's delivery (feedback.webhooks.chat_channels) travels it too: its row
   holds the platform's message, signed for each attempt the platform's way, and a 2xx reply
   whose body carries the platform's error code is a failed attempt.
3. A failure schedules the next attempt at an exponential delay with jitter; the periodic
   `webhooks_retry_due` sends what is due. After WEBHOOK_MAX_ATTEMPTS the delivery is failed
   and stays replayable from the UI and the API.
"""

from __future__ import annotations

import errno
import ipaddress
import json
import logging
import random
import socket
import ssl
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import unquote, urlsplit

import urllib3
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext
from standardwebhooks.webhooks import Webhook
from urllib3.util import make_headers
from urllib3.util.ssl_match_hostname import CertificateError

from feedback.answering.batch import ResponseBatch, finished_response
from feedback.answering.models import Feedback, Response
from feedback.webhooks.chat_formats import (
    PLATFORM_NAMES,
    ChatMessage,
    chat_message_body,
    chat_refusal,
)
from feedback.webhooks.chat_signing import chat_signed
from feedback.webhooks.models import (
    ERASED_PAYLOAD,
    SUBSCRIBABLE_EVENTS,
    DeliveryStatus,
    EndpointKind,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
    new_webhook_secret,
)
from surveys.tenancy.models import Project
from surveys.tenancy.services import audit_record
from vocsite.errors import ApplicationError
from vocsite.publish import task_publish

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
        errors["url"] = [gettext("An http(s) URL is required.")]
    subscribable = [e.value for e in SUBSCRIBABLE_EVENTS]
    unknown = sorted(set(events) - set(subscribable))
    if not events or unknown:
        errors["events"] = [
            f"Choose from: {', '.join(subscribable)}."
            + (f" Unknown: {', '.join(unknown)}." if unknown else "")
        ]
    if errors:
        raise ApplicationError("invalid_webhook", gettext("The webhook cannot be saved."), errors)


def webhook_endpoint_create(
    *,
    project: Project,
    url: str,
    events: list[str],
    description: str = "",
    actor: AbstractBaseUser | None = None,
) -> WebhookEndpoint:

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


def webhook_endpoint_delete(
    *, endpoint: WebhookEndpoint, actor: AbstractBaseUser | None = None
) -> None:
    """Delete an endpoint with its delivery log; nothing more is sent to it."""
    audit_record(
        project=endpoint.project,
        action="webhook.deleted",
        obj=endpoint,
        actor=actor,
        before={"url": endpoint.url, "events": endpoint.events},
    )
    endpoint.delete()


def webhook_secret_rotate(
    *, endpoint: WebhookEndpoint, actor: AbstractBaseUser | None = None
) -> WebhookEndpoint:
    """A new signing secret at once: every attempt from now on (retries and replays of older
    deliveries too) is signed with it. The caller shows it once; the audit log never holds it."""
    endpoint.secret = new_webhook_secret()
    endpoint.save(update_fields=["secret", "updated_at"])
    audit_record(
        project=endpoint.project,
        action="webhook.secret_rotated",
        obj=endpoint,
        actor=actor,
        after={"url": endpoint.url},
    )
    return endpoint


def webhook_test_send(
    *, endpoint: WebhookEndpoint, actor: AbstractBaseUser | None = None
) -> WebhookDelivery:
    """Queue a `test.ping` to this endpoint (paused or not, subscribed or not): a real signed
    delivery through the same path as every event — its attempts, retries and log included."""
    now = timezone.now()
    data = {
        "message": "A test event from vocsite: this endpoint receives and verifies deliveries.",
        "webhook": {"id": endpoint.pk, "url": endpoint.url},
        "sent_by": getattr(actor, "username", None) or "API key",
    }
    with transaction.atomic():
        delivery = _delivery_create(
            endpoint=endpoint,
            event=WebhookEvent.TEST_PING,
            subject=f"test:{uuid.uuid4()}",
            contact_id=None,
            data=data,
            now=now,
        )
        transaction.on_commit(lambda: webhook_deliveries_enqueue([str(delivery.pk)]), robust=True)
    return delivery


# ---------------------------------------------------------------- emitting


def active_endpoints(project_id: int | None) -> list[WebhookEndpoint]:
    """The project's active Standard Webhooks endpoints (a team's chat channels are told about
    its cases by feedback.webhooks.chat_channels instead)."""
    endpoints = WebhookEndpoint.objects.filter(
        project_id=project_id, is_active=True, kind=EndpointKind.STANDARD
    )
    return list(endpoints.order_by("pk"))


def _endpoints_for(
    project_id: int | None, event: str, batch: ResponseBatch | None = None
) -> list[WebhookEndpoint]:
    """The project's active endpoints subscribed to `event`; read once per processing batch
    (every response asks whether anyone wants `response.finished`, every case opened emits
    `case.opened`), else read now."""
    if batch is None:
        endpoints = active_endpoints(project_id)
    else:
        endpoints = batch.memo(
            ("webhooks.endpoints", project_id), lambda: active_endpoints(project_id)
        )
    return [e for e in endpoints if event in (e.events or [])]


def webhook_emit(
    *,
    project_id: int,
    event: str,
    subject: str,
    contact_id: int | None,
    data: dict | Callable[[], dict],
    batch: ResponseBatch | None = None,
) -> int:
    """Queue `event` for every active endpoint of the project subscribed to it.

    `contact_id` names the person the payload is about (None when nobody), so erasing them
    finds every delivery that quotes them (surveys.contacts.personal_data).

    `data` may be a function building the payload: it is called only if an endpoint wants
    the event (usually none does, and a payload reads related rows). Called inside the
    caller's transaction: if that rolls back, nothing is sent. Returns how many deliveries
    were created (an already-emitted subject is not sent again)."""
    endpoints = _endpoints_for(project_id, event, batch)
    if endpoints and callable(data):
        data = data()
    created_ids = []
    now = timezone.now()
    for endpoint in endpoints:
        delivery = _delivery_create(
            endpoint=endpoint,
            event=event,
            subject=subject,
            contact_id=contact_id,
            data=data,
            now=now,
        )
        if delivery is not None:
            created_ids.append(str(delivery.pk))
    if created_ids:
        transaction.on_commit(lambda: webhook_deliveries_enqueue(created_ids), robust=True)
    return len(created_ids)


def _delivery_create(
    *,
    endpoint: WebhookEndpoint,
    event: str,
    subject: str,
    contact_id: int | None,
    data: dict,
    now: datetime,
) -> WebhookDelivery | None:
    """One delivery row with its payload (Standard Webhooks envelope: id, type, created_at,
    data), due now; None if this endpoint already has this event about this subject."""
    delivery, created = WebhookDelivery.objects.get_or_create(
        endpoint=endpoint,
        event=event,
        subject=subject[:100],
        defaults={"payload": {}, "next_attempt_at": now, "contact_id": contact_id},
    )
    if not created:
        return None
    delivery.payload = json.loads(
        json.dumps(
            {"id": str(delivery.pk), "type": event, "created_at": now.isoformat(), "data": data},
            cls=DjangoJSONEncoder,
        )
    )
    delivery.save(update_fields=["payload"])
    return delivery


def webhook_deliveries_enqueue(delivery_ids: list[str]) -> None:
    for delivery_id in delivery_ids:
        task_publish("feedback.tasks.deliver_webhook", delivery_id)


# ---------------------------------------------------------------- sending


# Never a webhook target unless WEBHOOK_ALLOW_PRIVATE_TARGETS: besides what `ipaddress` calls
# non-global (loopback, private, link-local, reserved, unspecified, shared), IPv6 prefixes that
# carry an IPv4 address a gateway would forward to: NAT64 (64:ff9b::/96, 64:ff9b:1::/48),
# 6to4 (2002::/16), Teredo (2001::/32) and IPv4-compatible (::/96) addresses; and special
# ranges this Python's `ipaddress` does not know as such yet (IETF protocol assignments, the
# 6to4 relay anycast, IPv6 documentation and SRv6).
_NOT_TARGETS = tuple(
    ipaddress.ip_network(network)
    for network in (
        "64:ff9b::/96",
        "64:ff9b:1::/48",
        "2002::/16",
        "2001::/32",
        "::/96",
        "3fff::/20",
        "5f00::/16",
        "192.0.0.0/24",
        "192.88.99.0/24",
    )
)
# A host with many addresses: at most this many are tried, each after the last refused.
MAX_ADDRESSES_TRIED = 3


def webhook_address_allowed(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Whether a webhook may connect to `address` when private targets are not allowed."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return webhook_address_allowed(address.ipv4_mapped)
        if address.is_site_local:
            return False
    if any(address in network for network in _NOT_TARGETS):  # (IPv4 is never in an IPv6 one)
        return False
    return address.is_global and not (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
    )


class Undeliverable(Exception):
    """A delivery attempt that failed before any reply: `message` is for people to read;
    `permanent` failures are not retried (the target is not allowed)."""

    def __init__(self, message: str, *, permanent: bool = False):
        super().__init__(message)
        self.message = message
        self.permanent = permanent


@dataclass(frozen=True)
class WebhookTarget:
    """Where a delivery goes: the URL's host for the Host header, TLS SNI and the certificate,
    and the addresses it was resolved to — once, and checked — which are the only ones
    connected to. Resolving again to connect (as `requests` does) let a DNS answer that
    changed in between (rebinding) reach an address the check never saw."""

    scheme: str
    host: str
    port: int
    path: str
    host_header: str
    authorization: str | None
    addresses: tuple[str, ...]


def webhook_target(url: str) -> WebhookTarget:
    """Resolve the URL's host once and check every address (unless private targets are
    allowed); raises Undeliverable."""
    parts = urlsplit(url)
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise Undeliverable("The URL's port is not valid", permanent=True) from None
    host = parts.hostname or ""
    if parts.scheme not in ("http", "https") or not host:
        raise Undeliverable("An http(s) URL is required", permanent=True)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise Undeliverable(f"Cannot resolve {host}") from None
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    if not addresses:
        raise Undeliverable(f"Cannot resolve {host}")
    if not settings.WEBHOOK_ALLOW_PRIVATE_TARGETS:
        for address in addresses:
            if not webhook_address_allowed(ipaddress.ip_address(address)):
                raise Undeliverable(f"Target address {address} is not allowed", permanent=True)
    authorization = None
    if parts.username is not None:
        credentials = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
        authorization = make_headers(basic_auth=credentials)["authorization"]
    return WebhookTarget(
        scheme=parts.scheme,
        host=host,
        port=port,
        path=(parts.path or "/") + (f"?{parts.query}" if parts.query else ""),
        host_header=parts.netloc.rpartition("@")[2],
        authorization=authorization,
        addresses=tuple(addresses),
    )


def _pool(target: WebhookTarget, address: str) -> urllib3.HTTPConnectionPool:
    """A connection pool to the checked `address` that speaks to the URL's host: Host header
    (set per request), SNI and certificate verification against the host name."""
    timeout = urllib3.Timeout(
        connect=settings.WEBHOOK_CONNECT_TIMEOUT, read=settings.WEBHOOK_READ_TIMEOUT
    )
    if target.scheme == "https":
        return urllib3.HTTPSConnectionPool(
            address,
            target.port,
            timeout=timeout,
            retries=False,
            maxsize=1,
            cert_reqs="CERT_REQUIRED",
            ca_certs=settings.WEBHOOK_CA_BUNDLE,
            server_hostname=target.host,
            assert_hostname=target.host,
        )
    return urllib3.HTTPConnectionPool(
        address, target.port, timeout=timeout, retries=False, maxsize=1
    )


# How much of a reply the delivery log keeps (characters), and reads (bytes).
EXCERPT_CHARS = 500


@dataclass(frozen=True)
class Reply:
    status: int
    # The start of the body, only from a public address: a reply from inside the network
    # (private targets are allowed in development) could carry an internal service's data
    # to whoever configured the URL, so it is never read.
    excerpt: str
    # The start of the body whatever the address, when the caller asked for it to judge the
    # reply (a chat platform's error code); never stored.
    body: bytes = b""


def webhook_post(
    target: WebhookTarget, body: bytes, headers: dict[str, str], *, read_reply: bool = False
) -> Reply:
    """POST to the target's checked addresses in turn until one takes the connection; the
    reply's status code and the start of its body (from a public address; from any when
    `read_reply`, for the caller to judge and not to keep). Raises Undeliverable with words."""
    headers = {**headers, "Host": target.host_header}
    if target.authorization:
        headers["Authorization"] = target.authorization
    failure: urllib3.exceptions.HTTPError | None = None
    for address in target.addresses[:MAX_ADDRESSES_TRIED]:
        pool = _pool(target, address)
        try:
            reply = pool.urlopen(
                "POST",
                target.path,
                body=body,
                headers=headers,
                redirect=False,
                retries=False,
                preload_content=False,
                assert_same_host=False,
            )
            excerpt, raw = "", b""
            public = webhook_address_allowed(ipaddress.ip_address(address))
            if public or read_reply:
                raw = reply.read(EXCERPT_CHARS * 4) or b""
            if public:
                excerpt = raw.decode("utf-8", errors="replace")[:EXCERPT_CHARS]
            reply.close()
            return Reply(status=reply.status, excerpt=excerpt, body=raw if read_reply else b"")
        except (urllib3.exceptions.NewConnectionError, urllib3.exceptions.ConnectTimeoutError) as e:
            failure = e  # this address took no connection: the next one may
        except urllib3.exceptions.HTTPError as error:
            raise Undeliverable(_in_words(error, target)) from None
        finally:
            pool.close()
    raise Undeliverable(_in_words(failure, target))


def _causes(error: BaseException | None) -> list[BaseException]:
    """The error and what it was raised from or during, innermost last."""
    chain: list[BaseException] = []
    while error is not None and error not in chain and len(chain) < 10:
        chain.append(error)
        error = error.__cause__ or error.__context__
    return chain


def _in_words(error: BaseException | None, target: WebhookTarget) -> str:
    """A failed attempt as its log shows it to people (never an exception's text)."""
    exceptions = urllib3.exceptions
    causes = _causes(error)
    if isinstance(error, exceptions.NewConnectionError):
        if any(isinstance(cause, ConnectionRefusedError) for cause in causes):
            return "Connection refused"
        unreachable = (errno.ENETUNREACH, errno.EHOSTUNREACH)
        if any(isinstance(cause, OSError) and cause.errno in unreachable for cause in causes):
            return "No route to the receiver"
        return "Could not connect"
    if isinstance(error, exceptions.ConnectTimeoutError):
        return f"Could not connect within {settings.WEBHOOK_CONNECT_TIMEOUT:g} s"
    if isinstance(error, exceptions.ReadTimeoutError):
        return f"Timed out after {settings.WEBHOOK_READ_TIMEOUT:g} s"
    if isinstance(error, exceptions.SSLError):
        certificate_errors = (ssl.SSLCertVerificationError, CertificateError)
        if any(isinstance(cause, certificate_errors) for cause in causes):
            return f"TLS certificate not valid for {target.host}"
        return "TLS handshake failed"
    if isinstance(error, exceptions.ProtocolError):
        return "Connection closed by the receiver before it answered"
    return "The request failed"


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
    replay = delivery.attempts == 0 and delivery.log.exists()
    status_code, error, permanent, excerpt = None, "", False, ""
    sent_at = timezone.now()
    if endpoint.is_chat:
        url, body, headers = _chat_request(endpoint, delivery, sent_at)
    else:
        url, body, headers = endpoint.url, *_standard_request(endpoint, delivery, sent_at)
    started = time.monotonic()
    try:
        target = webhook_target(url)
        headers["Host"] = target.host_header
        reply = webhook_post(target, body.encode(), headers, read_reply=endpoint.is_chat)
        status_code, excerpt = reply.status, reply.excerpt
        if not 200 <= status_code < 300:
            error = f"Receiver answered HTTP {status_code}"
        elif endpoint.is_chat and (code := chat_refusal(endpoint.kind, reply.body)) is not None:
            error = f"{PLATFORM_NAMES[endpoint.kind]} refused the message (code {code})"
    except Undeliverable as failure:
        error, permanent = failure.message, failure.permanent
    duration_ms = int((time.monotonic() - started) * 1000)
    sent = Attempt(status_code, error, duration_ms, headers, excerpt)
    return _record(delivery, sent, replay, permanent=permanent)


def _standard_request(
    endpoint: WebhookEndpoint, delivery: WebhookDelivery, sent_at: datetime
) -> tuple[str, dict[str, str]]:
    """The event as JSON, signed the Standard Webhooks way in the headers."""
    body = json.dumps(delivery.payload, separators=(",", ":"), ensure_ascii=False)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "webhook-id": str(delivery.pk),
        "webhook-timestamp": str(int(sent_at.timestamp())),
        "webhook-signature": Webhook(endpoint.secret).sign(str(delivery.pk), sent_at, body),
        "vocsite-event": delivery.event,
    }
    return body, headers


def _chat_request(
    endpoint: WebhookEndpoint, delivery: WebhookDelivery, sent_at: datetime
) -> tuple[str, str, dict[str, str]]:
    """The platform's message kept on the delivery, signed for this attempt (Feishu in the
    body, DingTalk in the URL). Once erased, only the fact that it was erased is sent."""
    message = delivery.payload
    if message == ERASED_PAYLOAD:
        erased = ChatMessage(headline=gettext("This notification was erased."))
        message = chat_message_body(endpoint.kind, erased)
    url, message = chat_signed(
        kind=endpoint.kind,
        url=endpoint.url,
        body=message,
        secret=endpoint.secret,
        now=sent_at.timestamp(),
    )
    body = json.dumps(message, separators=(",", ":"), ensure_ascii=False)
    headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": USER_AGENT}
    return url, body, headers


@dataclass(frozen=True)
class Attempt:
    """What one attempt sent and got, as its log row keeps it."""

    status_code: int | None
    error: str
    duration_ms: int
    headers: dict[str, str]
    excerpt: str


def _record(delivery: WebhookDelivery, sent: Attempt, replay: bool, *, permanent: bool) -> str:
    now = timezone.now()
    attempts = delivery.attempts + 1
    status_code, error, duration_ms = sent.status_code, sent.error, sent.duration_ms
    with transaction.atomic():
        WebhookAttempt.objects.create(
            delivery=delivery,
            number=delivery.log.count() + 1,
            status_code=status_code,
            error=error,
            duration_ms=duration_ms,
            request_headers=sent.headers,
            response_excerpt=sent.excerpt,
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
    transaction.on_commit(lambda: webhook_deliveries_enqueue([str(delivery.pk)]), robust=True)
    delivery.refresh_from_db()
    logger.info("webhook delivery %s replayed by %s", delivery.pk, actor or "API key")
    return delivery


# ---------------------------------------------------------------- payloads and hooks


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


def webhooks_for_response(response_id: int, batch: ResponseBatch | None = None) -> int:
    """Pipeline step: `response.finished` (once per response and endpoint)."""
    response = finished_response(response_id, batch)
    if response is None or not _endpoints_for(
        response.project_id, WebhookEvent.RESPONSE_FINISHED, batch
    ):
        return 0  # the usual case: no endpoint wants it, so not even a transaction
    with transaction.atomic():
        return webhook_emit(
            project_id=response.project_id,
            event=WebhookEvent.RESPONSE_FINISHED,
            subject=f"response:{response.pk}",
            contact_id=response.contact_id,
            data=response_payload(response),
            batch=batch,
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
