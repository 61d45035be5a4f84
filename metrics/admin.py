"""Admin for the rollup histograms (read-only: they are rebuilt from raw rows) and the weekly
digest subscriptions."""

from django.contrib import admin

from metrics.digests.models import DigestSubscription
from metrics.rollups import models


@admin.register(models.Rollup)
class RollupAdmin(admin.ModelAdmin):
    list_display = ["day", "survey", "question_type", "touchpoint_key", "channel", "score", "count"]
    list_filter = ["project", "question_type", "channel", "breakdown_attribute"]
    date_hierarchy = "day"

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(DigestSubscription)
class DigestSubscriptionAdmin(admin.ModelAdmin):
    list_display = ["user", "project", "timezone", "language", "last_sent_slot"]
    list_filter = ["project"]
    raw_id_fields = ["user", "project"]
