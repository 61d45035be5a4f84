"""Topics, the tags that put answers and messages under them, and retag runs (DESIGN.md §4)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from feedback.answering.models import Answer, Feedback, Sentiment
from surveys.tenancy.models import Project
from vocsite.models import TimeStampedModel


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
    RULE = "rule", _("Rule")
    MANUAL = "manual", _("Added by hand")


class Tag(TimeStampedModel):
    """A topic attached to an answer or a feedback item, with the span it matched and the
    sentiment of the clause around it (a tag added by hand: of the whole text).

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
    # The sentiment of the clause the match sits in (feedback.topics.sentiment.clause_around):
    # one comment can praise delivery and complain about a refund.
    sentiment = models.CharField(max_length=16, choices=Sentiment.choices, blank=True)
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
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    SUPERSEDED = "superseded", _("Superseded by a newer run")
    FAILED = "failed", _("Failed")


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
