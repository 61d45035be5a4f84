"""Settings → Install status: is the widget calling from the sites it should, and which sites
were refused (with a one-click allow)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from surveys.delivery.install_selectors import install_status
from surveys.tenancy.project_settings import project_update
from surveys.tenancy.roles import ADMIN_ROLES
from surveys.tenancy.staff import project_view
from vocsite.errors import ApplicationError


@project_view(ADMIN_ROLES)
def install_status_page(request: HttpRequest) -> HttpResponse:
    allowed, refused = install_status(request.access.project)
    return render(
        request,
        "surveys/install_status.html",
        {
            "allowed": allowed,
            "refused": refused,
            "widget_src": request.build_absolute_uri("/static/widget/voc.js"),
        },
    )


@require_POST
@project_view(ADMIN_ROLES)
def origin_allow(request: HttpRequest) -> HttpResponse:
    """Add a refused origin to the allowed origins (the settings' own validation applies)."""
    project = request.access.project
    origin = (request.POST.get("origin") or "").strip()
    _allowed, refused = install_status(project)
    if origin not in {status.origin for status in refused}:
        messages.error(
            request, _("“%(origin)s” is not a refused origin of this project.") % {"origin": origin}
        )
        return redirect("install-status")
    try:
        project_update(
            project=project,
            actor=request.user,
            allowed_origins=[*(project.allowed_origins or []), origin],
        )
    except ApplicationError as error:
        problems = [problem for field in (error.fields or {}).values() for problem in field]
        messages.error(request, " ".join(problems) or error.message)
    else:
        messages.success(
            request,
            _("%(origin)s may now use this project's widget.") % {"origin": origin},
        )
    return redirect("install-status")
