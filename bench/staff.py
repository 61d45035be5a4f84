"""A staff member's logged-in HTTP session on the running server, for benchmarks that fetch
staff pages (import after common.setup_django())."""

from __future__ import annotations

import secrets

import requests
from django.contrib.auth import get_user_model

from surveys.tenancy.models import Membership, Project


def staff_session(base_url: str, project: Project, username: str) -> requests.Session:
    """Log `username` (an admin of `project`, with a throwaway password) in over HTTP and make
    `project` the session's current project."""
    password = secrets.token_urlsafe(16)
    user, _ = get_user_model().objects.get_or_create(username=username)
    user.set_password(password)
    user.save()
    Membership.objects.update_or_create(user=user, project=project, defaults={"role": "admin"})
    session = requests.Session()
    session.get(f"{base_url}/accounts/login/", timeout=10)
    response = session.post(
        f"{base_url}/accounts/login/",
        data={
            "username": user.username,
            "password": password,
            "csrfmiddlewaretoken": session.cookies["csrftoken"],
        },
        headers={"Referer": f"{base_url}/accounts/login/"},
        timeout=10,
    )
    response.raise_for_status()
    session.post(
        f"{base_url}/app/switch-project/",
        data={"project": project.pk, "csrfmiddlewaretoken": session.cookies["csrftoken"]},
        headers={"Referer": f"{base_url}/app/"},
        timeout=10,
    )
    return session
