"""Breakdown values are personal data too (a segment can be a name or a company): on erasure
a person's responses keep their segment's attributes with the value "(erased)", and their
counts move from the old value's rollup cells to the erased bucket's, so every total — and a
rebuild from raw rows — stays exactly what it was (surveys.personal_data)."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence

from django.db.models import F

from feedback.models import Answer, Response
from metrics.models import Rollup
from metrics.rollups import CELL_COLUMNS, cells_for, cells_increment, rollups_lock
from surveys.models import Contact
from surveys.personal_data import ERASED, PersonalData


def _segments_erase(contacts: Sequence[Contact]) -> None:
    responses = list(
        Response.objects.filter(contact__in=contacts)
        .exclude(segment={})
        .select_related("touchpoint__stage", "project")
    )
    if not responses:
        return
    rollups_lock(responses[0].project_id, exclusive=False)
    counted = [r for r in responses if r.rolled_up_at is not None]
    answers: dict[int, list[Answer]] = defaultdict(list)
    for answer in Answer.objects.filter(response__in=counted).select_related("question"):
        answers[answer.response_id].append(answer)
    before: Counter = Counter()
    after: Counter = Counter()
    for response in responses:
        breakdown = list(response.project.breakdown_attributes or [])
        if response.rolled_up_at is not None:
            before.update(_breakdown_cells(response, answers[response.pk], breakdown))
        response.segment = {
            name: value if value in (None, "") else ERASED
            for name, value in response.segment.items()
        }
        if response.rolled_up_at is not None:
            after.update(_breakdown_cells(response, answers[response.pk], breakdown))
    Response.objects.bulk_update(responses, ["segment"], batch_size=500)
    _cells_decrement(before)
    cells_increment(after)


def _breakdown_cells(response: Response, answers: list[Answer], breakdown: list[str]) -> Counter:
    """The response's breakdown cells (the base cube does not carry segment values)."""
    return Counter(
        {
            key: n
            for key, n in cells_for(response, answers, breakdown).items()
            if dict(zip(CELL_COLUMNS, key, strict=True))["breakdown_attribute"] != ""
        }
    )


def _cells_decrement(counts: Counter) -> None:
    """Take counts out of existing cells (one UPDATE per cell: a person has few), dropping cells
    that reach zero."""
    for key, n in sorted(counts.items()):
        cell = dict(zip(CELL_COLUMNS, key, strict=True))
        cell["question_uid"] = str(cell["question_uid"])
        cells = Rollup.objects.filter(**{k: v for k, v in cell.items() if k != "project_id"})
        cells.update(count=F("count") - n)
        cells.filter(count__lte=0).delete()


def _segments_export(contacts: Sequence[Contact]) -> None:
    """Segments are exported with the responses they belong to (feedback.personal_data)."""
    return None


METRICS_PERSONAL_DATA = (PersonalData("segments", _segments_export, _segments_erase),)
