"""Where a signed-in staff member lands: their role's first page, or the no-project page."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from surveys.tenancy.api_auth import session_access
from surveys.tenancy.roles import FRONTLINE_ROLES
from surveys.tenancy.staff import staff_context


@login_required
def no_project(request: HttpRequest) -> HttpResponse:
    return render(request, "no_project.html")


@login_required
def staff_home(request: HttpRequest) -> HttpResponse:
    """Land each role on its own first page: agents on the inbox, everyone else on the journey."""

    access = session_access(request)
    if access is None:
        return redirect("no-project")
    request.access = access
    nav = staff_context(request)["staff_nav"]
    preferred = "Inbox" if access.role in FRONTLINE_ROLES else "Journey"
    for item in sorted(nav, key=lambda i: i["label"] != preferred):
        return redirect(item["url"])
    return redirect("/admin/" if request.user.is_staff else "no-project")
