"""Delivery's records: displays (the throttle ledger), decide's daily counters, e-mail invitations
and shareable survey links (DESIGN.md §4, §5)."""

from __future__ import annotations

import secrets
import uuid

from django.db import models
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from surveys.contacts.models import Contact
from surveys.design.models import Survey, SurveyChannel, SurveyVersion
from surveys.journey.channels import LINK_CHANNEL_CHOICES
from surveys.journey.models import Touchpoint
from surveys.tenancy.models import Project
from vocsite.models import TimeStampedModel

# How a display or a response reached someone: the survey's channels (widget, e-mail) and the
# tags of survey links, which are counted as themselves (surveys.journey.channels).
DELIVERY_CHANNEL_CHOICES = [*SurveyChannel.choices, *LINK_CHANNEL_CHOICES]
LINK_TOKEN_BYTES = 16


def new_link_token() -> str:
    """128 random bits, URL-safe: a link cannot be guessed from another one."""
    return secrets.token_urlsafe(LINK_TOKEN_BYTES)


class LinkMode(models.TextChoices):
    ANONYMOUS = "anonymous", _("Anonymous")
    SINGLE_USE_PER_CONTACT = "single_use_per_contact", _("Once per known respondent")


class SurveyLink(TimeStampedModel):
    """A shareable link to a survey's hosted page (`/l/<token>/`), printed as a QR code on a
    receipt or a counter, or posted anywhere. Its answers carry its channel tag and touchpoint;
    the query values named in `hidden_fields` (`?store=sh-021`) are kept on each response as
    breakdown values. Anonymous links ask nobody who they are; a respondent whose link carries
    a signed `user_id` is held to the throttle ledger, and a single-use link takes one answer
    per such respondent. A deactivated link answers 404 and keeps its history."""

    project = models.ForeignKey(
        Project, on_delete=models.CASCADE, related_name="survey_links", db_index=False
    )
    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="links")
    token = models.CharField(max_length=32, unique=True, default=new_link_token, editable=False)
    label = models.CharField(max_length=100)
    channel = models.CharField(max_length=16, choices=LINK_CHANNEL_CHOICES)
    touchpoint = models.ForeignKey(
        Touchpoint, null=True, blank=True, on_delete=models.SET_NULL, related_name="survey_links"
    )
    hidden_fields = models.JSONField(default=list, blank=True)
    mode = models.CharField(max_length=32, choices=LinkMode.choices, default=LinkMode.ANONYMOUS)
    active = models.BooleanField(default=True)
    deactivated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["project", "survey"], name="survey_link_project_survey")]

    def __str__(self) -> str:
        return self.label


class DisplayStatus(models.TextChoices):
    CLAIMED = "claimed", _("Claimed")
    SHOWN = "shown", _("Shown")
    RESPONDED = "responded", _("Responded")
    DISMISSED = "dismissed", _("Dismissed")
    EXPIRED = "expired", _("Expired")


class Display(TimeStampedModel):
    """The throttle ledger: one row per survey put in front of a contact, on any channel; an
    answer through an anonymous survey link has its display too, with no contact."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # Not indexed on its own: every read of displays is by project, contact or survey (and
    # claimed_at), and each index is written again on every answer (the status changes, so the
    # display's update is never HOT).
    created_at = models.DateTimeField(default=timezone.now)
    project = models.ForeignKey(
        Project, on_delete=models.CASCADE, related_name="displays", db_index=False
    )
    contact = models.ForeignKey(
        Contact,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="displays",
        db_index=False,
    )
    survey = models.ForeignKey(
        Survey, on_delete=models.CASCADE, related_name="displays", db_index=False
    )
    version = models.ForeignKey(SurveyVersion, on_delete=models.PROTECT, related_name="displays")
    touchpoint = models.ForeignKey(
        Touchpoint, null=True, blank=True, on_delete=models.SET_NULL, related_name="displays"
    )
    channel = models.CharField(
        max_length=16, choices=DELIVERY_CHANNEL_CHOICES, default=SurveyChannel.WIDGET
    )
    # The survey link it was opened through (its channel is the link's tag).
    link = models.ForeignKey(
        SurveyLink,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="displays",
        db_index=False,  # display_link_contact below
    )
    status = models.CharField(
        max_length=16, choices=DisplayStatus.choices, default=DisplayStatus.CLAIMED
    )
    language = models.CharField(max_length=16, blank=True)
    url = models.URLField(max_length=2000, blank=True)
    claimed_at = models.DateTimeField()
    shown_at = models.DateTimeField(null=True, blank=True)
    responded_at = models.DateTimeField(null=True, blank=True)
    dismissed_at = models.DateTimeField(null=True, blank=True)
    expired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            # decide: the contact's ledger, newest first
            models.Index(fields=["contact", "-claimed_at"], name="display_contact_claimed"),
            models.Index(fields=["contact", "survey", "status"], name="display_contact_survey"),
            # response-rate and expiry sweeps
            models.Index(fields=["survey", "status"], name="display_survey_status"),
            models.Index(fields=["status", "claimed_at"], name="display_status_claimed"),
            # retention's batches (oldest of a project first); serves every read by project too
            models.Index(fields=["project", "created_at"], name="display_project_created"),
            # a link's answers (partial: the widget's and e-mail's displays are not in it)
            models.Index(
                fields=["link", "contact"],
                condition=Q(link__isnull=False),
                name="display_link_contact",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.survey} → {self.contact} ({self.status})"


class DecisionReason(models.TextChoices):
    SHOWN = "shown", _("Shown")
    TOUCHPOINT_RETIRED = "touchpoint_retired", _("Touchpoint retired")
    STAGE_RETIRED = "stage_retired", _("Journey stage retired")
    NO_SURVEY = "no_survey", _("No survey at this touchpoint")
    OPTED_OUT = "opted_out", _("Contact opted out")
    TARGETING = "targeting", _("Targeting did not match")
    ALREADY_RESPONDED = "already_responded", _("Already responded")
    DISPLAY_LIMIT = "display_limit", _("Display limit reached")
    SNOOZED = "snoozed", _("Snoozed after dismiss")
    SURVEY_COOLDOWN = "survey_cooldown", _("Survey cooldown")
    GLOBAL_COOLDOWN = "global_cooldown", _("Global cooldown")
    FREQUENCY_CAP = "frequency_cap", _("Frequency cap")
    RESPONSE_CAP = "response_cap", _("Response cap reached")
    SAMPLED_OUT = "sampled_out", _("Sampled out")


class DecisionCount(models.Model):
    """How many decide calls ended with one reason, per day (fatigue analytics: which rule held
    what back), with no person in them: a counter per (project, survey, touchpoint, stage,
    channel, reason, day), so the table grows with days and keys, not with visits, and an
    erasure has nothing here to erase.

    `survey` is the survey the reason is about (the best candidate that was refused, or the one
    shown), null when no survey was attached to the touchpoint. Touchpoint, stage and channel
    are kept as rollup cells keep them (keys, '' = none; the channel as counted by
    `surveys.journey.channels`), so the dashboards' filters read both alike. `day` is cut in
    the project's timezone (`surveys.tenancy.timezones`)."""

    project = models.ForeignKey(
        Project, on_delete=models.CASCADE, related_name="decision_counts", db_index=False
    )
    survey = models.ForeignKey(
        Survey, null=True, blank=True, on_delete=models.CASCADE, related_name="decision_counts"
    )
    touchpoint_key = models.CharField(max_length=100, default="", blank=True)
    stage_key = models.CharField(max_length=64, default="", blank=True)
    channel = models.CharField(max_length=16, default="", blank=True)
    reason = models.CharField(max_length=32, choices=DecisionReason.choices)
    day = models.DateField()
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                F("project"),
                Coalesce(F("survey"), Value(0)),
                *(
                    F(field)
                    for field in ("touchpoint_key", "stage_key", "channel", "reason", "day")
                ),
                name="decision_count_key",
            )
        ]
        indexes = [models.Index(fields=["project", "day"], name="decision_count_project_day")]

    def __str__(self) -> str:
        return f"{self.reason} {self.day} ×{self.count}"


class InvitationStatus(models.TextChoices):
    SCHEDULED = "scheduled", _("Scheduled")
    SENT = "sent", _("Sent")
    SKIPPED = "skipped", _("Skipped by the throttle")
    FAILED = "failed", _("Failed")


class Invitation(TimeStampedModel):
    """An e-mail survey invitation; its display is claimed in the same ledger as the widget's."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="invitations")
    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="invitations")
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="invitations")
    touchpoint = models.ForeignKey(
        Touchpoint, null=True, blank=True, on_delete=models.SET_NULL, related_name="invitations"
    )
    display = models.OneToOneField(
        Display, null=True, blank=True, on_delete=models.SET_NULL, related_name="invitation"
    )
    operational_event = models.ForeignKey(
        "surveys.OperationalEvent",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="invitations",
    )
    status = models.CharField(
        max_length=16, choices=InvitationStatus.choices, default=InvitationStatus.SCHEDULED
    )
    skip_reason = models.CharField(max_length=32, blank=True)
    send_after = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["status", "send_after"], name="invitation_due")]
        constraints = [
            models.UniqueConstraint(
                fields=["survey", "operational_event"],
                condition=Q(operational_event__isnull=False),
                name="invitation_once_per_event",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.survey} → {self.contact} ({self.status})"


class WidgetOrigin(models.Model):
    """Where a project's widget has been calling from: its install status. Each origin (a
    browser's `Origin` header, normalised) with the last time a call from it was served and
    the last time one was refused because the origin is not allowed — what a team needs to
    see when "the widget does nothing" on a new site. Written in batches
    (surveys.delivery.origin_log); refused origins are capped per project (anyone can send
    any Origin header)."""

    project = models.ForeignKey(
        Project, on_delete=models.CASCADE, related_name="widget_origins", db_index=False
    )
    origin = models.CharField(max_length=200)
    last_allowed_at = models.DateTimeField(null=True, blank=True)
    last_refused_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "origin"], name="widget_origin_unique")
        ]

    def __str__(self) -> str:
        return self.origin
