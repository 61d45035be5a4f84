"""The journey map: each stage and touchpoint with its scores over a chosen period."""

from __future__ import annotations

from datetime import timedelta

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from metrics.reports.selectors import touchpoint_scores
from surveys.journey.models import JourneyStage, Touchpoint
from surveys.tenancy.staff import project_view

PERIODS = {"30": 30, "90": 90, "365": 365}


@project_view()
def journey_map(request: HttpRequest) -> HttpResponse:
    """Stages in order, touchpoints in order, each with its NPS/CSAT/CES and n (from rollups)."""
    project = request.access.project
    days = PERIODS.get(request.GET.get("days", ""), 90)
    today = timezone.now().date()
    scores = touchpoint_scores(project, since=today - timedelta(days=days - 1), until=today)
    touchpoints = list(
        Touchpoint.objects.filter(project=project)
        .prefetch_related("surveys")
        .order_by("position", "name")
    )
    stages = []
    for stage in JourneyStage.objects.filter(project=project).order_by("position", "name"):
        stages.append(
            {
                "stage": stage,
                "touchpoints": [
                    {"touchpoint": t, "scores": scores.get(t.key, {})}
                    for t in touchpoints
                    if t.stage_id == stage.pk
                ],
            }
        )
    unstaged = [
        {"touchpoint": t, "scores": scores.get(t.key, {})}
        for t in touchpoints
        if t.stage_id is None
    ]
    if unstaged:
        stages.append({"stage": None, "touchpoints": unstaged})
    return render(
        request,
        "surveys/journey_map.html",
        {"stages": stages, "days": days, "periods": PERIODS},
    )
