"""Project settings as an admin uses them: behaviour, secret keys shown once and revocable,
members and roles, teams — every change in the audit log with before and after."""

from __future__ import annotations

import re

import pytest
from django.contrib.messages import constants as message_constants
from django.contrib.messages.storage.base import Message
from django.test import Client
from rest_framework.test import APIClient

from surveys.tenancy.models import ApiKey, AuditEntry, Membership, Team
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(project):
    user = UserFactory(username="boss", email="boss@example.com")
    MembershipFactory(user=user, project=project, role="admin")
    client = Client()
    client.force_login(user)
    return client


def settings_post(project, **changes) -> dict:
    data = {
        "section": "settings",
        "name": project.name,
        "allowed_origins": "\n".join(project.allowed_origins),
        "languages": ", ".join(project.languages),
        "default_language": project.default_language,
        "recontact_days": project.recontact_days,
        "frequency_cap": project.frequency_cap,
        "frequency_window_days": project.frequency_window_days,
        "breakdown_attributes": "",
        "feedback_tab_enabled": "on",
        "timezone": project.timezone,
    }
    data.update(changes)
    return data


def test_settings_are_saved_and_audited(admin, project):
    reply = admin.post(
        "/app/settings/",
        settings_post(
            project,
            allowed_origins="https://shop.example\nhttps://m.shop.example/",
            recontact_days=21,
            breakdown_attributes="plan, region",
        ),
    )
    assert reply.status_code == 302
    project.refresh_from_db()
    assert project.allowed_origins == ["https://shop.example", "https://m.shop.example"]
    assert (project.recontact_days, project.breakdown_attributes) == (21, ["plan", "region"])
    entry = AuditEntry.objects.get(action="project.updated")
    assert (entry.before["recontact_days"], entry.after["recontact_days"]) == (7, 21)
    assert entry.actor.username == "boss"


def test_bad_settings_are_refused_beside_their_fields(admin, project):
    reply = admin.post(
        "/app/settings/",
        settings_post(project, allowed_origins="shop.example/path", default_language="fr"),
    )
    html = reply.content.decode()
    assert "is not an origin like https://shop.example.com." in html
    assert "The default language must be one of the languages." in html
    project.refresh_from_db()
    assert project.allowed_origins == ["http://shop.example"]
    assert not AuditEntry.objects.filter(action="project.updated").exists()


def test_a_secret_key_is_shown_once_works_and_can_be_revoked(admin, project):
    page = admin.post("/app/settings/keys/", {"name": "backend"}).content.decode()
    raw = re.search(r'id="new-secret-key"[^>]*>(sk_[^<]+)<', page).group(1)
    key = ApiKey.objects.get(project=project, name="backend")
    assert key.key_hash != raw and raw.startswith(key.prefix)
    assert raw not in admin.get("/app/settings/").content.decode()
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert api.get("/api/v1/touchpoints").status_code == 200
    admin.post(f"/app/settings/keys/{key.pk}/revoke/")
    assert api.get("/api/v1/touchpoints").status_code == 401
    assert list(
        AuditEntry.objects.filter(object_type="ApiKey").values_list("action", flat=True)
    ) == ["api_key.revoked", "api_key.created"]


def test_members_are_invited_by_email_and_roles_change(
    admin, project, mailoutbox, django_capture_on_commit_callbacks
):
    """Inviting adds nobody until the person accepts (tests/surveys/test_member_invitations.py)."""
    with django_capture_on_commit_callbacks(execute=True):
        reply = admin.post("/app/settings/members/", {"email": "Ana@Example.com", "role": "agent"})
    assert reply.status_code == 302
    assert not Membership.objects.filter(project=project, user__email="ana@example.com").exists()
    assert len(mailoutbox) == 1 and mailoutbox[0].to == ["ana@example.com"]
    link = re.search(r"http://[^/]+(/app/invitations/[^/\s]+/)", mailoutbox[0].body).group(1)
    Client().post(
        link, {"username": "ana", "password1": "pass-word-42", "password2": "pass-word-42"}
    )
    membership = Membership.objects.get(project=project, user__email="ana@example.com")
    assert (membership.role, membership.user.has_usable_password()) == ("agent", True)

    admin.post(f"/app/settings/members/{membership.pk}/", {"role": "designer"})
    membership.refresh_from_db()
    assert membership.role == "designer"
    boss = Membership.objects.get(project=project, user__username="boss")
    admin.post(f"/app/settings/members/{boss.pk}/", {"role": "viewer"})
    boss.refresh_from_db()
    assert boss.role == "admin"  # the last admin stays
    admin.post(f"/app/settings/members/{membership.pk}/", {"remove": "1"})
    assert not Membership.objects.filter(pk=membership.pk).exists()
    assert list(
        AuditEntry.objects.filter(object_type="Membership")
        .order_by("created_at", "pk")
        .values_list("action", flat=True)
    ) == ["membership.created", "membership.updated", "membership.deleted"]


def test_teams_take_only_project_members(admin, project):
    agent = UserFactory(username="agent")
    MembershipFactory(user=agent, project=project, role="agent")
    stranger = UserFactory(username="stranger")
    admin.post("/app/settings/teams/", {"name": "Care", "members": [agent.pk], "lead": agent.pk})
    team = Team.objects.get(project=project, name="Care")
    assert list(team.members.values_list("username", flat=True)) == ["agent"]
    admin.post("/app/settings/teams/", {"name": "Bad", "members": [stranger.pk]})
    assert not Team.objects.filter(name="Bad").exists()


def test_the_audit_log_shows_before_and_after(admin, project):
    admin.post("/app/settings/", settings_post(project, frequency_cap=5))
    html = admin.get("/app/audit/").content.decode()
    assert '<strong title="project.updated">Project settings changed</strong>' in html
    assert (
        '<span class="fw-semibold">Frequency cap</span>: '
        '<span class="audit-before">2</span> → <span class="audit-after">5</span>'
    ) in html
    assert "&#x27;" not in html  # no Python dict repr


@pytest.mark.parametrize("role", ["designer", "agent", "viewer"])
def test_only_admins_reach_settings_and_audit(project, role):
    user = UserFactory(username=role)
    MembershipFactory(user=user, project=project, role=role)
    client = Client()
    client.force_login(user)
    assert client.get("/app/settings/").status_code == 403
    assert client.get("/app/audit/").status_code == 403
    assert client.post("/app/settings/keys/", {"name": "x"}).status_code == 403
    assert not ApiKey.objects.filter(name="x").exists()


def test_an_error_message_is_a_danger_alert_and_a_success_a_success_alert(admin, project):
    refused = admin.post("/app/settings/members/", {"email": "not-an-address", "role": "agent"})
    html = admin.get(refused.url).content.decode()
    assert (
        '<div class="alert alert-danger alert-dismissible fade show" role="alert">'
        "No invitation was sent: Enter a valid email address."
    ) in html
    saved = admin.post("/app/settings/teams/", {"name": "Care"})
    html = admin.get(saved.url).content.decode()
    assert '<div class="alert alert-success alert-dismissible fade show" role="alert">' in html


def test_every_message_level_is_one_of_bootstraps_alert_colours():
    bootstrap_alerts = {"primary", "secondary", "success", "danger", "warning", "info"}
    levels = (
        message_constants.DEBUG,
        message_constants.INFO,
        message_constants.SUCCESS,
        message_constants.WARNING,
        message_constants.ERROR,
    )
    assert {Message(level, "text").level_tag for level in levels} <= bootstrap_alerts
    assert [Message(level, "text").level_tag for level in levels] == [
        "secondary",
        "info",
        "success",
        "warning",
        "danger",
    ]
