"""The customer journey: stages and the touchpoints surveys are asked at (DESIGN.md §4)."""

from __future__ import annotations

from django.db import models

from surveys.tenancy.models import Channel, Project
from vocsite.models import TimeStampedModel


class JourneyStage(TimeStampedModel):
    project = models.ForeignKey(
        Project, on_delete=models.CASCADE, related_name="stages", db_index=False
    )
    key = models.SlugField(max_length=64)
    name = models.CharField(max_length=100)
    position = models.PositiveIntegerField(default=0)
    description = models.TextField(blank=True)
    # A retired stage offers nothing at any of its touchpoints (decide answers `stage_retired`);
    # it keeps its place and its touchpoints, and restoring it brings them back as they were.
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["project", "key"], name="stage_key_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class Touchpoint(TimeStampedModel):
    project = models.ForeignKey(
        Project, on_delete=models.CASCADE, related_name="touchpoints", db_index=False
    )
    key = models.SlugField(max_length=100)
    name = models.CharField(max_length=200)
    stage = models.ForeignKey(
        JourneyStage, null=True, blank=True, on_delete=models.SET_NULL, related_name="touchpoints"
    )
    channel = models.CharField(max_length=16, choices=Channel.choices, default=Channel.WEB)
    description = models.TextField(blank=True)
    position = models.PositiveIntegerField(default=0)
    # A retired touchpoint is no longer offered (decide answers `touchpoint_retired`, the
    # designer does not list it); its rows and rollups keep its history in the metrics.
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["stage__position", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["project", "key"], name="touchpoint_key_unique"),
        ]

    def __str__(self) -> str:
        return self.key
