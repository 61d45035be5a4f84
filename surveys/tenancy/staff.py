"""Shared plumbing for the staff UI: which project the user is working in, and role checks.

The current project lives in the session; the project switcher also remembers it as the
user's own preference, where their next login lands (`staff_login_landing`).

The management API and the staff pages resolve the project the same way
(`surveys.tenancy.api_auth.session_access`), so a role means the same thing in both.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _

from surveys.tenancy.api_auth import SESSION_PROJECT_KEY, ProjectAccess, session_access
from surveys.tenancy.models import Membership
from surveys.tenancy.roles import ADMIN_ROLES, CASE_ROLES, DESIGN_ROLES
from surveys.tenancy.staff_preferences import staff_landing_project_id, staff_project_remember
from surveys.tenancy.timezones import project_zone
from vocsite.ids import id_parse

# (url name, label, icon, roles that see it) — a page appears in the navigation once it exists.
NAV = (
    ("journey-map", _("Journey"), "bi-signpost-split", None),
    ("survey-list", _("Surveys"), "bi-ui-checks", DESIGN_ROLES),
    ("inbox", _("Inbox"), "bi-inbox", CASE_ROLES),
    ("feedback-inbox", _("Feedback"), "bi-chat-left-text", CASE_ROLES),
    ("alert-rules", _("Alert rules"), "bi-bell", DESIGN_ROLES),
    ("topics", _("Topics"), "bi-tags", DESIGN_ROLES),
    ("verbatims", _("Verbatims"), "bi-chat-quote", CASE_ROLES),
    ("dashboard-executive", _("Dashboards"), "bi-graph-up", None),
    ("webhooks", _("Webhooks"), "bi-broadcast", ADMIN_ROLES),
    ("root-causes", _("Root causes"), "bi-diagram-3", ADMIN_ROLES),
    ("contacts", _("Contacts"), "bi-people", ADMIN_ROLES),
    ("project-settings", _("Settings"), "bi-gear", ADMIN_ROLES),
    ("audit-log", _("Audit"), "bi-clock-history", ADMIN_ROLES),
)


def project_view(roles: Iterable[str] | None = None) -> Callable:
    """Decorator: login required, `request.access` resolved, role checked (403 otherwise),
    the page rendered in the project's timezone."""
    allowed = tuple(roles) if roles is not None else None

    def decorator(view: Callable) -> Callable:
        @login_required
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            access = session_access(request)
            if access is None:
                return redirect("no-project")
            if allowed is not None and access.role not in allowed:
                raise PermissionDenied("Your role does not allow this page.")
            request.access = access
            # Every date a staff page shows or cuts (`__date` lookups, week truncation, "today")
            # falls on the project's days, as the rollups' do (DESIGN.md §7).
            with timezone.override(project_zone(access.project)):
                return view(request, *args, **kwargs)

        return wrapper

    return decorator


def staff_context(request: HttpRequest) -> dict:
    """Context processor: the navigation and the project switcher for staff pages.

    A page outside `project_view` (an error page, the no-project page) resolves the project
    here, so its navigation offers what the person's role opens and nothing more."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    access: ProjectAccess | None = getattr(request, "access", None) or session_access(request)
    nav = []
    for name, label, icon, roles in NAV:
        try:
            url = reverse(name)
        except NoReverseMatch:
            continue
        if roles is not None and (access is None or access.role not in roles):
            continue
        nav.append(
            {"url": url, "label": label, "icon": icon, "active": request.path.startswith(url)}
        )
    memberships = (
        Membership.objects.select_related("project").filter(user=user).order_by("project__name")
    )
    return {"staff_nav": nav, "staff_memberships": memberships, "staff_access": access}


def switch_project(request: HttpRequest) -> HttpResponse:
    """POST project=<id>: make it the current project if the user is a member."""
    if request.method != "POST" or not request.user.is_authenticated:
        return redirect("login")
    project_id = id_parse(request.POST.get("project"))
    if (
        project_id is not None
        and Membership.objects.filter(user=request.user, project_id=project_id).exists()
    ):
        request.session[SESSION_PROJECT_KEY] = project_id
        staff_project_remember(user=request.user, project_id=project_id)
    target = request.POST.get("next") or ""
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = "/app/"  # only back to a page of this site
    return HttpResponseRedirect(target)  # a URL, never a view name to reverse (`next=a`)


def staff_login_landing(sender, request: HttpRequest, user, **kwargs) -> None:
    """On login (`user_logged_in`, connected in vocsite.apps): the session starts in the
    project the user chose last (surveys.tenancy.staff_preferences), not one somebody else picked."""
    if request is None or not hasattr(request, "session"):
        return
    project_id = staff_landing_project_id(user=user)
    if project_id is not None:
        request.session[SESSION_PROJECT_KEY] = project_id
