"""Responses under data retention (surveys.tenancy.retention): a response and its answers (and
their topic tags) older than the project's cut-off are deleted once the history holds them.

What the history still needs is never expired: a finished response is deleted only once it
is counted into the rollups (`rolled_up_at`) and every processing step ran (`processed_at`,
so cases, webhooks and topics saw it; a quarantined one waits for its replay). An unfinished
response (abandoned half-way, never counted) expires by its start. A survey with a response
cap that may still collect keeps its responses, since decide counts them to hold the cap.

Cases outlive the answers that opened them: a case is follow-up work with its own history
(events, notes, resolution), so its link to a deleted response is dropped (`response` and
`recovered_by_response` set null) and the case page shows it without the answers.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.db.models import Q, QuerySet

from feedback.answering.models import Response
from feedback.cases.models import Case
from surveys.design.models import SurveyStatus
from surveys.tenancy.models import Project
from surveys.tenancy.retention import RetainedRows


def _expired_responses(project: Project, cutoff: datetime) -> QuerySet[Response]:
    counted = Q(
        finished=True,
        finished_at__lt=cutoff,
        rolled_up_at__isnull=False,
        processed_at__isnull=False,
    )
    return (
        Response.objects.filter(project=project, created_at__lt=cutoff)
        .filter(Q(finished=False) | counted)
        .exclude(Q(survey__response_cap__isnull=False) & ~Q(survey__status=SurveyStatus.CLOSED))
    )


def responses_expired_count(project: Project, cutoff: datetime) -> int:
    return _expired_responses(project, cutoff).count()


def responses_expired_delete(project: Project, cutoff: datetime, limit: int) -> int:
    """Delete the `limit` oldest expired responses with their answers, in one transaction."""
    with transaction.atomic():
        ids = list(
            _expired_responses(project, cutoff)
            .order_by("created_at")
            .values_list("pk", flat=True)[:limit]
        )
        if not ids:
            return 0
        Case.objects.filter(response_id__in=ids).update(response=None)
        _, per_model = Response.objects.filter(pk__in=ids).delete()
        return per_model.get(Response._meta.label, 0)


FEEDBACK_RETAINED_ROWS = (
    RetainedRows(name="responses", count=responses_expired_count, delete=responses_expired_delete),
)
