"""Reads about tenancy: which project allows an origin, who works a team's cases."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import connection
from django.db.models import Q

from surveys.tenancy.models import Membership, Project, Team, TeamMembership
from surveys.tenancy.roles import ASSIGNABLE_ROLES


def origin_allowed_by_any_project(*, origin: str) -> bool:
    """Whether some project lists this origin (a CORS preflight carries no key).

    One indexed JSON containment query on PostgreSQL; SQLite (the embedded default, a handful
    of projects) has no JSON containment, so the lists are scanned there. Not cached: browsers
    cache the preflight for 10 minutes, and a stale "no" would break a freshly added site."""
    if connection.vendor == "postgresql":
        return Project.objects.filter(
            Q(allowed_origins__contains=[origin]) | Q(allowed_origins__contains=[origin + "/"])
        ).exists()
    return any(
        origin == allowed.strip().rstrip("/").lower()
        for origins in Project.objects.values_list("allowed_origins", flat=True)
        for allowed in origins or []
        if isinstance(allowed, str)
    )


def team_agents(team: Team) -> list[AbstractBaseUser]:
    """Team members who can work cases in the team's project, in a stable order."""
    member_ids = TeamMembership.objects.filter(team=team).values_list("user_id", flat=True)
    allowed = Membership.objects.filter(
        project_id=team.project_id, role__in=ASSIGNABLE_ROLES, user_id__in=member_ids
    ).values_list("user_id", flat=True)
    return list(get_user_model().objects.filter(pk__in=allowed, is_active=True).order_by("pk"))


def usernames_by_id(user_ids: set[int]) -> dict[int, str]:
    """User names for the ids an audit page names (a removed member's name included)."""
    if not user_ids:
        return {}
    users = get_user_model().objects.filter(pk__in=user_ids)
    return {user.pk: user.get_username() for user in users}
