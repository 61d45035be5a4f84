"""Writes for the journey: stages and touchpoints."""

from __future__ import annotations

from surveys.journey.models import JourneyStage, Touchpoint
from surveys.tenancy.models import Project
from vocsite.errors import ApplicationError


def stage_create(*, project: Project, key: str, name: str, position: int = 0) -> JourneyStage:
    stage = JourneyStage(project=project, key=key, name=name, position=position)
    stage.full_clean()
    stage.save()
    return stage


def touchpoint_create(
    *,
    project: Project,
    key: str,
    name: str,
    stage: JourneyStage | None = None,
    channel: str = "web",
    description: str = "",
    position: int = 0,
) -> Touchpoint:
    if stage is not None and stage.project_id != project.pk:
        raise ApplicationError("invalid", "Unknown stage.", {"stage": ["Unknown stage."]})
    if Touchpoint.objects.filter(project=project, key=key).exists():
        raise ApplicationError(
            "conflict",
            "A touchpoint with this key already exists.",
            {"key": ["A touchpoint with this key already exists."]},
            status_code=409,
        )
    touchpoint = Touchpoint(
        project=project,
        key=key,
        name=name,
        stage=stage,
        channel=channel,
        description=description,
        position=position,
    )
    touchpoint.full_clean(validate_unique=False)
    touchpoint.save()
    return touchpoint
