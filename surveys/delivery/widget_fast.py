"""surveys.delivery.widget_fast."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_vary_headers
from django.views.decorators.csrf import csrf_exempt
from rest_framework.renderers import JSONRenderer

from surveys.contacts.attributes import clean_attributes
from surveys.delivery.widget_api import (
    DecideApi,
    WidgetApi,
    decide,
    origin_allowed,
    plainly_valid_decide,
)
from surveys.tenancy.api_auth import (
    WidgetRateThrottle,
    project_for_public_key,
    public_key_well_formed,
)
from surveys.tenancy.models import Project
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
        clean_attributes(values.get("attributes"))
    except ApplicationError:
        return None  # DecideApi words the error
    return values


def _serve_decide(request: HttpRequest, project: Project, values: dict[str, Any]) -> Reply:
    return 200, decide(project, values)


decide_route = fast_route(DecideApi, _plain_decide, _serve_decide)
