"""API authentication and permissions, in one place.

- Widget API: the project's public key (`key` in the body or query; read by
  surveys.delivery.widget_http). It identifies a project and grants nothing but the widget
  endpoints.
- Server / management API: `Authorization: Bearer sk_…` (one project, acts as admin), or a
  staff session whose project comes from the `X-Project` header, the `project` query
  parameter, or the user's current project; the membership's role then applies.

Every API view reads `request.access.project`; nothing is ever fetched outside it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone
from rest_framework import authentication, exceptions, permissions

from surveys.tenancy.models import ApiKey, Membership, Project, hash_secret_key
from surveys.tenancy.roles import OWNER_ROLE
from vocsite import caches, rate_limit
from vocsite.client_address import client_address
from vocsite.ids import id_parse

SESSION_PROJECT_KEY = "current_project_id"


@dataclass(frozen=True)
class ProjectAccess:
    project: Project
    role: str
    api_key: ApiKey | None = None


def project_for_public_key(key: str) -> Project | None:
    """The project behind a widget call's public key: every widget call names one, so the row
    is read from memory (vocsite.caches.PROJECTS_BY_PUBLIC_KEY)."""
    return caches.PROJECTS_BY_PUBLIC_KEY.get(
        key, lambda: Project.objects.filter(public_key=key).first()
    )


def public_key_well_formed(key: object) -> bool:
    return isinstance(key, str) and key.startswith("pk_") and len(key) <= 64


class SecretKeyAuthentication(authentication.BaseAuthentication):
    """`Authorization: Bearer sk_…` — a project's secret key, looked up by its hash."""

    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        parts = header.split()
        if len(parts) != 2 or parts[0] != self.keyword:
            raise exceptions.AuthenticationFailed("Use 'Authorization: Bearer sk_…'.")
        raw = parts[1]
        if not raw.startswith("sk_"):
            raise exceptions.AuthenticationFailed("A secret key starts with sk_.")
        api_key = (
            ApiKey.objects.select_related("project")
            .filter(key_hash=hash_secret_key(raw), revoked_at__isnull=True)
            .first()
        )
        if api_key is None:
            raise exceptions.AuthenticationFailed("Unknown or revoked secret key.")
        now = timezone.now()
        if api_key.last_used_at is None or (now - api_key.last_used_at).total_seconds() > 60:
            ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
        return (
            AnonymousUser(),
            ProjectAccess(project=api_key.project, role=OWNER_ROLE, api_key=api_key),
        )

    def authenticate_header(self, request) -> str:
        return self.keyword


class StaffSessionAuthentication(authentication.SessionAuthentication):
    """A logged-in staff user (CSRF enforced); the project is resolved by the permission."""


def session_access(request) -> ProjectAccess | None:
    """The staff user's membership in the project the request names (or their current one)."""
    user = request.user
    if not user or not user.is_authenticated:
        return None
    wanted = request.headers.get("X-Project") or request.GET.get("project")
    if wanted is None and hasattr(request, "session"):
        wanted = request.session.get(SESSION_PROJECT_KEY)
    memberships = Membership.objects.select_related("project").filter(user=user)
    if wanted is not None:
        project_id = id_parse(wanted)
        if project_id is None:
            return None
        membership = memberships.filter(project_id=project_id).first()
    else:
        membership = memberships.order_by("project_id").first()
    if membership is None:
        return None
    return ProjectAccess(project=membership.project, role=membership.role)


class IsProjectMember(permissions.BasePermission):
    """Resolves `request.access`; the view's `allowed_roles` (per method or for all) then apply.

    A view without `allowed_roles` is open to every role of the project.
    """

    message = "You do not have access to this project or this operation."

    def has_permission(self, request, view) -> bool:
        access = (
            request.auth if isinstance(request.auth, ProjectAccess) else session_access(request)
        )
        if access is None:
            if request.user and request.user.is_authenticated:
                return False
            raise exceptions.NotAuthenticated("Authenticate with a secret key or a staff session.")
        request.access = access
        allowed = getattr(view, "allowed_roles", None)
        if isinstance(allowed, dict):
            allowed = allowed.get(request.method, allowed.get("*"))
        return allowed is None or access.role in allowed


def widget_rate_wait(request, project_id: int, data: dict) -> float | None:
    """Count one widget call against its client IP's and its visitor's (or user id's) limits
    per minute within the project (`vocsite.rate_limit`: counted in memory, shared through
    Redis): None, or the seconds to wait."""
    limits = [
        rate_limit.Limit("widget_ip", client_address(request), settings.WIDGET_RATE_LIMIT_PER_IP)
    ]
    ident = data.get("visitor_id") or data.get("user_id")
    if isinstance(ident, str) and ident:
        # Hashed: visitor ids are client-chosen text and must not shape the cache key.
        digest = hashlib.sha256(f"{project_id}:{ident}".encode()).hexdigest()[:32]
        limits.append(
            rate_limit.Limit("widget_visitor", digest, settings.WIDGET_RATE_LIMIT_PER_VISITOR)
        )
    return rate_limit.hit(limits)
