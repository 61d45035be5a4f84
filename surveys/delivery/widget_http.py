"""The one way a widget call is served: `widget_view` turns a handler into a plain Django view
with the widget API's authentication, rate limit, CORS and error replies — shared by delivery's
views (surveys.delivery.widget_api) and answering's (feedback.answering.widget_api).

Per call, in this order (as the API has always answered): a CORS preflight is answered at
once; otherwise the public key (query string first, else the JSON body's `key`) names the
project (401), the caller's IP and visitor are counted against the rate limits (429), a
foreign origin is refused before anything is written (403), the method must be the
operation's (405), and the body must be its declared payload (400). The handler then gets
the project and the validated payload; an `ApplicationError` it raises becomes the error body.

CORS is per project: a real request's `Origin` must be one of the project's
`allowed_origins`, and only then is a successful reply's `Access-Control-Allow-Origin` its
origin; an error reply (a code, no data) is readable by any origin, so the widget can say in
the console why it is held back. A preflight carries no key, so it is answered for any origin
some project allows. Every reply varies on `Origin`. Each call's origin, served or refused,
is noted for Settings → Install status (surveys.delivery.origin_log).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

import msgspec
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext
from django.views.decorators.csrf import csrf_exempt

from surveys.delivery import origin_log
from surveys.tenancy.api_auth import (
    project_for_public_key,
    public_key_well_formed,
    widget_rate_wait,
)
from surveys.tenancy.models import Project
from surveys.tenancy.origins import normalise_origin, origin_allowed
from surveys.tenancy.selectors import origin_allowed_by_any_project
from vocsite.api_errors import ERROR_BODY_TYPE
from vocsite.errors import ApplicationError
from vocsite.json_api import (
    Operation,
    Response,
    error_reply,
    json_body,
    json_reply,
    payload_convert,
    throttled_reply,
)

CORS_MAX_AGE = "600"

WIDGET_ERRORS = {
    400: Response(ERROR_BODY_TYPE, "Invalid input"),
    401: Response(ERROR_BODY_TYPE, "Missing or unknown public key"),
    403: Response(
        ERROR_BODY_TYPE,
        "Origin not allowed for this project (`origin_not_allowed`), or a user_id "
        "without a valid user_hash (`identity_unverified`)",
    ),
    413: Response(ERROR_BODY_TYPE, "Request body too large"),
    415: Response(ERROR_BODY_TYPE, "Not a JSON body"),
    429: Response(ERROR_BODY_TYPE, "Rate limited"),
}
NOT_FOUND = {404: Response(ERROR_BODY_TYPE, "Unknown display for this key")}
CONFLICT = {409: Response(ERROR_BODY_TYPE, "submission_id used elsewhere")}

# A widget handler: the request, the project its key names, the validated payload (None for
# an operation without a body) and the URL's arguments; it returns (status, JSON body or None).
Handler = Callable[..., tuple[int, Any]]


def widget_view(
    *,
    operation_id: str,
    method: str,
    payload: type[msgspec.Struct] | None,
    responses: dict[int, Response],
    query: dict[str, str] | None = None,
    success_headers: dict[str, str] | None = None,
) -> Callable[[Handler], Callable[..., HttpResponse]]:
    """The widget API view of `handler` (see the module docstring); `payload` is validated
    from the JSON body and documented as the request body (the OpenAPI schema reads the
    returned view's `openapi`); `success_headers` go on its 2xx replies. The handler's
    docstring describes the operation."""
    allow = f"{method}, OPTIONS"

    def decorate(handler: Handler) -> Callable[..., HttpResponse]:
        @csrf_exempt
        @wraps(handler)
        def view(request: HttpRequest, **kwargs: Any) -> HttpResponse:
            origin = request.META.get("HTTP_ORIGIN")  # request.headers would parse every header
            if request.method == "OPTIONS":
                response = _preflight(origin)
            else:
                project = None
                try:
                    data = json_body(request) if request.method not in ("GET", "HEAD") else {}
                    project = _project(request, data)
                    response = _serve(request, project, data, method, payload, handler, kwargs)
                except ApplicationError as error:
                    response = error_reply(error)
                # A refusal is readable by any page (it carries an error code, no data), so
                # the widget can tell the developer why it is held back.
                if origin and (
                    response.status_code >= 400
                    or (project is not None and origin_allowed(origin, project.allowed_origins))
                ):
                    response["Access-Control-Allow-Origin"] = origin
                if response.status_code < 300:
                    for name, value in (success_headers or {}).items():
                        response[name] = value
                elif response.status_code == 401:
                    response["WWW-Authenticate"] = "PublicKey"
            response["Allow"] = allow
            patch_vary_headers(response, ["Origin"])
            return response

        view.openapi = Operation(
            operation_id=operation_id,
            method=method,
            description=" ".join((handler.__doc__ or "").split()),
            request=payload,
            responses={**responses, **WIDGET_ERRORS},
            query=query or {},
            tags=("widget",),
            security=("publicKey",),
        )
        return view

    return decorate


def _serve(request, project, data, method, payload, handler, kwargs) -> HttpResponse:
    wait = widget_rate_wait(request, project.pk, data if isinstance(data, dict) else {})
    if wait is not None:
        return throttled_reply(wait)
    origin = request.META.get("HTTP_ORIGIN")
    allowed = not origin or origin_allowed(origin, project.allowed_origins)
    if origin:
        origin_log.note(project_id=project.pk, origin=origin, allowed=allowed, at=timezone.now())
    if not allowed:
        raise ApplicationError(
            "origin_not_allowed",
            gettext("This origin may not use this project's widget."),
            status_code=403,
        )
    if request.method != method and (request.method, method) != ("HEAD", "GET"):
        raise ApplicationError(
            "method_not_allowed",
            gettext('Method "%(method)s" not allowed.') % {"method": request.method},
            status_code=405,
        )
    values = payload_convert(data, payload) if payload is not None else None
    status, body = handler(request, project, values, **kwargs)
    return json_reply(body, status)


def _project(request: HttpRequest, data: Any) -> Project:
    """The project named by the call's public key (the query string first, then the body)."""
    key = request.GET.get("key")
    if key is None and isinstance(data, dict):
        key = data.get("key")
    if not public_key_well_formed(key):
        raise _unauthenticated("A valid public key (pk_…) is required.")
    project = project_for_public_key(key)
    if project is None:
        raise _unauthenticated("Unknown public key.")
    return project


def _unauthenticated(message: str) -> ApplicationError:
    return ApplicationError("authentication_failed", message, status_code=401)


def _preflight(origin: str | None) -> HttpResponse:
    response = HttpResponse(status=204)
    if origin and origin_allowed_by_any_project(origin=normalise_origin(origin)):
        response["Access-Control-Allow-Origin"] = origin
        response["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
        response["Access-Control-Allow-Headers"] = "Content-Type"
        response["Access-Control-Max-Age"] = CORS_MAX_AGE
    return response
