"""Answering's records: responses and their answers, Feedback-tab messages, their sentiment
labels, and the processing failures of either (DESIGN.md §4)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Length
from django.db.models.lookups import LessThanOrEqual
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from surveys.contacts.models import Contact
from surveys.delivery.models import DELIVERY_CHANNEL_CHOICES, Display
from surveys.design.models import Question, QuestionType, Survey, SurveyChannel, SurveyVersion
from surveys.journey.models import Touchpoint
from surveys.tenancy.models import Project
from vocsite.models import TimeStampedModel


class Response(TimeStampedModel):
    # Not indexed on its own: responses are read by project, survey or contact, and the
    # composite indexes below lead with those (one index less to write per answer).
    created_at = models.DateTimeField(default=timezone.now)
    project = models.ForeignKey(
        Project, on_delete=models.CASCADE, related_name="responses", db_index=False
    )
    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="responses")
    version = models.ForeignKey(SurveyVersion, on_delete=models.PROTECT, related_name="responses")
    display = models.OneToOneField(
        Display, null=True, blank=True, on_delete=models.SET_NULL, related_name="response"
    )
    contact = models.ForeignKey(
        Contact,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="responses",
        db_index=False,
    )
    touchpoint = models.ForeignKey(
        Touchpoint, null=True, blank=True, on_delete=models.SET_NULL, related_name="responses"
    )
    channel = models.CharField(
        max_length=16, choices=DELIVERY_CHANNEL_CHOICES, default=SurveyChannel.WIDGET
    )
    submission_id = models.UUIDField(unique=True)
    finished = models.BooleanField(default=False)
    finished_at = models.DateTimeField(null=True, blank=True)
    language = models.CharField(max_length=16, blank=True)
    meta = models.JSONField(default=dict, blank=True)
    # Segment values frozen at answer time, so metrics by plan/region do not drift later.
    segment = models.JSONField(default=dict, blank=True)
    # Pipeline markers. rolled_up_at is claimed in the same transaction as the rollup
    # increments, which is what makes counting exactly-once; processed_at = all hooks done.
    rolled_up_at = models.DateTimeField(null=True, blank=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["project", "survey", "created_at"], name="response_survey_recent"),
            models.Index(fields=["project", "created_at"], name="response_project_recent"),
            models.Index(fields=["contact", "created_at"], name="response_contact_recent"),
            models.Index(
                fields=["finished_at"],
                condition=Q(finished=True, processed_at__isnull=True),
                name="response_unprocessed",
            ),
        ]

    def __str__(self) -> str:
        return f"Response {self.pk} to {self.survey_id}"


class Sentiment(models.TextChoices):
    POSITIVE = "positive", _("Positive")
    NEUTRAL = "neutral", _("Neutral")
    NEGATIVE = "negative", _("Negative")
    MIXED = "mixed", _("Mixed")


class Answer(models.Model):
    """One answer. Scores are an integer column with a range constraint per question type."""

    response = models.ForeignKey(
        Response, on_delete=models.CASCADE, related_name="answers", db_index=False
    )
    question = models.ForeignKey(Question, on_delete=models.PROTECT, related_name="answers")
    question_type = models.CharField(max_length=16, choices=QuestionType.choices)
    value_int = models.SmallIntegerField(null=True, blank=True)
    value_text = models.TextField(blank=True)
    value_choices = models.JSONField(null=True, blank=True)
    sentiment = models.CharField(max_length=16, choices=Sentiment.choices, blank=True)
    answered_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["response", "question"], name="answer_once"),
            models.CheckConstraint(
                condition=Q(value_int__isnull=True)
                | (Q(question_type="nps") & Q(value_int__gte=0) & Q(value_int__lte=10))
                | (Q(question_type__in=["csat", "ces"]) & Q(value_int__gte=1) & Q(value_int__lte=7))
                | (Q(question_type="rating") & Q(value_int__gte=1) & Q(value_int__lte=10))
                | (Q(question_type="yes_no") & Q(value_int__gte=0) & Q(value_int__lte=1)),
                name="answer_score_range",
            ),
            models.CheckConstraint(
                condition=LessThanOrEqual(Length("value_text"), 5000), name="answer_text_length"
            ),
        ]

    def __str__(self) -> str:
        value = self.value_int if self.value_int is not None else self.value_text[:40]
        return f"{self.question_type}={value}"


class FeedbackStatus(models.TextChoices):
    """A message's place in the Feedback inbox (`Feedback.handled_at` set or not)."""

    NEW = "new", _("New")
    HANDLED = "handled", _("Handled")


class Feedback(TimeStampedModel):
    """Customer-initiated feedback from the always-there Feedback tab (never throttled)."""

    project = models.ForeignKey(
        Project, on_delete=models.CASCADE, related_name="feedback", db_index=False
    )
    contact = models.ForeignKey(
        Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="feedback"
    )
    submission_id = models.UUIDField(unique=True)
    category = models.CharField(max_length=32, blank=True)
    rating = models.SmallIntegerField(null=True, blank=True)
    text = models.TextField(max_length=5000)
    url = models.URLField(max_length=2000, blank=True)
    meta = models.JSONField(default=dict, blank=True)
    sentiment = models.CharField(max_length=16, choices=Sentiment.choices, blank=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    # The Feedback inbox: a message someone has read and dealt with (answered, passed on, or
    # turned into a case) is handled; the inbox opens on the ones nobody has.
    handled_at = models.DateTimeField(null=True, blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name_plural = "feedback"
        indexes = [models.Index(fields=["project", "created_at"], name="feedback_project_recent")]
        constraints = [
            models.CheckConstraint(
                condition=Q(rating__isnull=True) | (Q(rating__gte=1) & Q(rating__lte=5)),
                name="feedback_rating_range",
            ),
        ]

    def __str__(self) -> str:
        return self.text[:60]


class ProcessingFailure(TimeStampedModel):
    """A finished response (or a Feedback-tab message) whose processing failed at one step or
    more (feedback.answering.pipeline): which steps, why, how many runs. The other steps still ran.

    Every run counts an attempt; after `pipeline.PROCESSING_MAX_ATTEMPTS` the row is
    quarantined: the sweeper stops bringing it back, admins see it here and in the Django
    admin, and `manage.py replay_quarantined` runs it again once the cause is fixed. A run
    that succeeds deletes the row."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+", db_index=False)
    response = models.OneToOneField(
        Response,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="processing_failure",
    )
    feedback = models.OneToOneField(
        Feedback,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="processing_failure",
    )
    attempts = models.PositiveIntegerField(default=0)
    steps = models.JSONField(
        default=dict, blank=True, help_text="Each failed step → its error, from the last run."
    )
    reason = models.TextField(blank=True)
    quarantined_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["project", "quarantined_at"], name="processing_failure_project")
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(response__isnull=False, feedback__isnull=True)
                | Q(response__isnull=True, feedback__isnull=False),
                name="processing_failure_one_subject",
            ),
        ]

    def __str__(self) -> str:
        subject = (
            f"response {self.response_id}" if self.response_id else f"feedback {self.feedback_id}"
        )
        state = "quarantined" if self.quarantined_at else f"{self.attempts} attempt(s)"
        return f"Processing of {subject}: {state}"
