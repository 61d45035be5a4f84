"""Breakdown values are personal data too (a segment can be a name or a company): on erasure
a person's responses keep their segment's attributes with the value "(erased)", and the
breakdown cells of the surveys they answered are recounted from the rows, so their counts sit
in the erased bucket and every total — and a rebuild from raw rows — stays exactly what it was
(surveys.contacts.personal_data).

Recounting (rather than moving the person's counts cell by cell) holds whatever changed since
the answers were first counted — a touchpoint moved to another stage, an attribute added — and
it runs under the project's exclusive rollup lock, so an answer being counted at that moment is
either already in the cells or waits and is counted with its new segment."""

from __future__ import annotations

from collections.abc import Sequence

from feedback.answering.models import Response
from metrics.rollups.services import rollups_recount_breakdowns
from metrics.rollups.sql import rollups_lock
from surveys.contacts.models import Contact
from surveys.contacts.personal_data import ERASED, PersonalData


def _segments_erase(contacts: Sequence[Contact]) -> None:
    if not contacts:
        return
    project = contacts[0].project
    rollups_lock(project.pk, exclusive=True)  # before reading: no count is in flight now
    responses = list(
        Response.objects.filter(contact__in=contacts).exclude(segment={}).only("pk", "segment")
    )
    if not responses:
        return
    for response in responses:
        response.segment = {
            name: value if value in (None, "") else ERASED
            for name, value in response.segment.items()
        }
    Response.objects.bulk_update(responses, ["segment"], batch_size=500)
    survey_ids = sorted(
        set(
            Response.objects.filter(pk__in=[r.pk for r in responses]).values_list(
                "survey_id", flat=True
            )
        )
    )
    rollups_recount_breakdowns(project=project, survey_ids=survey_ids)


def _segments_export(contacts: Sequence[Contact]) -> None:
    """Segments are exported with the responses they belong to (feedback.personal_data)."""
    return None


METRICS_PERSONAL_DATA = (PersonalData("segments", _segments_export, _segments_erase),)
