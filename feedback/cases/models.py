"""The closed loop's records: alert rules, follow-up cases and their events (DESIGN.md §4)."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from feedback.answering.models import Feedback, Response
from feedback.topics.models import Topic
from surveys.contacts.models import Contact
from surveys.design.models import QuestionType
from surveys.journey.models import Touchpoint
from surveys.tenancy.models import Project, Team
from vocsite.models import TimeStampedModel


class CasePriority(models.TextChoices):
    LOW = "low", _("Low")
    NORMAL = "normal", _("Normal")
    HIGH = "high", _("High")
    URGENT = "urgent", _("Urgent")


class Assignment(models.TextChoices):
    NONE = "none", _("Leave unassigned (team queue)")
    ROUND_ROBIN = "round_robin", _("Round-robin among team members")
    LEAST_LOADED = "least_loaded", _("Agent with the fewest open cases")


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
    NEW = "new", _("New")
    IN_PROGRESS = "in_progress", _("In progress")
    CONTACTED = "contacted", _("Contacted")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")
    REOPENED = "reopened", _("Reopened")


OPEN_CASE_STATUSES = (
    CaseStatus.NEW,
    CaseStatus.IN_PROGRESS,
    CaseStatus.CONTACTED,
    CaseStatus.REOPENED,
)


class ContactMethod(models.TextChoices):
    PHONE = "phone", _("Phone")
    EMAIL = "email", _("E-mail")
    CHAT = "chat", _("Chat")
    OTHER = "other", _("Other")


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
