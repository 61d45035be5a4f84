"""Views that belong to no domain: the landing redirect, the health check and the error pages."""

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.views.defaults import page_not_found, server_error

from vocsite.errors import error_body
from vocsite.sql import database_ping


def home(request: HttpRequest) -> HttpResponse:
    return redirect("/app/" if request.user.is_authenticated else "/demo/")


def healthz(request: HttpRequest) -> JsonResponse:
    database_ping()
    return JsonResponse({"status": "ok"})


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
