"""Admin for responses, feedback, topics, alert rules, cases, teams, events, webhooks and the
answers whose processing failed (quarantined ones first)."""

from django.contrib import admin, messages

from feedback import models
from feedback.answering.pipeline import processing_replay_quarantined


class AnswerInline(admin.TabularInline):
    model = models.Answer
    extra = 0
    fields = ["question", "question_type", "value_int", "value_text", "value_choices", "sentiment"]
    raw_id_fields = ["question"]


@admin.register(models.Response)
class ResponseAdmin(admin.ModelAdmin):
    list_display = ["id", "survey", "contact", "touchpoint", "channel", "finished", "created_at"]
    list_filter = ["project", "finished", "channel", "survey"]
    # No date_hierarchy: its year and month links aggregate created_at over every project's
    # responses, which has no index of its own (feedback.models.Response says why).
    raw_id_fields = ["contact", "display", "version", "touchpoint"]
    search_fields = ["submission_id", "contact__user_id"]
    inlines = [AnswerInline]


@admin.register(models.Answer)
class AnswerAdmin(admin.ModelAdmin):
    list_display = ["id", "response", "question_type", "value_int", "sentiment"]
    list_filter = ["question_type", "sentiment"]
    raw_id_fields = ["response", "question"]
    search_fields = ["value_text"]


@admin.register(models.Feedback)
class FeedbackAdmin(admin.ModelAdmin):
    list_display = ["__str__", "project", "category", "rating", "sentiment", "created_at"]
    list_filter = ["project", "category", "sentiment"]
    search_fields = ["text"]
    raw_id_fields = ["contact"]


@admin.register(models.Topic)
class TopicAdmin(admin.ModelAdmin):
    list_display = ["name", "project", "is_active", "rules_version"]
    list_filter = ["project", "is_active"]
    search_fields = ["name"]


@admin.register(models.Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ["topic", "matched_text", "source", "suppressed", "answer", "feedback"]
    list_filter = ["source", "suppressed", "topic__project"]
    raw_id_fields = ["answer", "feedback"]


@admin.register(models.RetagRun)
class RetagRunAdmin(admin.ModelAdmin):
    list_display = ["id", "project", "status", "done", "total", "tags_written", "created_at"]
    list_filter = ["status", "project"]
    readonly_fields = ["started_at", "finished_at"]


@admin.register(models.RootCause)
class RootCauseAdmin(admin.ModelAdmin):
    list_display = ["name", "project", "is_active"]
    list_filter = ["project", "is_active"]
    search_fields = ["name"]


@admin.register(models.AlertRule)
class AlertRuleAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "project",
        "is_active",
        "question_type",
        "score_min",
        "score_max",
        "team",
        "sla_hours",
    ]
    list_filter = ["project", "is_active", "question_type", "assignment"]
    filter_horizontal = ["topics", "touchpoints"]


class CaseEventInline(admin.TabularInline):
    model = models.CaseEvent
    extra = 0
    readonly_fields = ["created_at", "actor", "kind", "from_value", "to_value", "note"]
    can_delete = False


@admin.register(models.Case)
class CaseAdmin(admin.ModelAdmin):
    list_display = ["id", "title", "status", "priority", "team", "assignee", "due_at", "recovered"]
    list_filter = ["project", "status", "priority", "team", "recovered"]
    search_fields = ["title", "root_cause__name"]
    raw_id_fields = ["response", "feedback", "contact", "recovered_by_response"]
    filter_horizontal = ["also_matched"]
    date_hierarchy = "created_at"
    inlines = [CaseEventInline]


@admin.register(models.CaseEvent)
class CaseEventAdmin(admin.ModelAdmin):
    list_display = ["created_at", "case", "actor", "kind", "from_value", "to_value"]
    list_filter = ["kind"]
    raw_id_fields = ["case"]


@admin.register(models.WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    list_display = ["url", "kind", "team", "project", "is_active", "created_at"]
    list_filter = ["project", "kind", "is_active"]


@admin.register(models.WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = ["event", "endpoint", "status", "attempts", "last_status_code", "created_at"]
    list_filter = ["status", "event"]
    readonly_fields = ["payload", "last_error"]


@admin.register(models.WebhookAttempt)
class WebhookAttemptAdmin(admin.ModelAdmin):
    list_display = ["delivery", "number", "status_code", "duration_ms", "replay", "created_at"]
    list_filter = ["replay", "status_code"]
    readonly_fields = ["delivery", "error"]


@admin.register(models.ProcessingFailure)
class ProcessingFailureAdmin(admin.ModelAdmin):
    """What feedback.answering.pipeline could not finish: read here, fix the cause, then replay (the
    action below, or `manage.py replay_quarantined`)."""

    list_display = ["__str__", "project", "attempts", "quarantined_at", "reason", "updated_at"]
    list_filter = [("quarantined_at", admin.EmptyFieldListFilter), "project"]
    ordering = ["-quarantined_at", "-updated_at"]
    raw_id_fields = ["response", "feedback"]
    readonly_fields = [
        "project",
        "response",
        "feedback",
        "attempts",
        "steps",
        "reason",
        "quarantined_at",
        "created_at",
        "updated_at",
    ]
    actions = ["replay"]

    def has_add_permission(self, request) -> bool:
        return False

    @admin.action(description="Run every processing step of the selected again now")
    def replay(self, request, queryset) -> None:
        result = processing_replay_quarantined(
            failure_ids=list(queryset.values_list("pk", flat=True))
        )
        self.message_user(
            request,
            f"Replayed {result.replayed}: {result.processed} processed, "
            f"{result.still_quarantined} still failing.",
            messages.SUCCESS if not result.still_quarantined else messages.WARNING,
        )
