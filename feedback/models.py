"""Responses and answers, customer-initiated feedback, topics and tags, alert rules, follow-up
cases and their events, teams, operational events, webhooks (DESIGN.md §4)."""

from __future__ import annotations

import base64
import secrets
import uuid

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Length
from django.db.models.lookups import LessThanOrEqual
from django.utils import timezone

from surveys.models import (
    Contact,
    Display,
    Project,
    Question,
    QuestionType,
    Survey,
    SurveyChannel,
    SurveyVersion,
    Touchpoint,
)
from vocsite.models import TimeStampedModel

# db_index=False on keys that lead a composite index: see the note in surveys/models.py.


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
        max_length=16, choices=SurveyChannel.choices, default=SurveyChannel.WIDGET
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
    POSITIVE = "positive", "Positive"
    NEUTRAL = "neutral", "Neutral"
    NEGATIVE = "negative", "Negative"


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
    more (feedback.pipeline): which steps, why, how many runs. The other steps still ran.

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


class Topic(TimeStampedModel):
    """A rule-based topic: keywords and phrases (Chinese segmented with jieba), with exclusions."""

    project = models.ForeignKey(
        Project, on_delete=models.CASCADE, related_name="topics", db_index=False
    )
    name = models.CharField(max_length=100)
    keywords = models.JSONField(default=list, blank=True)
    exclusions = models.JSONField(default=list, blank=True)
    is_active = models.BooleanField(default=True)
    rules_version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["project", "name"], name="topic_name_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class TagSource(models.TextChoices):
    RULE = "rule", "Rule"
    MANUAL = "manual", "Added by hand"


class Tag(TimeStampedModel):
    """A topic attached to an answer or a feedback item, with the span it matched.

    `suppressed` records a hand correction that removed a rule match, so retagging keeps it off.
    """

    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="tags")
    answer = models.ForeignKey(
        Answer, null=True, blank=True, on_delete=models.CASCADE, related_name="tags"
    )
    feedback = models.ForeignKey(
        Feedback, null=True, blank=True, on_delete=models.CASCADE, related_name="tags"
    )
    source = models.CharField(max_length=8, choices=TagSource.choices, default=TagSource.RULE)
    span_start = models.PositiveIntegerField(null=True, blank=True)
    span_end = models.PositiveIntegerField(null=True, blank=True)
    matched_text = models.CharField(max_length=200, blank=True)
    suppressed = models.BooleanField(default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(answer__isnull=False, feedback__isnull=True)
                | Q(answer__isnull=True, feedback__isnull=False),
                name="tag_one_target",
            ),
            models.UniqueConstraint(
                fields=["topic", "answer", "span_start"],
                condition=Q(answer__isnull=False),
                name="tag_answer_span_unique",
            ),
            models.UniqueConstraint(
                fields=["topic", "feedback", "span_start"],
                condition=Q(feedback__isnull=False),
                name="tag_feedback_span_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.topic}: {self.matched_text}"


class RetagStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    SUPERSEDED = "superseded", "Superseded by a newer run"
    FAILED = "failed", "Failed"


class RetagRun(TimeStampedModel):
    """Retagging a project's history after a topic rule changed, run by a Celery task; the
    topics page shows its progress. A newer run makes an older one stop (superseded)."""

    project = models.ForeignKey(
        Project, on_delete=models.CASCADE, related_name="retag_runs", db_index=False
    )
    status = models.CharField(
        max_length=16, choices=RetagStatus.choices, default=RetagStatus.QUEUED
    )
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    tags_written = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )

    class Meta:
        indexes = [models.Index(fields=["project", "-created_at"], name="retag_run_recent")]

    @property
    def percent(self) -> int:
        return 100 if not self.total else min(100, round(100 * self.done / self.total))


class Team(TimeStampedModel):
    project = models.ForeignKey(
        Project, on_delete=models.CASCADE, related_name="teams", db_index=False
    )
    name = models.CharField(max_length=100)
    lead = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="led_teams",
    )
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="TeamMembership", related_name="teams", blank=True
    )
    email = models.EmailField(blank=True, help_text="Shared inbox notified of new cases.")
    round_robin_cursor = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "name"], name="team_name_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class TeamMembership(TimeStampedModel):
    team = models.ForeignKey(
        Team, on_delete=models.CASCADE, related_name="memberships", db_index=False
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="team_memberships"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["team", "user"], name="team_membership_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.team}"


class CasePriority(models.TextChoices):
    LOW = "low", "Low"
    NORMAL = "normal", "Normal"
    HIGH = "high", "High"
    URGENT = "urgent", "Urgent"


class Assignment(models.TextChoices):
    NONE = "none", "Leave unassigned (team queue)"
    ROUND_ROBIN = "round_robin", "Round-robin among team members"
    LEAST_LOADED = "least_loaded", "Agent with the fewest open cases"


# An SLA is at most a year: `timedelta(hours=2_000_000_000)` overflowed a date.
SLA_HOURS_MAX = 24 * 365


class AlertRule(TimeStampedModel):
    """When a finished response (or feedback) matches, open a follow-up case."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="alert_rules")
    name = models.CharField(max_length=200)
    is_active = models.BooleanField(default=True)
    question_type = models.CharField(
        max_length=16, choices=QuestionType.choices, blank=True, help_text="Empty: any score."
    )
    score_min = models.SmallIntegerField(null=True, blank=True)
    score_max = models.SmallIntegerField(null=True, blank=True)
    keywords = models.JSONField(default=list, blank=True)
    topics = models.ManyToManyField(Topic, blank=True, related_name="alert_rules")
    touchpoints = models.ManyToManyField(Touchpoint, blank=True, related_name="alert_rules")
    segment = models.JSONField(default=dict, blank=True, help_text='e.g. {"plan": "pro"}')
    applies_to_feedback = models.BooleanField(
        default=False, help_text="Also open cases for negative Feedback-tab messages."
    )
    priority = models.CharField(
        max_length=8, choices=CasePriority.choices, default=CasePriority.NORMAL
    )
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="alert_rules"
    )
    assignment = models.CharField(
        max_length=16, choices=Assignment.choices, default=Assignment.NONE
    )
    sla_hours = models.PositiveIntegerField(
        default=48, validators=[MaxValueValidator(SLA_HOURS_MAX)], help_text="At most a year."
    )
    notify_email = models.BooleanField(default=True)
    notify_webhook = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(score_min__isnull=True)
                | Q(score_max__isnull=True)
                | Q(score_max__gte=models.F("score_min")),
                name="alert_rule_score_order",
            ),
            # A due date beyond the calendar stopped every later step of answer processing.
            models.CheckConstraint(
                condition=Q(sla_hours__lte=SLA_HOURS_MAX), name="alert_rule_sla_hours_bounded"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class CaseStatus(models.TextChoices):
    NEW = "new", "New"
    IN_PROGRESS = "in_progress", "In progress"
    CONTACTED = "contacted", "Contacted"
    RESOLVED = "resolved", "Resolved"
    CLOSED = "closed", "Closed"
    REOPENED = "reopened", "Reopened"


OPEN_CASE_STATUSES = (
    CaseStatus.NEW,
    CaseStatus.IN_PROGRESS,
    CaseStatus.CONTACTED,
    CaseStatus.REOPENED,
)


class ContactMethod(models.TextChoices):
    PHONE = "phone", "Phone"
    EMAIL = "email", "E-mail"
    CHAT = "chat", "Chat"
    OTHER = "other", "Other"


class Case(TimeStampedModel):
    project = models.ForeignKey(
        Project, on_delete=models.CASCADE, related_name="cases", db_index=False
    )
    response = models.ForeignKey(
        Response,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="cases",
        db_index=False,
    )
    feedback = models.ForeignKey(
        Feedback,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="cases",
        db_index=False,
    )
    rule = models.ForeignKey(
        AlertRule, null=True, blank=True, on_delete=models.SET_NULL, related_name="cases"
    )
    contact = models.ForeignKey(
        Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="cases"
    )
    title = models.CharField(max_length=200)
    status = models.CharField(max_length=16, choices=CaseStatus.choices, default=CaseStatus.NEW)
    priority = models.CharField(
        max_length=8, choices=CasePriority.choices, default=CasePriority.NORMAL
    )
    team = models.ForeignKey(
        Team,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="cases",
        db_index=False,
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_cases",
        db_index=False,
    )
    due_at = models.DateTimeField()
    first_contacted_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    overdue_at = models.DateTimeField(
        null=True, blank=True, help_text="When the SLA was found breached and escalated (once)."
    )
    root_cause = models.CharField(max_length=200, blank=True)
    resolution_note = models.TextField(blank=True)
    contact_method = models.CharField(max_length=8, choices=ContactMethod.choices, blank=True)
    recovered = models.BooleanField(default=False)
    recovered_at = models.DateTimeField(null=True, blank=True)
    recovered_by_response = models.ForeignKey(
        Response, null=True, blank=True, on_delete=models.SET_NULL, related_name="recovered_cases"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["response", "rule"],
                condition=Q(response__isnull=False),
                name="case_once_per_response_rule",
            ),
            models.UniqueConstraint(
                fields=["feedback", "rule"],
                condition=Q(feedback__isnull=False),
                name="case_once_per_feedback_rule",
            ),
        ]
        indexes = [
            # the inbox: open cases by SLA due, per project / team / assignee
            models.Index(fields=["project", "status", "due_at"], name="case_inbox"),
            models.Index(fields=["team", "status", "due_at"], name="case_team_inbox"),
            models.Index(fields=["assignee", "status", "due_at"], name="case_assignee_inbox"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.title}"


class CaseEvent(models.Model):
    """Every change to a case: who, what, when, with an optional note."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    kind = models.CharField(max_length=32)
    from_value = models.CharField(max_length=200, blank=True)
    to_value = models.CharField(max_length=200, blank=True)
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.kind}: {self.from_value} → {self.to_value}"


class OperationalEvent(TimeStampedModel):
    """O-data from the company's servers (orders, tickets, cancellations, revenue)."""

    project = models.ForeignKey(
        Project,
        on_delete=models.CASCADE,
        related_name="operational_events",
        db_index=False,
    )
    contact = models.ForeignKey(
        Contact,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="events",
        db_index=False,
    )
    event_id = models.CharField(max_length=100, blank=True, help_text="Idempotency key.")
    event = models.CharField(max_length=100)
    occurred_at = models.DateTimeField()
    properties = models.JSONField(default=dict, blank=True)
    revenue = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["project", "event_id"],
                condition=~Q(event_id=""),
                name="operational_event_id_unique",
            ),
        ]
        indexes = [
            models.Index(fields=["project", "event", "occurred_at"], name="opevent_kind_time"),
            models.Index(fields=["contact", "occurred_at"], name="opevent_contact_time"),
        ]

    def __str__(self) -> str:
        return f"{self.event} @ {self.occurred_at:%Y-%m-%d}"


class WebhookEvent(models.TextChoices):
    RESPONSE_FINISHED = "response.finished"
    CASE_CREATED = "case.created"
    CASE_UPDATED = "case.updated"
    CASE_OVERDUE = "case.overdue"
    FEEDBACK_CREATED = "feedback.created"


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
    PENDING = "pending", "Pending"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed (retries exhausted)"


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
    replay = models.BooleanField(default=False, help_text="Sent because someone replayed it.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["delivery", "number"]

    def __str__(self) -> str:
        return f"attempt {self.number}: {self.status_code or self.error[:40]}"
