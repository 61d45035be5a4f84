"""The journey map: each stage and touchpoint with its scores over a chosen period, edited
where it is shown. Designers and admins add, rename, reorder (up/down buttons; dragging where
JavaScript runs) and retire stages and touchpoints here; every change is a service of
`surveys.journey.services`, the same ones the management API calls."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from metrics.reports.selectors import touchpoint_scores
from surveys.journey.forms import MoveForm, RenameForm, StageForm, TouchpointForm
from surveys.journey.models import JourneyStage, Touchpoint
from surveys.journey.services import (
    stage_create,
    stage_step,
    stage_update,
    touchpoint_create,
    touchpoint_delete,
    touchpoint_step,
    touchpoint_update,
)
from surveys.tenancy.roles import CASE_ROLES, DESIGN_ROLES
from surveys.tenancy.staff import project_view
from vocsite.errors import ApplicationError

PERIODS = {"30": 30, "90": 90, "365": 365}


@project_view()
def journey_map(request: HttpRequest) -> HttpResponse:
    """Stages in order, touchpoints in order, each with its NPS/CSAT/CES, interval and n
    (from rollups); retired touchpoints apart, at the end."""
    return _journey_page(request)


def _journey_page(
    request: HttpRequest,
    *,
    status: int = 200,
    errors: list[str] | None = None,
    stage_form: StageForm | None = None,
    touchpoint_form: TouchpointForm | None = None,
) -> HttpResponse:
    project = request.access.project
    days = PERIODS.get(request.GET.get("days", ""), 90)
    today = timezone.localdate()  # the project's (project_view)
    scores = touchpoint_scores(project, since=today - timedelta(days=days - 1), until=today)
    touchpoints = list(
        Touchpoint.objects.filter(project=project)
        .prefetch_related("surveys")
        .order_by("position", "name")
    )
    live = [t for t in touchpoints if t.retired_at is None]

    def cards(members: list[Touchpoint]) -> list[dict]:
        return [
            {
                "touchpoint": t,
                "scores": scores.get(t.key, {}),
                "first": i == 0,
                "last": i == len(members) - 1,
            }
            for i, t in enumerate(members)
        ]

    stages = []
    stage_rows = list(JourneyStage.objects.filter(project=project).order_by("position", "name"))
    for index, stage in enumerate(stage_rows):
        stages.append(
            {
                "stage": stage,
                "first": index == 0,
                "last": index == len(stage_rows) - 1,
                "touchpoints": cards([t for t in live if t.stage_id == stage.pk]),
            }
        )
    unstaged = [t for t in live if t.stage_id is None]
    if unstaged:
        stages.append({"stage": None, "touchpoints": cards(unstaged)})
    role = request.access.role
    return render(
        request,
        "surveys/journey_map.html",
        {
            "stages": stages,
            "retired": cards([t for t in touchpoints if t.retired_at is not None]),
            "days": days,
            "periods": PERIODS,
            "can_edit": role in DESIGN_ROLES,
            "can_read_verbatims": role in CASE_ROLES,
            "errors": errors or [],
            "stage_form": stage_form or StageForm(),
            "touchpoint_form": touchpoint_form or TouchpointForm(project=project),
        },
        status=status,
    )


def _back(anchor: str = "") -> HttpResponse:
    return redirect(reverse("journey-map") + (f"#{anchor}" if anchor else ""))


def _error_page(request: HttpRequest, error: ApplicationError, **forms) -> HttpResponse:
    problems = [p for messages in error.fields.values() for p in messages] or [error.message]
    return _journey_page(request, status=error.status_code, errors=problems, **forms)


def _invalid_form(request: HttpRequest, form, **forms) -> HttpResponse:
    problems = [p for messages in form.errors.values() for p in messages]
    return _journey_page(request, status=400, errors=problems, **forms)


@require_POST
@project_view(DESIGN_ROLES)
def journey_stage_add(request: HttpRequest) -> HttpResponse:
    form = StageForm(request.POST)
    if not form.is_valid():
        return _invalid_form(request, form, stage_form=form)
    try:
        stage = stage_create(
            project=request.access.project,
            key=form.cleaned_data["key"],
            name=form.cleaned_data["name"],
            actor=request.user,
        )
    except ApplicationError as error:
        return _error_page(request, error, stage_form=form)
    return _back(f"stage-{stage.pk}")


@require_POST
@project_view(DESIGN_ROLES)
def journey_stage_edit(request: HttpRequest, stage_id: int) -> HttpResponse:
    """`action`: rename (with `name`), up, down."""
    stage = get_object_or_404(JourneyStage, project=request.access.project, pk=stage_id)
    action = request.POST.get("action", "")
    changes: dict[str, Callable[[], object]] = {
        "up": lambda: stage_step(stage=stage, direction="up", actor=request.user),
        "down": lambda: stage_step(stage=stage, direction="down", actor=request.user),
    }
    if action == "rename":
        form = RenameForm(request.POST)
        if not form.is_valid():
            return _invalid_form(request, form)
        changes["rename"] = lambda: stage_update(
            stage=stage, name=form.cleaned_data["name"], actor=request.user
        )
    if action not in changes:
        return _journey_page(request, status=400, errors=[_("Unknown change.")])
    try:
        changes[action]()
    except ApplicationError as error:
        return _error_page(request, error)
    return _back(f"stage-{stage.pk}")


@require_POST
@project_view(DESIGN_ROLES)
def journey_touchpoint_add(request: HttpRequest) -> HttpResponse:
    project = request.access.project
    form = TouchpointForm(request.POST, project=project)
    if not form.is_valid():
        return _invalid_form(request, form, touchpoint_form=form)
    try:
        touchpoint = touchpoint_create(
            project=project,
            key=form.cleaned_data["key"],
            name=form.cleaned_data["name"],
            stage=form.cleaned_data["stage"],
            channel=form.cleaned_data["channel"],
            actor=request.user,
        )
    except ApplicationError as error:
        return _error_page(request, error, touchpoint_form=form)
    return _back(f"touchpoint-{touchpoint.pk}")


@require_POST
@project_view(DESIGN_ROLES)
def journey_touchpoint_edit(request: HttpRequest, touchpoint_id: int) -> HttpResponse:
    """`action`: rename (with `name`), up, down, move (with `stage` and `position`: a drop),
    retire, restore, delete."""
    project = request.access.project
    touchpoint = get_object_or_404(Touchpoint, project=project, pk=touchpoint_id)
    action = request.POST.get("action", "")
    user = request.user
    changes: dict[str, Callable[[], object]] = {
        "up": lambda: touchpoint_step(touchpoint=touchpoint, direction="up", actor=user),
        "down": lambda: touchpoint_step(touchpoint=touchpoint, direction="down", actor=user),
        "retire": lambda: touchpoint_update(touchpoint=touchpoint, retired=True, actor=user),
        "restore": lambda: touchpoint_update(touchpoint=touchpoint, retired=False, actor=user),
        "delete": lambda: touchpoint_delete(touchpoint=touchpoint, actor=user),
    }
    if action == "rename":
        form = RenameForm(request.POST)
        if not form.is_valid():
            return _invalid_form(request, form)
        changes["rename"] = lambda: touchpoint_update(
            touchpoint=touchpoint, name=form.cleaned_data["name"], actor=user
        )
    if action == "move":
        form = MoveForm(request.POST)
        if not form.is_valid():
            return _invalid_form(request, form)
        stage = None
        if form.cleaned_data["stage"]:
            stage = JourneyStage.objects.filter(
                project=project, key=form.cleaned_data["stage"]
            ).first()
            if stage is None:
                return _journey_page(request, status=400, errors=[_("Unknown stage.")])
        changes["move"] = lambda: touchpoint_update(
            touchpoint=touchpoint, stage=stage, position=form.cleaned_data["position"], actor=user
        )
    if action not in changes:
        return _journey_page(request, status=400, errors=[_("Unknown change.")])
    try:
        changes[action]()
    except ApplicationError as error:
        return _error_page(request, error)
    return _back("" if action == "delete" else f"touchpoint-{touchpoint.pk}")
