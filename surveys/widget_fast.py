"""The routes of the two hot widget calls, decide and response submit: a plainly valid call is
answered here, anything else by its DRF view (surveys.widget_api), which words every error.

Why: DRF's machinery around a call — the Request wrapper, authenticator, permission and
throttle objects, content negotiation, the template response — was a quarter of decide's CPU
in its web process, for calls that are almost all plainly valid. Here such a call — a JSON
body, plainly valid fields (the same `plainly_valid_*` checks the views use), a known
well-formed public key, an allowed or no Origin — goes through the same rate limit and the
same services and gets the same reply, headers included.

Anything else is handed to the DRF view before anything was counted or written. A call the
rate limit refuses is handed over with its verdict (`request.widget_rate_wait`), so it is
counted once. An expected failure of a service (an unknown display, a reused submission id)
is rendered with the API's one error body. tests/surveys/test_widget_fast_routes.py holds
the two paths to identical replies.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_vary_headers
from django.views.decorators.csrf import csrf_exempt
from rest_framework.renderers import JSONRenderer

from surveys import ledger
from surveys.models import Project
from surveys.widget_api import (
    DecideApi,
    ResponseSubmitApi,
    WidgetApi,
    decide,
    origin_allowed,
    plainly_valid_decide,
    plainly_valid_response,
    submit_response,
)
from vocsite.api_auth import WidgetRateThrottle, project_for_public_key, public_key_well_formed
from vocsite.errors import ApplicationError, error_body
from vocsite.parsers import unstorable

# status, JSON body
Reply = tuple[int, dict[str, Any]]
Serve = Callable[[HttpRequest, Project, dict[str, Any]], Reply]
_JSON = JSONRenderer()


def fast_route(api: type[WidgetApi], plainly_valid: Callable[[Any], dict | None], serve: Serve):
    """A view for `api`'s route that answers plainly valid calls with `serve` itself."""
    drf_view = api.as_view()
    allow = ", ".join(api().allowed_methods)

    @csrf_exempt
    def view(request: HttpRequest) -> HttpResponse:
        fast = _fast_reply(request, plainly_valid, serve, allow)
        return fast if fast is not None else drf_view(request)

    view.cls = drf_view.cls  # the OpenAPI schema documents `api` for this route
    view.initkwargs = drf_view.initkwargs
    return view


def _fast_reply(request, plainly_valid, serve, allow: str) -> HttpResponse | None:
    if (
        request.method != "POST"
        or request.content_type != "application/json"
        or (request.encoding or "utf-8").lower() not in ("utf-8", "utf8")
        or "key" in request.GET  # PublicKeyAuthentication reads the query string first
    ):
        return None
    try:
        data = json.loads(request.body.decode())  # as strict as DRF: no BOM, no UTF-16
    except (ValueError, RecursionError, RequestDataTooBig):
        return None
    values = plainly_valid(data)
    if values is None or unstorable(data) or not public_key_well_formed(values["key"]):
        return None
    project = project_for_public_key(values["key"])
    origin = request.META.get("HTTP_ORIGIN")  # request.headers would parse every header
    if project is None or (origin and not origin_allowed(origin, project.allowed_origins)):
        return None
    wait = WidgetRateThrottle().count(request, project.pk, data)
    if wait is not None:
        request.widget_rate_wait = wait
        return None
    try:
        status, body = serve(request, project, values)
    except ApplicationError as exc:  # as vocsite.errors.api_exception_handler renders it
        status, body = exc.status_code, error_body(exc.code, exc.message, exc.fields)
    response = HttpResponse(_JSON.render(body), status=status, content_type="application/json")
    response["Allow"] = allow
    if origin:
        response["Access-Control-Allow-Origin"] = origin
    patch_vary_headers(response, ["Origin"])
    return response


def _plain_decide(data: Any) -> dict[str, Any] | None:
    values = plainly_valid_decide(data)
    if values is None:
        return None
    try:
        ledger.clean_attributes(values.get("attributes"))
    except ApplicationError:
        return None  # DecideApi words the error
    return values


def _serve_decide(request: HttpRequest, project: Project, values: dict[str, Any]) -> Reply:
    return 200, decide(project, values)


def _serve_response(request: HttpRequest, project: Project, values: dict[str, Any]) -> Reply:
    reply, created = submit_response(project, values, request.META.get("HTTP_USER_AGENT", ""))
    return (201 if created else 200), reply


decide_route = fast_route(DecideApi, _plain_decide, _serve_decide)
response_route = fast_route(ResponseSubmitApi, plainly_valid_response, _serve_response)
