"""The finished responses one processing run works on: read once, handed to every step.

Every finished response goes through the steps of the pipeline (feedback.answering.pipeline),
and each used to read the response and its answers again, in its own shape: about half of the
worker's statements per response, most of its CPU being the ORM building those queries. A
`ResponseBatch` reads the finished responses once, with everything the steps look at
(project, survey, version, touchpoint and its stage, contact, answers with their questions),
and the pipeline passes it to each step with the response's id. A step called on its own (a
replay, the demo seed) is given none and reads its one response.

A step that needs something per batch rather than per response keeps it on the batch
(`memo`): the project's webhook endpoints (feedback.webhooks), the contacts with a case that
may be recovered (feedback.cases). What the steps write is not in these instances (tags,
cases, sentiment), so a step that needs another's writes reads them itself.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from typing import Any, TypeVar

from django.db.models import Prefetch, QuerySet

from feedback.answering.models import Answer, Response

T = TypeVar("T")


_RELATED = ("project", "survey", "version", "touchpoint__stage", "contact")


def _finished(*, batch: bool = False) -> QuerySet[Response]:
    """Finished responses with what the hooks read. A batch reads the related rows with one
    query per table (`WHERE id IN …`) instead of joining them: the six-table join by a list of
    ids was planned from the small tables' statistics, and on a young database (a project
    counted as one row, four surveys) PostgreSQL walked the whole survey index of the
    responses once per project — 0.6–1.4 s per batch of 400 at 185,000 responses, where the
    separate reads take a few ms whatever the statistics say (the answers likewise: joined to
    their questions, they were read through the question index, ~25 ms). The batch's
    responses also share one project, survey and version object instead of a copy each."""
    responses = Response.objects.filter(finished=True)
    if batch:
        responses = responses.prefetch_related(*_RELATED)
        return responses.prefetch_related(
            Prefetch("answers", queryset=Answer.objects.order_by("pk")), "answers__question"
        )
    responses = responses.select_related(*_RELATED)
    return responses.prefetch_related(
        Prefetch("answers", queryset=Answer.objects.select_related("question").order_by("pk"))
    )


class ResponseBatch:
    """Finished responses by id, and what the steps computed once for all of them."""

    def __init__(self, responses: Iterable[Response]) -> None:
        self._responses = {response.pk: response for response in responses}
        self._memo: dict[Hashable, Any] = {}

    @classmethod
    def load(cls, response_ids: Sequence[int]) -> ResponseBatch:
        """The finished ones among these responses (one read per related table)."""
        return cls(_finished(batch=True).filter(pk__in=list(response_ids)))

    @classmethod
    def of(cls, response_id: int) -> ResponseBatch:
        """A batch of one, for a step called on its own."""
        return cls(_finished().filter(pk=response_id))

    def get(self, response_id: int) -> Response | None:
        """The finished response (None if it is unknown or not finished)."""
        return self._responses.get(response_id)

    def __iter__(self) -> Iterator[Response]:
        return iter(self._responses.values())

    def memo(self, key: Hashable, load: Callable[[], T]) -> T:
        """`load()` once per batch, kept under `key` (name it after the concern that owns it)."""
        if key not in self._memo:
            self._memo[key] = load()
        return self._memo[key]


def finished_response(response_id: int, batch: ResponseBatch | None) -> Response | None:
    """The response from the batch the pipeline passed, or read now for a step called alone."""
    return (batch if batch is not None else ResponseBatch.of(response_id)).get(response_id)
