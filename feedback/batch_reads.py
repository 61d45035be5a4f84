"""The responses a pipeline batch works on, read once for all of its hooks.

Every finished response goes through five hooks (feedback.pipeline.RESPONSE_HOOKS), and each
used to read the response and its answers again, in its own shape: about half of the worker's
statements per response, most of its CPU being the ORM building those queries and rows.
Inside `responses_loaded(ids)` — the pipeline opens it around a batch's hooks — the finished
responses are read once, with everything the hooks look at (project, survey, version,
touchpoint and its stage, contact, answers with their questions), and `finished_response`
hands the same instances to every hook. Outside it (a hook called on its own), it reads the
one response.

The project's active webhook endpoints are read once per batch too (`active_endpoints`):
every response asks whether anyone subscribed to `response.finished`, every case opened
emits `case.opened`.

What the hooks write is not in these instances: tags, cases, the answers' sentiment (kept up
to date on the instances by the tagging hook), so a hook that needs another's writes reads
them itself (cases read the tags). A finished response and its answers no longer change.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar

from django.db.models import Prefetch, QuerySet

from feedback.models import Answer, Response, WebhookEndpoint

_loaded: ContextVar[dict[int, Response] | None] = ContextVar("responses_loaded", default=None)
_endpoints: ContextVar[dict[int, list[WebhookEndpoint]] | None] = ContextVar(
    "batch_endpoints", default=None
)


def _finished() -> QuerySet[Response]:
    return (
        Response.objects.filter(finished=True)
        .select_related("project", "survey", "version", "touchpoint__stage", "contact")
        .prefetch_related(
            Prefetch("answers", queryset=Answer.objects.select_related("question").order_by("pk"))
        )
    )


@contextmanager
def responses_loaded(response_ids: Sequence[int]) -> Iterator[None]:
    """Read these finished responses once, for every `finished_response` call inside."""
    token = _loaded.set({r.pk: r for r in _finished().filter(pk__in=list(response_ids))})
    endpoints_token = _endpoints.set({})
    try:
        yield
    finally:
        _endpoints.reset(endpoints_token)
        _loaded.reset(token)


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
    read = WebhookEndpoint.objects.filter(project_id=project_id, is_active=True).order_by("pk")
    cache = _endpoints.get()
    if cache is None or project_id is None:
        return list(read)
    if project_id not in cache:
        cache[project_id] = list(read)
    return cache[project_id]
