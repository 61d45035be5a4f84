"""Project settings, members and teams: the admin's side of the workspace, every change audited.

Kept apart from `surveys.services` (journey and survey design) because these are about who
may do what and how the project behaves as a whole.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable, Mapping, Sequence
from functools import cache
from typing import Any
from urllib.parse import urlsplit

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils.translation import gettext

from surveys.tenancy.models import (
    Membership,
    Project,
    Role,
    Team,
    TeamMembership,
    new_identity_secret,
)
from surveys.tenancy.roles import ADMIN_ROLES
from surveys.tenancy.services import audit_record
from surveys.tenancy.theme import theme_errors
from vocsite import caches
from vocsite.errors import ApplicationError
from vocsite.registry import Registry

PROJECT_SETTINGS = (
    "name",
    "allowed_origins",
    "languages",
    "default_language",
    "recontact_days",
    "frequency_cap",
    "frequency_window_days",
    "breakdown_attributes",
    "feedback_tab_enabled",
    "feedback_tab_label",
    "theme",
    "identity_verification",
    "timezone",
    "retention_months",
)

# What a change of one setting makes a higher app redo, keyed by the setting: metrics cuts
# its rollup days in the project's timezone and splits them by the breakdown attributes, so a
# new timezone or a new list of attributes rebuilds them. Each is called after commit with
# the project's id.
PROJECT_SETTING_CHANGED: Registry[Callable[[int], None]] = Registry(
    "what a changed project setting redoes", expected=("timezone", "breakdown_attributes")
)


@cache
def timezone_names() -> tuple[str, ...]:
    """The IANA timezone names a project may use (Settings offers them; the service checks)."""
    return tuple(sorted(zoneinfo.available_timezones()))


def _settings_snapshot(project: Project) -> dict[str, Any]:
    return {name: getattr(project, name) for name in PROJECT_SETTINGS}


def _origin_errors(origins: Sequence[str]) -> list[str]:
    bad = []
    for origin in origins:
        parts = urlsplit(origin)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.path not in ("", "/"):
            bad.append(
                gettext("“%(origin)s” is not an origin like https://shop.example.com.")
                % {"origin": origin}
            )
    return bad


def _retention_valid(months: Any) -> bool:
    """None keeps everything; otherwise a whole number of months, 1 to 120."""
    if months is None:
        return True
    return isinstance(months, int) and not isinstance(months, bool) and 1 <= months <= 120


@transaction.atomic
def project_update(
    *, project: Project, actor: AbstractBaseUser | None = None, **values: Any
) -> Project:
    unknown = set(values) - set(PROJECT_SETTINGS)
    if unknown:
        raise ApplicationError(
            "invalid",
            gettext("Unknown settings: %(names)s.") % {"names": ", ".join(sorted(unknown))},
        )
    errors: dict[str, list[str]] = {}
    if "allowed_origins" in values:
        values["allowed_origins"] = [o.strip().rstrip("/") for o in values["allowed_origins"]]
        if problems := _origin_errors(values["allowed_origins"]):
            errors["allowed_origins"] = problems
    languages = values.get("languages", project.languages) or []
    default = values.get("default_language", project.default_language)
    if "languages" in values and not languages:
        errors["languages"] = [gettext("At least one language.")]
    elif default not in languages:
        errors["default_language"] = [gettext("The default language must be one of the languages.")]
    if "breakdown_attributes" in values and len(values["breakdown_attributes"]) > 10:
        errors["breakdown_attributes"] = [gettext("At most 10: each multiplies the rollups.")]
    if "theme" in values:
        errors.update(theme_errors(values["theme"]))
    if "timezone" in values and values["timezone"] not in timezone_names():
        errors["timezone"] = [
            gettext("An IANA timezone name such as UTC, Europe/Berlin or Asia/Shanghai.")
        ]
    if "retention_months" in values and not _retention_valid(values["retention_months"]):
        errors["retention_months"] = [gettext("Empty (keep everything) or 1 to 120 months.")]
    if errors:
        raise ApplicationError("invalid", gettext("The settings are not valid."), errors)
    before = _settings_snapshot(project)
    for name, value in values.items():
        setattr(project, name, value)
    project.full_clean()
    project.save()
    caches.project_forget(project_id=project.pk)
    after = _settings_snapshot(project)
    audit_record(
        project=project,
        action="project.updated",
        obj=project,
        actor=actor,
        before=before,
        after=after,
    )
    changed = [name for name in PROJECT_SETTINGS if before[name] != after[name]]
    hooks = [redo for name, redo in PROJECT_SETTING_CHANGED.items() if name in changed]
    for hook in hooks:
        transaction.on_commit(lambda hook=hook: hook(project.pk), robust=True)
    return project


@transaction.atomic
def project_identity_secret_rotate(
    *, project: Project, actor: AbstractBaseUser | None = None
) -> Project:
    """A new identity secret: user hashes made with the old one stop verifying at once, so the
    company's server must switch to the new secret (Settings says so). The audit log records
    the rotation, never the secret."""
    project.identity_secret = new_identity_secret()
    project.save(update_fields=["identity_secret", "updated_at"])
    caches.project_forget(project_id=project.pk)
    audit_record(
        project=project, action="project.identity_secret_rotated", obj=project, actor=actor
    )
    return project


def _admins_left(project: Project, excluding: Membership) -> bool:
    return (
        Membership.objects.filter(project=project, role__in=ADMIN_ROLES)
        .exclude(pk=excluding.pk)
        .exists()
    )


@transaction.atomic
def member_set_role(
    *, membership: Membership, role: str, actor: AbstractBaseUser | None = None
) -> Membership:
    if role not in Role.values:
        raise ApplicationError(
            "invalid",
            gettext("Unknown role."),
            {"role": [gettext("One of %(roles)s.") % {"roles": Role.values}]},
        )
    membership = Membership.objects.select_for_update().get(pk=membership.pk)
    demoted = membership.role in ADMIN_ROLES and role not in ADMIN_ROLES
    if demoted and not _admins_left(membership.project, membership):
        raise ApplicationError(
            "invalid",
            gettext("A project keeps at least one admin."),
            {"role": [gettext("Last admin.")]},
        )
    before = membership.role
    membership.role = role
    membership.save(update_fields=["role", "updated_at"])
    audit_record(
        project=membership.project,
        action="membership.updated",
        obj=membership,
        actor=actor,
        before={"role": before},
        after={"role": role},
    )
    return membership


@transaction.atomic
def member_remove(*, membership: Membership, actor: AbstractBaseUser | None = None) -> None:

    if membership.role in ADMIN_ROLES and not _admins_left(membership.project, membership):
        raise ApplicationError("invalid", gettext("A project keeps at least one admin."))
    TeamMembership.objects.filter(team__project=membership.project, user=membership.user).delete()
    audit_record(
        project=membership.project,
        action="membership.deleted",
        obj=membership,
        actor=actor,
        before={"user": membership.user.get_username(), "role": membership.role},
    )
    membership.delete()


@transaction.atomic
def team_save(
    *,
    project: Project,
    name: str,
    member_ids: Sequence[int],
    lead_id: int | None = None,
    email: str = "",
    team=None,
    actor: AbstractBaseUser | None = None,
):
    """Create or update a team; its members and lead must be members of the project."""

    allowed = set(Membership.objects.filter(project=project).values_list("user_id", flat=True))
    strangers = [i for i in [*member_ids, *([lead_id] if lead_id else [])] if i not in allowed]
    if strangers:
        raise ApplicationError(
            "invalid",
            gettext("Only project members can be in a team."),
            {"members": [gettext("Not a member.")]},
        )
    if not name.strip():
        raise ApplicationError(
            "invalid", gettext("Name the team."), {"name": [gettext("Required.")]}
        )
    before: Mapping[str, Any] | None = None
    if team is None:
        team = Team(project=project)
    else:
        before = {
            "name": team.name,
            "lead": team.lead_id,
            "members": sorted(team.memberships.values_list("user_id", flat=True)),
        }
    team.name, team.lead_id, team.email = name.strip(), lead_id, email
    team.full_clean(exclude=["project"])
    team.save()
    TeamMembership.objects.filter(team=team).exclude(user_id__in=member_ids).delete()
    for user_id in member_ids:
        TeamMembership.objects.get_or_create(team=team, user_id=user_id)
    caches.alert_rules_forget(project_id=project.pk)  # the rules routing to it hold the team
    audit_record(
        project=project,
        action="team.updated" if before else "team.created",
        obj=team,
        actor=actor,
        before=before,
        after={"name": team.name, "lead": lead_id, "members": sorted(member_ids)},
    )
    return team
