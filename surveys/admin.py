"""Admin for projects, keys, journeys, surveys, contacts and the throttle ledger."""

from django.contrib import admin

from surveys import models


class MembershipInline(admin.TabularInline):
    model = models.Membership
    extra = 0
    autocomplete_fields = ["user"]


class ApiKeyInline(admin.TabularInline):
    model = models.ApiKey
    extra = 0
    fields = ["name", "prefix", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = ["prefix", "created_at", "last_used_at"]
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False  # keys are made by the create_project command or the settings page


@admin.register(models.Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ["name", "public_key", "default_language", "recontact_days", "frequency_cap"]
    search_fields = ["name", "public_key"]
    list_filter = ["is_demo", "default_language"]
    readonly_fields = ["public_key", "created_at", "updated_at"]
    inlines = [MembershipInline, ApiKeyInline]

    def get_deleted_objects(self, objs, request):
        """A project's audit entries go with it (nobody may delete them one by one)."""
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        perms_needed.discard(models.AuditEntry._meta.verbose_name)
        return deleted, counts, perms_needed, protected


@admin.register(models.ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ["prefix", "name", "project", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["project", ("revoked_at", admin.EmptyFieldListFilter)]
    readonly_fields = ["prefix", "key_hash", "created_at", "last_used_at"]
    search_fields = ["prefix", "name"]


@admin.register(models.Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "project", "role", "created_at"]
    list_filter = ["role", "project"]
    search_fields = ["user__username", "user__email"]
    autocomplete_fields = ["user"]


@admin.register(models.MemberInvitation)
class MemberInvitationAdmin(admin.ModelAdmin):
    """Made, revoked and accepted on the Settings page and the invitation link, not here."""

    list_display = ["email", "project", "role", "status", "expires_at", "invited_by"]
    list_filter = ["status", "role", "project"]
    search_fields = ["email"]
    readonly_fields = [f.name for f in models.MemberInvitation._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(models.StaffPreference)
class StaffPreferenceAdmin(admin.ModelAdmin):
    list_display = ["user", "current_project", "updated_at"]
    raw_id_fields = ["user"]


class TouchpointInline(admin.TabularInline):
    model = models.Touchpoint
    extra = 0
    fields = ["key", "name", "channel", "position"]


@admin.register(models.JourneyStage)
class JourneyStageAdmin(admin.ModelAdmin):
    list_display = ["name", "key", "project", "position"]
    list_filter = ["project"]
    ordering = ["project", "position"]
    inlines = [TouchpointInline]


@admin.register(models.Touchpoint)
class TouchpointAdmin(admin.ModelAdmin):
    list_display = ["key", "name", "stage", "channel", "project"]
    list_filter = ["project", "channel", "stage"]
    search_fields = ["key", "name"]


class QuestionInline(admin.StackedInline):
    model = models.Question
    extra = 0
    fields = [
        "position",
        "type",
        "text",
        "required",
        "scale_min",
        "scale_max",
        "choices",
        "show_if",
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(version__isnull=True)


@admin.register(models.Survey)
class SurveyAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "project",
        "status",
        "display_option",
        "sample_percent",
        "priority",
        "current_version",
    ]
    list_filter = ["project", "status", "display_option", "bypass_global_cooldown"]
    search_fields = ["name"]
    filter_horizontal = ["touchpoints"]
    readonly_fields = ["current_version", "created_at", "updated_at"]
    inlines = [QuestionInline]


@admin.register(models.SurveyVersion)
class SurveyVersionAdmin(admin.ModelAdmin):
    list_display = ["survey", "number", "published_at", "published_by"]
    list_filter = ["survey__project"]
    readonly_fields = ["survey", "number", "snapshot", "published_at", "published_by"]


@admin.register(models.Question)
class QuestionAdmin(admin.ModelAdmin):
    list_display = ["__str__", "survey", "version", "position", "type", "required"]
    list_filter = ["type", "survey__project"]
    search_fields = ["survey__name"]


class VisitorIdInline(admin.TabularInline):
    model = models.VisitorId
    extra = 0


@admin.register(models.Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ["__str__", "project", "email", "lifecycle", "revenue_total", "opted_out_at"]
    list_filter = ["project", "lifecycle", ("opted_out_at", admin.EmptyFieldListFilter)]
    search_fields = ["user_id", "email", "visitor_ids__visitor_id"]
    inlines = [VisitorIdInline]


@admin.register(models.VisitorId)
class VisitorIdAdmin(admin.ModelAdmin):
    list_display = ["visitor_id", "contact", "project", "created_at"]
    list_filter = ["project"]
    search_fields = ["visitor_id"]
    raw_id_fields = ["contact"]


@admin.register(models.LifecycleChange)
class LifecycleChangeAdmin(admin.ModelAdmin):
    """Read-only: the history is the events replayed (surveys.delivery.events); edit the events."""

    list_display = ["contact", "kind", "occurred_at", "ended_at", "project"]
    list_filter = ["project", "kind"]
    date_hierarchy = "occurred_at"
    raw_id_fields = ["contact", "event"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(models.Display)
class DisplayAdmin(admin.ModelAdmin):
    list_display = ["id", "survey", "contact", "touchpoint", "channel", "status", "claimed_at"]
    list_filter = ["project", "status", "channel", "survey"]
    date_hierarchy = "claimed_at"
    raw_id_fields = ["contact", "version", "touchpoint", "link"]


@admin.register(models.SurveyLink)
class SurveyLinkAdmin(admin.ModelAdmin):
    list_display = ["label", "project", "survey", "channel", "mode", "active", "created_at"]
    list_filter = ["project", "channel", "mode", "active"]
    search_fields = ["label"]
    raw_id_fields = ["survey", "touchpoint"]


@admin.register(models.DecisionCount)
class DecisionCountAdmin(admin.ModelAdmin):
    list_display = ["day", "project", "survey", "touchpoint_key", "channel", "reason", "count"]
    list_filter = ["project", "reason", "channel"]
    date_hierarchy = "day"
    raw_id_fields = ["survey"]


@admin.register(models.WidgetOrigin)
class WidgetOriginAdmin(admin.ModelAdmin):
    list_display = ["origin", "project", "last_allowed_at", "last_refused_at"]
    list_filter = ["project"]
    search_fields = ["origin"]


@admin.register(models.Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ["survey", "contact", "status", "send_after", "sent_at", "skip_reason"]
    list_filter = ["project", "status"]
    raw_id_fields = ["contact", "display", "operational_event", "touchpoint"]


@admin.register(models.AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """Read-only for everybody, superusers included: the audit log is append-only."""

    list_display = ["created_at", "project", "actor", "action", "object_type", "object_repr"]
    list_filter = ["project", "action", "object_type"]
    readonly_fields = [f.name for f in models.AuditEntry._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class TeamMembershipInline(admin.TabularInline):
    model = models.TeamMembership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(models.Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "project", "lead", "email"]
    list_filter = ["project"]
    inlines = [TeamMembershipInline]


@admin.register(models.TeamMembership)
class TeamMembershipAdmin(admin.ModelAdmin):
    list_display = ["team", "user", "created_at"]
    list_filter = ["team__project", "team"]


@admin.register(models.OperationalEvent)
class OperationalEventAdmin(admin.ModelAdmin):
    list_display = ["event", "project", "contact", "occurred_at", "revenue", "event_id"]
    list_filter = ["project", "event"]
    date_hierarchy = "occurred_at"
    raw_id_fields = ["contact"]
    search_fields = ["event_id", "contact__user_id"]
