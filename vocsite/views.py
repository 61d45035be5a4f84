"""Views that belong to no domain: the landing redirect and the health check."""

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render


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
