"""Delivery's raw rows under data retention (surveys.tenancy.retention): e-mail invitations and
displays older than the project's cut-off.

A scheduled invitation is never expired (it is work still to do). Deleting a display unlinks
the response or invitation still pointing at it (their `display` is set null)."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.db.models import QuerySet

from surveys.delivery.models import Display, Invitation, InvitationStatus
from surveys.tenancy.models import Project
from surveys.tenancy.retention import RetainedRows


def _expired_invitations(project: Project, cutoff: datetime) -> QuerySet[Invitation]:
    return Invitation.objects.filter(project=project, created_at__lt=cutoff).exclude(
        status=InvitationStatus.SCHEDULED
    )


def _expired_displays(project: Project, cutoff: datetime) -> QuerySet[Display]:
    return Display.objects.filter(project=project, created_at__lt=cutoff)


def _oldest_deleted(queryset: QuerySet, limit: int) -> int:
    """Delete the `limit` oldest rows of `queryset` in one transaction; how many went."""
    with transaction.atomic():
        ids = list(queryset.order_by("created_at").values_list("pk", flat=True)[:limit])
        if not ids:
            return 0
        _, per_model = queryset.model.objects.filter(pk__in=ids).delete()
        return per_model.get(queryset.model._meta.label, 0)


DELIVERY_RETAINED_ROWS = (
    RetainedRows(
        name="invitations",
        count=lambda project, cutoff: _expired_invitations(project, cutoff).count(),
        delete=lambda project, cutoff, limit: _oldest_deleted(
            _expired_invitations(project, cutoff), limit
        ),
    ),
    RetainedRows(
        name="displays",
        count=lambda project, cutoff: _expired_displays(project, cutoff).count(),
        delete=lambda project, cutoff, limit: _oldest_deleted(
            _expired_displays(project, cutoff), limit
        ),
    ),
)
