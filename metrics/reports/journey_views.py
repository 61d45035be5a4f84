"""The journey map: each stage and touchpoint with its scores over a chosen period, edited
where it is shown. Designers and admins add, rename, reorder (up/down buttons; dragging where
JavaScript runs), retire, restore and delete stages and touchpoints here; every change is a
service of `surveys.journey.services`, the same ones the management API calls, and every POST
takes one path (`_submit`): the form read, the service called, a refusal shown in words on
the page with its status, else back to the changed row."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from metrics.reports.selectors import touchpoint_scores
from surveys.journey.forms import MoveForm, RenameForm, StageForm, TouchpointForm
from surveys.journey.models import JourneyStage, Touchpoint
from surveys.journey.selectors import stage_by_key
from surveys.journey.services import (
    stage_create,
    stage_delete,
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
    (from rollups); a retired stage in its place, collapsed; retired touchpoints apart, at the
    end."""
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


def _submit(
    request: HttpRequest,
    form: forms.Form | None,
    apply: Callable[[dict[str, Any]], Any],
    anchor: Callable[[Any], str],
    *,
    form_slot: str = "",
) -> HttpResponse:
    """The one path of every journey POST: read `form` (None: the change takes no fields),
    call the service (`apply`, given the cleaned fields) and go back to the page at
    `anchor(what it returned)`. Invalid fields are a 400 and a refused change its own status,
    both shown in words on the page (the form kept in `form_slot` with what was typed), and
    neither changes anything."""
    kept = {form_slot: form} if form_slot else {}
    if form is not None and not form.is_valid():
        problems = [p for messages in form.errors.values() for p in messages]
        return _journey_page(request, status=400, errors=problems, **kept)
    try:
        changed = apply(form.cleaned_data if form is not None else {})
    except ApplicationError as error:
        problems = [p for messages in error.fields.values() for p in messages] or [error.message]
        return _journey_page(request, status=error.status_code, errors=problems, **kept)
    return _back(anchor(changed))


@dataclass(frozen=True)
class Change:
    """One `action` of a stage's or touchpoint's edit POST: the form its fields are read with
    (None: no fields) and the service call, given the row, the cleaned fields and the user."""

    form: type[forms.Form] | None
    apply: Callable[[Any, dict[str, Any], Any], Any]


def _step(service: Callable[..., Any], noun: str, direction: str) -> Change:
    return Change(
        None, lambda row, _data, user: service(**{noun: row}, direction=direction, actor=user)
    )


def _update(service: Callable[..., Any], noun: str, **values: Any) -> Change:
    return Change(None, lambda row, _data, user: service(**{noun: row}, actor=user, **values))


STAGE_CHANGES = {
    "up": _step(stage_step, "stage", "up"),
    "down": _step(stage_step, "stage", "down"),
    "rename": Change(
        RenameForm,
        lambda stage, data, user: stage_update(stage=stage, name=data["name"], actor=user),
    ),
    "retire": _update(stage_update, "stage", retired=True),
    "restore": _update(stage_update, "stage", retired=False),
    "delete": Change(None, lambda stage, _data, user: stage_delete(stage=stage, actor=user)),
}

TOUCHPOINT_CHANGES = {
    "up": _step(touchpoint_step, "touchpoint", "up"),
    "down": _step(touchpoint_step, "touchpoint", "down"),
    "rename": Change(
        RenameForm,
        lambda touchpoint, data, user: touchpoint_update(
            touchpoint=touchpoint, name=data["name"], actor=user
        ),
    ),
    # A drop (the drag's POST): into `stage` (empty: no stage), at `position` there.
    "move": Change(
        MoveForm,
        lambda touchpoint, data, user: touchpoint_update(
            touchpoint=touchpoint,
            stage=stage_by_key(project=touchpoint.project, key=data["stage"]),
            position=data["position"],
            actor=user,
        ),
    ),
    "retire": _update(touchpoint_update, "touchpoint", retired=True),
    "restore": _update(touchpoint_update, "touchpoint", retired=False),
    "delete": Change(
        None, lambda touchpoint, _data, user: touchpoint_delete(touchpoint=touchpoint, actor=user)
    ),
}


def _edit(request: HttpRequest, row: Any, changes: dict[str, Change], anchor: str) -> HttpResponse:
    """The change named by `action`, applied to `row`; back at `anchor`, or at the top after
    a delete."""
    action = request.POST.get("action", "")
    change = changes.get(action)
    if change is None:
        return _journey_page(request, status=400, errors=[_("Unknown change.")])
    form = change.form(request.POST) if change.form is not None else None
    return _submit(
        request,
        form,
        lambda data: change.apply(row, data, request.user),
        lambda _changed: "" if action == "delete" else anchor,
    )


@require_POST
@project_view(DESIGN_ROLES)
def journey_stage_add(request: HttpRequest) -> HttpResponse:
    return _submit(
        request,
        StageForm(request.POST),
        lambda data: stage_create(
            project=request.access.project, key=data["key"], name=data["name"], actor=request.user
        ),
        lambda stage: f"stage-{stage.pk}",
        form_slot="stage_form",
    )


@require_POST
@project_view(DESIGN_ROLES)
def journey_stage_edit(request: HttpRequest, stage_id: int) -> HttpResponse:
    """`action`: one of STAGE_CHANGES (rename takes `name`)."""
    stage = get_object_or_404(JourneyStage, project=request.access.project, pk=stage_id)
    return _edit(request, stage, STAGE_CHANGES, f"stage-{stage.pk}")


@require_POST
@project_view(DESIGN_ROLES)
def journey_touchpoint_add(request: HttpRequest) -> HttpResponse:
    project = request.access.project
    return _submit(
        request,
        TouchpointForm(request.POST, project=project),
        lambda data: touchpoint_create(
            project=project,
            key=data["key"],
            name=data["name"],
            stage=data["stage"],
            channel=data["channel"],
            actor=request.user,
        ),
        lambda touchpoint: f"touchpoint-{touchpoint.pk}",
        form_slot="touchpoint_form",
    )


@require_POST
@project_view(DESIGN_ROLES)
def journey_touchpoint_edit(request: HttpRequest, touchpoint_id: int) -> HttpResponse:
    """`action`: one of TOUCHPOINT_CHANGES (rename takes `name`; move `stage` and
    `position`)."""
    touchpoint = get_object_or_404(Touchpoint, project=request.access.project, pk=touchpoint_id)
    return _edit(request, touchpoint, TOUCHPOINT_CHANGES, f"touchpoint-{touchpoint.pk}")
