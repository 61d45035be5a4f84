"""Surveys by e-mail: an event at a touchpoint schedules an invitation; after the survey's delay
the throttle ledger decides on the e-mail channel (someone surveyed in the app yesterday gets
no e-mail today); if the survey wins, an e-mail goes out through Django's e-mail backend with
the first question answerable by one click, a signed expiring link to the hosted survey page,
and an unsubscribe link that opts the person out.

Links carry signed tokens (`django.core.signing`): the survey link names the display and
expires with the invitation; the unsubscribe link names the contact and never expires.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from surveys.contacts.models import Contact
from surveys.delivery import selectors
from surveys.delivery.ledger import display_claim, display_mark_shown, survey_preferred
from surveys.delivery.models import Display, Invitation, InvitationStatus
from surveys.design.models import SCORED_TYPES, SurveyChannel
from surveys.design.payload import payload_from_snapshot
from surveys.design.scales import scale_bounds
from surveys.tenancy.models import Project
from vocsite.i18n import django_language
from vocsite.mail import email_message
from vocsite.publish import task_publish

LINK_SALT = "vocsite.survey-link"
UNSUBSCRIBE_SALT = "vocsite.unsubscribe"
LINK_DAYS = 14
# One submission per e-mailed display: clicking a score twice, then finishing on the page,
# all merge into the same response.
SUBMISSION_NAMESPACE = uuid.UUID("6f1c8a52-3f4e-4d0b-9a57-2b9c1f0e7d11")


def submission_id_for(display: Display) -> uuid.UUID:
    return uuid.uuid5(SUBMISSION_NAMESPACE, str(display.pk))


# ---------------------------------------------------------------- tokens


def survey_token(display: Display) -> str:
    return signing.dumps({"d": str(display.pk)}, salt=LINK_SALT, compress=True)


def display_from_token(token: str) -> Display | None:
    """The display a survey link names, or None when forged or older than LINK_DAYS."""
    try:
        data = signing.loads(token, salt=LINK_SALT, max_age=timedelta(days=LINK_DAYS))
    except signing.BadSignature:  # includes SignatureExpired
        return None
    return (
        Display.objects.select_related("project", "survey", "version", "contact")
        .filter(pk=data.get("d"), channel=SurveyChannel.EMAIL)
        .first()
    )


def token_expired(token: str) -> bool:
    try:
        signing.loads(token, salt=LINK_SALT, max_age=timedelta(days=LINK_DAYS))
    except signing.SignatureExpired:
        return True
    except signing.BadSignature:
        return False
    return False


def unsubscribe_token(contact: Contact) -> str:
    return signing.dumps({"c": contact.pk, "p": contact.project_id}, salt=UNSUBSCRIBE_SALT)


def contact_from_unsubscribe_token(token: str) -> Contact | None:
    try:
        data = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    except signing.BadSignature:
        return None
    return Contact.objects.filter(pk=data.get("c"), project_id=data.get("p")).first()


# ---------------------------------------------------------------- scheduling and sending


def invitation_schedule(*, project: Project, contact: Contact, event) -> Invitation | None:
    """Called inside the event's transaction. Nothing when no touchpoint is named like the
    event, it has no e-mail survey or the contact has no address; otherwise one invitation per
    event (a database constraint), sent after the survey's delay."""
    if not contact.email or contact.opted_out_at is not None:
        return None
    found = selectors.touchpoint_surveys(project=project, key=event.event)
    if found is None:
        return None
    touchpoint = found.touchpoint
    now = timezone.now()
    surveys = found.live(channel=SurveyChannel.EMAIL, now=now)
    if not surveys:
        return None
    survey = survey_preferred(surveys)
    send_after = now + timedelta(seconds=survey.delay_seconds)
    try:
        with transaction.atomic():
            invitation = Invitation.objects.create(
                project=project,
                survey=survey,
                contact=contact,
                touchpoint=touchpoint,
                operational_event=event,
                send_after=send_after,
                expires_at=send_after + timedelta(days=LINK_DAYS),
            )
    except IntegrityError:
        return None  # this event already has its invitation
    transaction.on_commit(
        lambda: task_publish("surveys.tasks.send_invitation", str(invitation.pk), eta=send_after),
        robust=True,
    )
    return invitation


def invitations_due(*, now=None) -> list[str]:
    """Scheduled invitations whose time has come, oldest first (the periodic sweep sends them:
    it catches any whose delayed task was lost, and is how delays work without a broker)."""
    now = now or timezone.now()
    return [
        str(pk)
        for pk in Invitation.objects.filter(status=InvitationStatus.SCHEDULED, send_after__lte=now)
        .order_by("send_after")
        .values_list("pk", flat=True)[:1000]
    ]


def invitation_send(invitation_id: str) -> str:
    """Decide and send one invitation, at most once: the row is locked and its status moves
    from scheduled exactly once. Returns the final status."""
    with transaction.atomic():
        invitation = (
            # Only the invitation row is locked: the joined touchpoint may be null, and
            # PostgreSQL refuses FOR UPDATE on the nullable side of an outer join.
            Invitation.objects.select_for_update(of=("self",))
            .select_related("project", "contact", "touchpoint")
            .filter(pk=invitation_id)
            .first()
        )
        if invitation is None or invitation.status != InvitationStatus.SCHEDULED:
            return invitation.status if invitation else "missing"
        if timezone.now() < invitation.send_after:
            return invitation.status  # too early (a sweep raced the delay): the task will come
        contact = invitation.contact
        if contact.opted_out_at is not None or not contact.email or contact.erased_at:
            invitation.status, invitation.skip_reason = InvitationStatus.SKIPPED, "opted_out"
            invitation.save(update_fields=["status", "skip_reason", "updated_at"])
            return invitation.status
        result = display_claim(
            project=invitation.project,
            contact=contact,
            touchpoint_key=invitation.touchpoint.key if invitation.touchpoint else "",
            channel=SurveyChannel.EMAIL,
            locale=contact.language or None,
        )
        if result.display is None:
            invitation.status = InvitationStatus.SKIPPED
            invitation.skip_reason = result.verdict.reason
            invitation.save(update_fields=["status", "skip_reason", "updated_at"])
            return invitation.status
        invitation.display = result.display
        invitation.survey = result.survey
        message = invitation_message(invitation)
        message.send()  # an SMTP error rolls the claim back; the task retries
        display_mark_shown(display=result.display)
        invitation.status, invitation.sent_at = InvitationStatus.SENT, timezone.now()
        invitation.save(update_fields=["display", "survey", "status", "sent_at", "updated_at"])
    return invitation.status


def invitation_message(invitation: Invitation) -> EmailMultiAlternatives:
    display = invitation.display
    project = invitation.project
    payload = payload_from_snapshot(
        snapshot=display.version.snapshot,
        survey=display.survey,
        project=project,
        version_number=display.version.number,
        language=display.language or project.default_language,
        fallback=project.default_language,
    )
    first = payload["questions"][0]
    token = survey_token(display)
    base = settings.VOCSITE_BASE_URL.rstrip("/")
    page = base + reverse("hosted-survey", args=[token])
    scale = []
    if first["type"] in SCORED_TYPES:
        low, high = scale_bounds(first["type"], first.get("scale"))
        scale = [(n, f"{page}?score={n}") for n in range(low, high + 1)]
    unsubscribe = base + reverse("unsubscribe", args=[unsubscribe_token(invitation.contact)])
    context = {
        "project": project,
        "question": first,
        "scale": scale,
        "page": page,
        "unsubscribe": unsubscribe,
        "language": display.language or "en",
    }
    # The fixed texts in the survey's language, whoever's request or task is sending.
    with translation.override(django_language(display.language or project.default_language)):
        return email_message(
            subject=gettext("A quick question from %(project)s") % {"project": project.name},
            body=render_to_string("email/survey.txt", context),
            html=render_to_string("email/survey.html", context),
            to=[invitation.contact.email],
            headers={
                "List-Unsubscribe": f"<{unsubscribe}>",
                "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            },
        )
