"""The responses a pipeline batch works on, read once for all of its hooks.

Every finished response goes through five hooks (feedback.answering.pipeline.RESPONSE_HOOKS), and each
used to read the response and its answers again, in its own shape: about half of the worker's
statements per response, most of its CPU being the ORM building those queries and rows.
Inside `responses_loaded(ids)` — the pipeline opens it around a batch's hooks — the finished
responses are read once, with everything the hooks look at (project, survey, version,
touchpoint and its stage, contact, answers with their questions), and `finished_response`
hands the same instances to every hook. Outside it (a hook called on its own), it reads the
one response.

The project's active webhook endpoints are read once per batch too (`active_endpoints`):
every response asks whether anyone subscribed to `response.finished`, every case opened
emits `case.opened`. So are the batch's contacts that have a resolved or closed case not yet
recovered (`may_recover`): every happy answer asked, with a query of its own, and almost
always heard no.

What the hooks write is not in these instances: tags, cases, the answers' sentiment (kept up
to date on the instances by the tagging hook), so a hook that needs another's writes reads
them itself (cases read the tags). A finished response and its answers no longer change.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar

from django.db.models import Prefetch, QuerySet

from feedback.answering.models import Answer, Response
from feedback.cases.models import Case, CaseStatus
from feedback.webhooks.models import WebhookEndpoint

_loaded: ContextVar[dict[int, Response] | None] = ContextVar("responses_loaded", default=None)
_endpoints: ContextVar[dict[int, list[WebhookEndpoint]] | None] = ContextVar(
    "batch_endpoints", default=None
)
_recoverable: ContextVar[set[int] | None] = ContextVar("batch_recoverable", default=None)


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


@contextmanager
def responses_loaded(response_ids: Sequence[int]) -> Iterator[None]:
    """Read these finished responses once, for every `finished_response` call inside."""
    loaded = {r.pk: r for r in _finished(batch=True).filter(pk__in=list(response_ids))}
    token = _loaded.set(loaded)
    endpoints_token = _endpoints.set({})
    recoverable_token = _recoverable.set(_recoverable_contacts(loaded.values()))
    try:
        yield
    finally:
        _recoverable.reset(recoverable_token)
        _endpoints.reset(endpoints_token)
        _loaded.reset(token)


def _recoverable_contacts(responses) -> set[int]:
    contact_ids = {r.contact_id for r in responses if r.contact_id is not None}
    if not contact_ids:
        return set()
    return set(
        Case.objects.filter(
            contact_id__in=contact_ids,
            status__in=(CaseStatus.RESOLVED, CaseStatus.CLOSED),
            recovered=False,
        ).values_list("contact_id", flat=True)
    )


def finished_response(response_id: int) -> Response | None:
    """The finished response with its related rows and answers (None if it is unknown or not
    finished): the batch's instance inside `responses_loaded`, else read now."""
    loaded = _loaded.get()
    if loaded is not None and response_id in loaded:
        return loaded[response_id]
    return _finished().filter(pk=response_id).first()


def active_endpoints(project_id: int | None) -> list[WebhookEndpoint]:
    """The project's active webhook endpoints: read once per batch inside `responses_loaded`,
    else read now."""
    cache = _endpoints.get()
    if cache is not None and project_id in cache:
        return cache[project_id]  # no queryset built: that alone was most of a call's cost
    endpoints = list(
        WebhookEndpoint.objects.filter(project_id=project_id, is_active=True).order_by("pk")
    )
    if cache is not None and project_id is not None:
        cache[project_id] = endpoints
    return endpoints


def may_recover(contact_id: int) -> bool:
    """Whether the contact may have a resolved or closed case to recover: inside
    `responses_loaded`, from the batch's one read (as of the batch's start); else True (the
    caller's own query decides)."""
    recoverable = _recoverable.get()
    return recoverable is None or contact_id in recoverable
