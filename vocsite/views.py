"""Views that belong to no domain: the landing redirect and the health check."""

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.defaults import page_not_found, server_error

from vocsite.errors import error_body


def home(request: HttpRequest) -> HttpResponse:
    return redirect("/app/" if request.user.is_authenticated else "/demo/")


def healthz(request: HttpRequest) -> JsonResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


@login_required
def no_project(request: HttpRequest) -> HttpResponse:
    return render(request, "no_project.html")


@login_required
def staff_home(request: HttpRequest) -> HttpResponse:
    """Land each role on its own first page: agents on the inbox, everyone else on the journey."""
    from vocsite.api_auth import session_access
    from vocsite.staff import staff_context

    access = session_access(request)
    if access is None:
        return redirect("no-project")
    request.access = access
    nav = staff_context(request)["staff_nav"]
    preferred = "Inbox" if access.role == "agent" else "Journey"
    for item in sorted(nav, key=lambda i: i["label"] != preferred):
        return redirect(item["url"])
    return redirect("/admin/" if request.user.is_staff else "no-project")


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
