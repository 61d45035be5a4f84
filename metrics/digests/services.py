"""Weekly digests: subscribing, unsubscribing (also by the signed link in each e-mail) and
sending each subscriber's digest once per week (metrics.digests.schedule says when).

Only members whose role reads the dashboards as managers and executives do (DIGEST_ROLES,
surveys.tenancy.roles) subscribe; the role is checked again at each send, so a member who left
the project or changed role gets nothing more."""

from __future__ import annotations

import logging
from datetime import datetime
from email.mime.image import MIMEImage
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core import signing
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from metrics.digests import schedule
from metrics.digests.compose import Composed, content_id, digest_compose
from metrics.digests.models import DigestSubscription
from metrics.digests.selectors import digest_build, member_role
from surveys.tenancy.models import Project
from surveys.tenancy.project_settings import timezone_names
from surveys.tenancy.roles import DIGEST_ROLES
from surveys.tenancy.timezones import project_zone
from vocsite.errors import ApplicationError
from vocsite.i18n import django_language
from vocsite.mail import email_message

logger = logging.getLogger(__name__)
UNSUBSCRIBE_SALT = "vocsite.digest-unsubscribe"


# ---------------------------------------------------------------- subscribing


def digest_subscribe(
    *, project: Project, user: AbstractBaseUser, timezone_name: str = "", language: str = ""
) -> DigestSubscription:
    """Subscribe the member to the project's weekly digest, or change their timezone and
    language ("" for either: the project's). Refused (403) for a role without the digest."""
    if member_role(project=project, user=user) not in DIGEST_ROLES:
        raise ApplicationError(
            "forbidden",
            gettext("Your role does not receive the weekly digest."),
            status_code=403,
        )
    errors = {}
    if timezone_name and timezone_name not in timezone_names():
        errors["timezone"] = [
            gettext("An IANA timezone name such as UTC, Europe/Berlin or Asia/Shanghai.")
        ]
    if language and language not in dict(settings.LANGUAGES):
        errors["language"] = [gettext("Unknown language.")]
    if errors:
        raise ApplicationError("invalid", gettext("The subscription was not saved."), errors)
    subscription, _ = DigestSubscription.objects.update_or_create(
        project=project,
        user=user,
        defaults={"timezone": timezone_name, "language": language},
    )
    return subscription


def digest_unsubscribe(*, project_id: int, user_id: int) -> bool:
    """End the member's subscription; False when there was none."""
    deleted, _ = DigestSubscription.objects.filter(project_id=project_id, user_id=user_id).delete()
    return deleted > 0


def unsubscribe_token(subscription: DigestSubscription) -> str:
    """The e-mail's unsubscribe link: names the member and the project, never expires."""
    return signing.dumps(
        {"u": subscription.user_id, "p": subscription.project_id}, salt=UNSUBSCRIBE_SALT
    )


def unsubscribe_token_read(token: str) -> tuple[int, int] | None:
    """(user id, project id) of a genuine unsubscribe token, None for a forged one."""
    try:
        data = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or not all(isinstance(data.get(k), int) for k in "up"):
        return None
    return data["u"], data["p"]


# ---------------------------------------------------------------- when and in which language


def subscriber_zone(subscription: DigestSubscription) -> ZoneInfo:
    """The subscriber's own timezone, else the project's."""
    if subscription.timezone:
        try:
            return ZoneInfo(subscription.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return project_zone(subscription.project)


def subscriber_language(subscription: DigestSubscription) -> str:
    """The Django language the digest is written in: the subscriber's, else the project's."""
    return django_language(subscription.language or subscription.project.default_language)


# ---------------------------------------------------------------- composing and sending


def digest_message(
    *, subscription: DigestSubscription, role: str, now: datetime
) -> EmailMultiAlternatives:
    """The e-mail of the digest due at `now`: text and HTML, each chart a PNG in the same
    multipart/related message, referenced from the HTML by its Content-ID."""
    project = subscription.project
    since, _ = schedule.covered_week(now, project_zone(project))
    base = settings.VOCSITE_BASE_URL.rstrip("/")
    unsubscribe = base + reverse("digest-unsubscribe", args=[unsubscribe_token(subscription)])
    with translation.override(subscriber_language(subscription)):
        composed = digest_compose(
            digest_build(project=project, since=since, role=role),
            image_src=lambda name, png: f"cid:{content_id(name)}",
            unsubscribe=unsubscribe,
        )
    return _with_images(
        composed,
        email_message(
            subject=composed.subject,
            body=composed.text,
            html=composed.html,
            to=[subscription.user.email],
            headers={
                "List-Unsubscribe": f"<{unsubscribe}>",
                "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            },
        ),
    )


def _with_images(composed: Composed, message: EmailMultiAlternatives) -> EmailMultiAlternatives:
    # The text and HTML alternatives and the images they show travel as one multipart/related
    # whole: mail clients then show the images in place, not as attachments.
    message.mixed_subtype = "related"
    for name, png in composed.images.items():
        image = MIMEImage(png, "png")
        image.add_header("Content-ID", f"<{content_id(name)}>")
        image.add_header("Content-Disposition", "inline", filename=f"{name}.png")
        message.attach(image)
    return message


def digest_send(*, subscription_id: int, now: datetime | None = None) -> bool:
    """Send the subscriber's digest if its slot is due at `now` and was not sent yet; True
    when sent. The subscription row is locked while sending and the slot recorded in the same
    transaction, so a retried or doubled run sends nothing more (a mail server error rolls
    back and the next hourly run tries again)."""
    now = now or timezone.now()
    with transaction.atomic():
        subscription = (
            DigestSubscription.objects.select_for_update(of=("self",))
            .select_related("project", "user")
            .filter(pk=subscription_id)
            .first()
        )
        if subscription is None:
            return False
        slot = schedule.send_slot(now, subscriber_zone(subscription))
        if slot is None or subscription.last_sent_slot == slot:
            return False
        role = member_role(project=subscription.project, user=subscription.user)
        user = subscription.user
        if role not in DIGEST_ROLES or not user.is_active or not user.email:
            return False
        digest_message(subscription=subscription, role=role, now=now).send()
        subscription.last_sent_slot = slot
        subscription.save(update_fields=["last_sent_slot", "updated_at"])
    return True


def digests_send_due(*, now: datetime | None = None) -> int:
    """The hourly job: every subscriber whose Monday 08:00 has come gets their digest.
    Returns how many were sent; one failing does not hold back the others."""
    now = now or timezone.now()
    sent = 0
    due = [
        subscription.pk
        for subscription in DigestSubscription.objects.select_related("project")
        if (slot := schedule.send_slot(now, subscriber_zone(subscription))) is not None
        and subscription.last_sent_slot != slot
    ]
    for subscription_id in due:
        try:
            sent += digest_send(subscription_id=subscription_id, now=now)
        # Any failure (a mail server down, a bad row) is logged and left to the next hourly
        # run of the same Monday: one subscriber's problem must not stop the others' digests.
        except Exception:
            logger.exception("weekly digest %s not sent", subscription_id)
    return sent
