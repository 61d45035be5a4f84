"""Writes for the journey: stages and touchpoints created, renamed, reordered and retired.

Keys never change: the host app sends a touchpoint's key (`voc.track(key)`) and the rollups
keep history under the touchpoint's and the stage's keys, so renaming changes the name only.

Order: stages by `position`; touchpoints by `position` within their stage. A move renumbers
the siblings 0…n−1, so positions stay dense and "up"/"down" always swap neighbours.

Retiring: a touchpoint with history (displays, decisions, responses, invitations, surveys or
alert rules pointing at it) cannot be deleted — its rows would lose their touchpoint and the
metrics their journey place. It is retired instead: decide answers `touchpoint_retired`, the
designer stops offering it, and its history stays in every dashboard. Restoring undoes it.
A stage is retired the same way: none of its touchpoints offers a survey (decide answers
`stage_retired`) and it keeps its place and its touchpoints until restored. A stage is deleted
only when it holds no touchpoint.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext, ngettext

from surveys.journey.models import JourneyStage, Touchpoint
from surveys.tenancy.models import Channel, Project
from surveys.tenancy.services import audit_record
from vocsite import caches
from vocsite.errors import ApplicationError


class _Unchanged:
    """The default of an argument that may be set to None on purpose (a touchpoint's stage)."""


UNCHANGED = _Unchanged()


def _invalid(field: str, message: str) -> ApplicationError:
    return ApplicationError("invalid", message, {field: [message]})


def _name_checked(name: str, *, limit: int) -> str:
    name = (name or "").strip()
    if not name:
        raise _invalid("name", gettext("A name is required."))
    if len(name) > limit:
        raise _invalid(
            "name",
            ngettext("At most %(limit)s character.", "At most %(limit)s characters.", limit)
            % {"limit": limit},
        )
    return name


def _next_position(queryset) -> int:
    last = queryset.aggregate(last=Max("position"))["last"]
    return 0 if last is None else last + 1


def _renumber(ordered: list[Any]) -> None:
    for index, row in enumerate(ordered):
        if row.position != index:
            row.position = index
            row.save(update_fields=["position", "updated_at"])


def _moved(ordered: list[Any], row: Any, position: int) -> list[Any]:
    """`ordered` with `row` taken out and put back at `position` (clamped to the ends)."""
    rest = [r for r in ordered if r.pk != row.pk]
    rest.insert(max(0, min(position, len(rest))), row)
    return rest


# ---------------------------------------------------------------- stages


def stage_create(
    *,
    project: Project,
    key: str,
    name: str,
    position: int | None = None,
    description: str = "",
    actor: AbstractBaseUser | None = None,
) -> JourneyStage:
    """A stage, last in the journey unless `position` says where."""
    if JourneyStage.objects.filter(project=project, key=key).exists():
        raise ApplicationError(
            "conflict",
            gettext("A stage with this key already exists."),
            {"key": [gettext("A stage with this key already exists.")]},
            status_code=409,
        )
    if position is None:
        position = _next_position(JourneyStage.objects.filter(project=project))
    stage = JourneyStage(
        project=project,
        key=key,
        name=_name_checked(name, limit=100),
        position=position,
        description=description,
    )
    stage.full_clean(validate_unique=False)
    stage.save()
    if actor is not None:
        audit_record(
            project=project, action="stage.created", obj=stage, actor=actor, after={"key": key}
        )
    return stage


def _stage_state(stage: JourneyStage) -> dict[str, Any]:
    return {
        "name": stage.name,
        "position": stage.position,
        "retired": stage.retired_at is not None,
    }


@transaction.atomic
def stage_update(
    *,
    stage: JourneyStage,
    actor: AbstractBaseUser | None = None,
    name: str | None = None,
    description: str | None = None,
    position: int | None = None,
    retired: bool | None = None,
) -> JourneyStage:
    """Rename or describe a stage, move it to `position` (0 = first), retire or restore it.

    A retired stage offers no survey at any of its touchpoints (decide answers
    `stage_retired`); it keeps its place, its touchpoints and their history."""
    before = _stage_state(stage)
    if name is not None:
        stage.name = _name_checked(name, limit=100)
    if description is not None:
        stage.description = description
    if retired is not None and retired != (stage.retired_at is not None):
        stage.retired_at = timezone.now() if retired else None
    stage.save(update_fields=["name", "description", "retired_at", "updated_at"])
    if position is not None:
        siblings = list(JourneyStage.objects.filter(project_id=stage.project_id))
        _renumber(_moved(siblings, stage, position))
        stage.refresh_from_db(fields=["position"])
    after = _stage_state(stage)
    if after["retired"] != before["retired"]:
        # Decide and e-mail invitations read each touchpoint with its stage from memory.
        caches.touchpoint_surveys_forget(project_id=stage.project_id)
    audit_record(
        project=stage.project,
        action="stage.updated",
        obj=stage,
        actor=actor,
        before=before,
        after=after,
    )
    return stage


@transaction.atomic
def stage_delete(*, stage: JourneyStage, actor: AbstractBaseUser | None = None) -> None:
    """Delete a stage that holds no touchpoint; one that does is refused with 409
    `stage_has_touchpoints` (move them out or retire the stage instead), so no touchpoint
    loses its place in the journey."""
    held = Touchpoint.objects.filter(stage=stage).count()
    if held:
        message = ngettext(
            "The stage %(key)s holds %(count)d touchpoint and cannot be deleted. Move it to "
            "another stage first, or retire the stage instead.",
            "The stage %(key)s holds %(count)d touchpoints and cannot be deleted. Move them to "
            "another stage first, or retire the stage instead.",
            held,
        ) % {"key": stage.key, "count": held}
        raise ApplicationError("stage_has_touchpoints", message, status_code=409)
    project = stage.project
    siblings = list(JourneyStage.objects.filter(project=project).exclude(pk=stage.pk))
    audit_record(
        project=project,
        action="stage.deleted",
        obj=stage,
        actor=actor,
        before=_stage_state(stage) | {"key": stage.key},
    )
    stage.delete()
    _renumber(siblings)


# ---------------------------------------------------------------- touchpoints


def touchpoint_create(
    *,
    project: Project,
    key: str,
    name: str,
    stage: JourneyStage | None = None,
    channel: str = "web",
    description: str = "",
    position: int | None = None,
    actor: AbstractBaseUser | None = None,
) -> Touchpoint:
    """A touchpoint, last in its stage unless `position` says where."""
    if stage is not None and stage.project_id != project.pk:
        raise _invalid("stage", gettext("Unknown stage."))
    if Touchpoint.objects.filter(project=project, key=key).exists():
        raise ApplicationError(
            "conflict",
            gettext("A touchpoint with this key already exists."),
            {"key": [gettext("A touchpoint with this key already exists.")]},
            status_code=409,
        )
    if position is None:
        position = _next_position(Touchpoint.objects.filter(project=project, stage=stage))
    touchpoint = Touchpoint(
        project=project,
        key=key,
        name=_name_checked(name, limit=200),
        stage=stage,
        channel=channel,
        description=description,
        position=position,
    )
    touchpoint.full_clean(validate_unique=False)
    touchpoint.save()
    if actor is not None:
        audit_record(
            project=project,
            action="touchpoint.created",
            obj=touchpoint,
            actor=actor,
            after={"key": key, "name": touchpoint.name},
        )
    return touchpoint


def _touchpoint_state(touchpoint: Touchpoint) -> dict[str, Any]:
    return {
        "name": touchpoint.name,
        "stage": touchpoint.stage.key if touchpoint.stage_id else None,
        "channel": touchpoint.channel,
        "position": touchpoint.position,
        "retired": touchpoint.retired_at is not None,
    }


def _stage_siblings(touchpoint: Touchpoint) -> list[Touchpoint]:
    return list(
        Touchpoint.objects.filter(
            project_id=touchpoint.project_id, stage_id=touchpoint.stage_id
        ).order_by("position", "id")
    )


@transaction.atomic
def touchpoint_update(
    *,
    touchpoint: Touchpoint,
    actor: AbstractBaseUser | None = None,
    name: str | None = None,
    description: str | None = None,
    channel: str | None = None,
    stage: JourneyStage | _Unchanged | None = UNCHANGED,
    position: int | None = None,
    retired: bool | None = None,
) -> Touchpoint:
    """Rename, describe, re-channel, move to another stage (`stage`, None for no stage; left
    as is when not given), move within its stage (`position`, 0 = first), retire or restore.

    Everything is checked before anything is written: bad input changes nothing."""
    before = _touchpoint_state(touchpoint)
    if isinstance(stage, JourneyStage) and stage.project_id != touchpoint.project_id:
        raise _invalid("stage", gettext("Unknown stage."))
    if channel is not None and channel not in Channel.values:
        raise _invalid(
            "channel", gettext("One of %(names)s.") % {"names": ", ".join(Channel.values)}
        )
    if name is not None:
        touchpoint.name = _name_checked(name, limit=200)
    if description is not None:
        touchpoint.description = description
    if channel is not None:
        touchpoint.channel = channel
    if stage is not UNCHANGED and stage != touchpoint.stage:
        old_siblings = [t for t in _stage_siblings(touchpoint) if t.pk != touchpoint.pk]
        touchpoint.stage = stage
        touchpoint.position = _next_position(
            Touchpoint.objects.filter(project_id=touchpoint.project_id, stage=stage)
        )
        _renumber(old_siblings)
    if retired is not None and retired != (touchpoint.retired_at is not None):
        touchpoint.retired_at = timezone.now() if retired else None
    touchpoint.save(
        update_fields=[
            "name",
            "description",
            "channel",
            "stage",
            "position",
            "retired_at",
            "updated_at",
        ]
    )
    if position is not None:
        _renumber(_moved(_stage_siblings(touchpoint), touchpoint, position))
        touchpoint.refresh_from_db(fields=["position"])
    # Decide and e-mail invitations read the touchpoint (and whether it is retired) from memory.
    caches.touchpoint_surveys_forget(project_id=touchpoint.project_id)
    after = _touchpoint_state(touchpoint)
    audit_record(
        project=touchpoint.project,
        action="touchpoint.updated",
        obj=touchpoint,
        actor=actor,
        before={k: v for k, v in before.items() if after[k] != v},
        after={k: v for k, v in after.items() if before[k] != v},
    )
    return touchpoint


def touchpoint_step(
    *, touchpoint: Touchpoint, direction: str, actor: AbstractBaseUser | None = None
) -> Touchpoint:
    """One place up (`"up"`) or down (`"down"`) within its stage: the no-JavaScript reorder."""
    if direction not in ("up", "down"):
        raise _invalid("direction", gettext("Up or down."))
    siblings = _stage_siblings(touchpoint)
    index = next(i for i, t in enumerate(siblings) if t.pk == touchpoint.pk)
    target = index - 1 if direction == "up" else index + 1
    return touchpoint_update(touchpoint=touchpoint, actor=actor, position=max(0, target))


def stage_step(
    *, stage: JourneyStage, direction: str, actor: AbstractBaseUser | None = None
) -> JourneyStage:
    """One place earlier (`"up"`) or later (`"down"`) in the journey."""
    if direction not in ("up", "down"):
        raise _invalid("direction", gettext("Up or down."))
    siblings = list(JourneyStage.objects.filter(project_id=stage.project_id))
    index = next(i for i, s in enumerate(siblings) if s.pk == stage.pk)
    target = index - 1 if direction == "up" else index + 1
    return stage_update(stage=stage, actor=actor, position=max(0, target))


def touchpoint_has_history(touchpoint: Touchpoint) -> bool:
    """Whether any row points at the touchpoint (a display, decision, response, invitation,
    survey, alert rule…): found through the model's reverse relations, so a relation added
    in a higher app counts without this module importing it."""
    for relation in Touchpoint._meta.related_objects:
        manager = relation.related_model._default_manager
        if manager.filter(**{relation.field.name: touchpoint}).exists():
            return True
    return False


@transaction.atomic
def touchpoint_delete(*, touchpoint: Touchpoint, actor: AbstractBaseUser | None = None) -> None:
    """Delete a touchpoint nothing points at; one with history is refused with 409
    `touchpoint_has_history` (retire it instead), so no answer loses its journey place."""
    if touchpoint_has_history(touchpoint):
        raise ApplicationError(
            "touchpoint_has_history",
            gettext(
                "The touchpoint %(key)s has history (surveys, displays or answers) and "
                "cannot be deleted. Retire it instead: it stops being offered and its history "
                "stays in the metrics."
            )
            % {"key": touchpoint.key},
            status_code=409,
        )
    project = touchpoint.project
    siblings = [t for t in _stage_siblings(touchpoint) if t.pk != touchpoint.pk]
    audit_record(
        project=project,
        action="touchpoint.deleted",
        obj=touchpoint,
        actor=actor,
        before=_touchpoint_state(touchpoint),
    )
    touchpoint.delete()
    _renumber(siblings)
    caches.touchpoint_surveys_forget(project_id=project.pk)
