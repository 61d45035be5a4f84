"""Surveys, their published versions and their questions (DESIGN.md §4)."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from surveys.journey.models import Touchpoint
from surveys.tenancy.models import Project
from vocsite.models import TimeStampedModel


class SurveyStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    ACTIVE = "active", _("Active")
    PAUSED = "paused", _("Paused")
    CLOSED = "closed", _("Closed")


class DisplayOption(models.TextChoices):
    ONCE = "once", _("Show once")
    UNTIL_RESPONDED = "until_responded", _("Until the contact responds")
    LIMITED = "limited", _("A limited number of times")
    ALWAYS = "always", _("Always (subject to cooldowns)")


class SurveyChannel(models.TextChoices):
    WIDGET = "widget", _("In-app widget")
    EMAIL = "email", _("E-mail link")


def default_survey_channels() -> list[str]:
    return [SurveyChannel.WIDGET]


class Survey(TimeStampedModel):
    project = models.ForeignKey(
        Project, on_delete=models.CASCADE, related_name="surveys", db_index=False
    )
    name = models.CharField(max_length=200)
    status = models.CharField(
        max_length=16, choices=SurveyStatus.choices, default=SurveyStatus.DRAFT, db_index=True
    )
    touchpoints = models.ManyToManyField(Touchpoint, blank=True, related_name="surveys")
    channels = models.JSONField(default=default_survey_channels)
    # {"attributes": [{"attribute", "op", "value"}], "urls": [{"op", "value"}], "languages": []}
    targeting = models.JSONField(default=dict, blank=True)
    sample_percent = models.DecimalField(max_digits=5, decimal_places=2, default=100)
    delay_seconds = models.PositiveIntegerField(default=0)
    auto_close_seconds = models.PositiveIntegerField(null=True, blank=True)
    priority = models.IntegerField(default=0)
    display_option = models.CharField(
        max_length=16, choices=DisplayOption.choices, default=DisplayOption.UNTIL_RESPONDED
    )
    display_limit = models.PositiveIntegerField(null=True, blank=True)
    recontact_days = models.PositiveIntegerField(
        null=True, blank=True, help_text="Empty: the project's global cooldown."
    )
    bypass_global_cooldown = models.BooleanField(default=False)
    # Ask each contact again this many days after their last display of it (a relationship
    # survey's rounds, surveys.delivery.throttle); empty: ask once.
    recurrence_days = models.PositiveIntegerField(null=True, blank=True)
    snooze_days_after_dismiss = models.PositiveIntegerField(default=14)
    response_cap = models.PositiveIntegerField(null=True, blank=True)
    starts_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True)
    thank_you = models.JSONField(default=dict, blank=True)
    theme = models.JSONField(default=dict, blank=True)
    template = models.CharField(max_length=32, blank=True)
    current_version = models.ForeignKey(
        "SurveyVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    has_unpublished_changes = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )

    class Meta:
        indexes = [models.Index(fields=["project", "status"], name="survey_project_status")]
        constraints = [
            models.CheckConstraint(
                condition=Q(sample_percent__gte=0) & Q(sample_percent__lte=100),
                name="survey_sample_percent_range",
            ),
            models.CheckConstraint(
                condition=~Q(display_option="limited") | Q(display_limit__gte=1),
                name="survey_limited_needs_limit",
            ),
            models.CheckConstraint(
                condition=Q(starts_at__isnull=True)
                | Q(ends_at__isnull=True)
                | Q(ends_at__gt=models.F("starts_at")),
                name="survey_schedule_order",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class SurveyVersion(models.Model):
    """Immutable snapshot of a survey's questions and texts, made on publish."""

    survey = models.ForeignKey(
        Survey, on_delete=models.CASCADE, related_name="versions", db_index=False
    )
    number = models.PositiveIntegerField()
    snapshot = models.JSONField()
    published_at = models.DateTimeField(auto_now_add=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )

    class Meta:
        ordering = ["survey", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["survey", "number"], name="survey_version_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.survey} v{self.number}"


class QuestionType(models.TextChoices):
    NPS = "nps", _("NPS (0–10)")
    CSAT = "csat", _("CSAT")
    CES = "ces", _("CES")
    RATING = "rating", _("Rating")
    SINGLE_CHOICE = "single_choice", _("Single choice")
    MULTI_CHOICE = "multi_choice", _("Multiple choice")
    TEXT = "text", _("Open text")
    YES_NO = "yes_no", _("Yes / no")


SCORED_TYPES = (QuestionType.NPS, QuestionType.CSAT, QuestionType.CES, QuestionType.RATING)


class Question(TimeStampedModel):
    """A question. Draft questions have no version; publishing copies them into rows bound to
    the new version, so answers always point at exactly the question that was shown. `uid` stays
    the same across versions so metrics can follow one question through edits."""

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="questions")
    version = models.ForeignKey(
        SurveyVersion,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="questions",
        db_index=False,
    )
    uid = models.UUIDField(default=uuid.uuid4, db_index=True)
    position = models.PositiveIntegerField(default=0)
    type = models.CharField(max_length=16, choices=QuestionType.choices)
    text = models.JSONField(default=dict, help_text='Per language: {"en": "...", "zh": "..."}')
    required = models.BooleanField(default=True)
    scale_min = models.SmallIntegerField(null=True, blank=True)
    scale_max = models.SmallIntegerField(null=True, blank=True)
    choices = models.JSONField(default=list, blank=True, help_text='[{"en": "...", "zh": "..."}]')
    labels = models.JSONField(default=dict, blank=True, help_text="Scale end labels per language.")
    style = models.CharField(max_length=16, blank=True, help_text="rating: stars/numbers/smileys")
    # CES on 1–5 reads as agreement ("it was easy", 4–5) unless the question asks how much
    # effort it took (1 = very low), where 1–2 are easy (DESIGN.md §7).
    scale_wording = models.CharField(
        max_length=8,
        choices=[("agree", _("Agreement (high is good)")), ("effort", _("Effort (low is good)"))],
        default="agree",
        blank=True,
    )
    show_if = models.JSONField(
        null=True, blank=True, help_text='{"question": <0-based position>, "min": n, "max": n}'
    )

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["version", "position"],
                condition=Q(version__isnull=False),
                name="question_position_unique_in_version",
            ),
            models.CheckConstraint(
                condition=Q(scale_min__isnull=True)
                | Q(scale_max__isnull=True)
                | Q(scale_max__gt=models.F("scale_min")),
                name="question_scale_order",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.type}: {next(iter(self.text.values()), '')}"
