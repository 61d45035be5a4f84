"""Views that belong to no domain: the landing redirect, the health and readiness checks, the
Prometheus metrics and the error pages."""

import hmac

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.utils.translation import gettext
from django.views.decorators.cache import never_cache
from django.views.defaults import page_not_found, server_error
from prometheus_client import CONTENT_TYPE_LATEST

from vocsite.errors import error_body
from vocsite.prometheus import metrics_text
from vocsite.readiness import readiness


def home(request: HttpRequest) -> HttpResponse:
    return redirect("/app/" if request.user.is_authenticated else "/demo/")


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness: the process answers. Touches nothing else, so a database or broker outage
    does not get every web process restarted by its supervisor (that is /readyz's job)."""
    return JsonResponse({"status": "ok"})


@never_cache
def readyz(request: HttpRequest) -> JsonResponse:
    """Readiness (vocsite.readiness): 200 when every check passes, else 503 naming the failed."""
    result = readiness()
    if result.ready:
        return JsonResponse({"status": "ready", "checks": result.checks})
    return JsonResponse(
        {"status": "unavailable", "failed": result.failed, "checks": result.checks}, status=503
    )


@never_cache
def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus exposition (vocsite.prometheus), for a scraper holding METRICS_TOKEN as a
    bearer token; without a token configured the endpoint does not exist."""
    token = settings.METRICS_TOKEN
    if not token:
        raise Http404
    offered = request.headers.get("Authorization", "")
    if not hmac.compare_digest(offered.encode(), f"Bearer {token}".encode()):
        response = JsonResponse(
            error_body("not_authenticated", gettext("A valid metrics bearer token is required.")),
            status=401,
        )
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return HttpResponse(metrics_text(), content_type=CONTENT_TYPE_LATEST)


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """API clients get the JSON error body for unknown URLs too; people get the HTML page."""
    if request.path.startswith("/api/"):
        return JsonResponse(error_body("not_found", "No such endpoint."), status=404)
    return page_not_found(request, exception)


def server_failure(request: HttpRequest) -> HttpResponse:
    if request.path.startswith("/api/"):
        return JsonResponse(
            error_body("server_error", "Something went wrong on our side."), status=500
        )
    return server_error(request)
