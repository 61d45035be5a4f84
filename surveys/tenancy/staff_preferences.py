"""A staff user's own preferences: the project they chose last, where their next login lands.

Only the user's own actions write it (the project switcher, accepting an invitation): an
admin who adds somebody to a project, or changes their role, never moves where they land.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser

from surveys.tenancy.models import Membership, StaffPreference


def staff_project_remember(*, user: AbstractBaseUser, project_id: int) -> None:
    """Remember the project as the user's current one (they are a member: callers check)."""
    StaffPreference.objects.update_or_create(user=user, defaults={"current_project_id": project_id})


def staff_landing_project_id(*, user: AbstractBaseUser) -> int | None:
    """The project a login lands in: the one the user chose last while they are still a member
    of it; otherwise the first project they joined (not the lowest id, which anybody who
    created a project earlier and added them would own)."""
    memberships = Membership.objects.filter(user=user)
    chosen = (
        StaffPreference.objects.filter(user=user).values_list("current_project_id", flat=True)
    ).first()
    if chosen is not None and memberships.filter(project_id=chosen).exists():
        return chosen
    return memberships.order_by("created_at", "pk").values_list("project_id", flat=True).first()
