"""Project membership by invitation: an admin's invitation creates nothing but a pending
invitation and an e-mail; the person joins when they accept, logged in with the invited
address (or with an account they make for it from the link). The admin is told "invitation
sent to <what they typed>" whether or not the address has an account, and never a user name.
Pending invitations can be revoked. Where a login lands is the user's own last choice: an
admin cannot move it."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.contrib.messages import get_messages
from django.core import mail
from django.test import Client
from django.utils import timezone

from surveys.tenancy.api_auth import SESSION_PROJECT_KEY
from surveys.tenancy.invitations import member_invite
from surveys.tenancy.models import (
    AuditEntry,
    MemberInvitation,
    Membership,
    StaffPreference,
    hash_secret_key,
)
from tests.factories import MembershipFactory, ProjectFactory, UserFactory

pytestmark = pytest.mark.django_db
LINK = re.compile(r"http://127\.0\.0\.1:8000(/app/invitations/([A-Za-z0-9_-]+)/)")


@pytest.fixture
def boss(project):
    user = UserFactory(username="boss", email="boss@example.com")
    MembershipFactory(user=user, project=project, role="admin")
    return user


@pytest.fixture
def admin(boss):
    client = Client()
    client.force_login(boss)
    return client


@pytest.fixture
def ana():
    """Somebody with an account (a member of another project), not of this one."""
    return UserFactory(username="ana_secret_name", email="ana@example.com")


def _invite(admin, email: str, role: str = "agent", capture=None) -> list[str]:
    """Post the Settings form; the messages the admin is shown."""
    with capture(execute=True):
        reply = admin.post("/app/settings/members/", {"email": email, "role": role}, follow=True)
    assert reply.redirect_chain == [("/app/settings/", 302)]
    return [str(m) for m in reply.context["messages"]]


def _link(message) -> tuple[str, str]:
    path, token = LINK.search(message.body).groups()
    return path, token


def test_inviting_someone_with_an_account_adds_nobody_and_reveals_nothing(
    admin, project, ana, django_capture_on_commit_callbacks
):
    shown = _invite(admin, "Ana@Example.com", capture=django_capture_on_commit_callbacks)
    assert shown == ["Invitation sent to Ana@Example.com."]
    assert not Membership.objects.filter(project=project, user=ana).exists()
    settings_page = admin.get("/app/settings/").content.decode()
    assert "ana_secret_name" not in settings_page
    assert "ana@example.com" in settings_page  # the pending invitation, as typed (lower-cased)

    invitation = MemberInvitation.objects.get(project=project)
    assert (invitation.email, invitation.role, invitation.status) == (
        "ana@example.com",
        "agent",
        "pending",
    )
    assert invitation.invited_by.username == "boss"
    assert invitation.expires_at - invitation.created_at == timedelta(days=7)
    [message] = mail.outbox
    assert message.to == ["ana@example.com"]
    assert message.subject == f"[vocsite] You are invited to {project.name}"
    assert "ana_secret_name" not in message.body
    _path, token = _link(message)
    assert invitation.token_hash == hash_secret_key(token) != token  # only the hash is kept
    entry = AuditEntry.objects.get(action="member_invitation.created")
    assert entry.after == {
        "email": "ana@example.com",
        "role": "agent",
        "expires_at": invitation.expires_at.isoformat(),
    }
    assert token not in str(entry.after)


def test_an_address_without_an_account_gets_the_same_answer(
    admin, project, ana, django_capture_on_commit_callbacks
):
    # Both e-mails give the expiry to the minute: the clock is held so a minute turning
    # between the two invitations cannot make them differ.
    with time_machine.travel(timezone.now(), tick=False):
        known = _invite(admin, "ana@example.com", capture=django_capture_on_commit_callbacks)
        unknown = _invite(admin, "nobody@example.com", capture=django_capture_on_commit_callbacks)
    assert known == ["Invitation sent to ana@example.com."]
    assert unknown == ["Invitation sent to nobody@example.com."]
    assert not get_user_model().objects.filter(email="nobody@example.com").exists()
    assert [m.to for m in mail.outbox] == [["ana@example.com"], ["nobody@example.com"]]
    # The two e-mails differ only by address and link.
    bodies = [LINK.sub("LINK", m.body).replace(m.to[0], "ADDRESS") for m in mail.outbox]
    assert bodies[0] == bodies[1]


def test_the_invited_user_accepts_logged_in_with_that_address(
    admin, project, ana, django_capture_on_commit_callbacks
):
    _invite(admin, "ana@example.com", role="designer", capture=django_capture_on_commit_callbacks)
    path, _token = _link(mail.outbox[0])
    client = Client()
    client.force_login(ana)
    page = client.get(path)
    assert page.status_code == 200
    assert "Accept and join" in page.content.decode()
    assert not Membership.objects.filter(project=project, user=ana).exists()  # a GET adds no one

    reply = client.post(path)
    assert (reply.status_code, reply["Location"]) == (302, "/app/")
    membership = Membership.objects.get(project=project, user=ana)
    assert membership.role == "designer"
    assert client.session[SESSION_PROJECT_KEY] == project.pk
    invitation = MemberInvitation.objects.get()
    assert (invitation.status, invitation.accepted_by) == ("accepted", ana)
    assert list(
        AuditEntry.objects.filter(project=project)
        .order_by("created_at", "pk")
        .values_list("action", "actor_label")
    ) == [
        ("member_invitation.created", "boss"),
        ("member_invitation.accepted", "ana_secret_name"),
        ("membership.created", "ana_secret_name"),
    ]
    assert client.get(path).status_code == 404  # used once
    assert client.post(path).status_code == 404


def test_another_account_cannot_accept(admin, project, ana, django_capture_on_commit_callbacks):
    _invite(admin, "ana@example.com", capture=django_capture_on_commit_callbacks)
    path, _token = _link(mail.outbox[0])
    mallory = UserFactory(username="mallory", email="mallory@example.com")
    client = Client()
    client.force_login(mallory)
    assert client.get(path).status_code == 403
    assert client.post(path).status_code == 403
    assert not Membership.objects.filter(project=project, user=mallory).exists()
    assert MemberInvitation.objects.get().status == "pending"


def test_someone_new_makes_an_account_for_the_invited_address(
    admin, project, django_capture_on_commit_callbacks
):
    _invite(admin, "new@example.com", role="viewer", capture=django_capture_on_commit_callbacks)
    path, _token = _link(mail.outbox[0])
    client = Client()
    form = client.get(path)
    assert form.status_code == 200 and 'name="password2"' in form.content.decode()
    weak = client.post(path, {"username": "newbie", "password1": "123", "password2": "123"})
    assert weak.status_code == 422
    assert not get_user_model().objects.filter(username="newbie").exists()
    reply = client.post(
        path,
        {"username": "newbie", "password1": "a-long-pass-9", "password2": "a-long-pass-9"},
    )
    assert (reply.status_code, reply["Location"]) == (302, "/app/")
    newbie = get_user_model().objects.get(username="newbie")
    assert (newbie.email, newbie.check_password("a-long-pass-9")) == ("new@example.com", True)
    assert Membership.objects.get(project=project, user=newbie).role == "viewer"
    assert client.get("/app/").status_code == 302  # logged in: lands on a page of the project
    assert client.session[SESSION_PROJECT_KEY] == project.pk


def test_an_address_with_an_account_logs_in_instead_of_signing_up(
    admin, project, ana, django_capture_on_commit_callbacks
):
    _invite(admin, "ana@example.com", capture=django_capture_on_commit_callbacks)
    path, _token = _link(mail.outbox[0])
    client = Client()
    page = client.get(path).content.decode()
    assert f'href="/accounts/login/?next={path}"' in page
    assert 'name="password1"' not in page
    client.post(path, {"username": "other", "password1": "a-long-pass-9", "password2": "x"})
    assert not get_user_model().objects.filter(username="other").exists()
    assert not Membership.objects.filter(project=project, user=ana).exists()


def test_admins_revoke_pending_invitations(admin, project, ana, django_capture_on_commit_callbacks):
    _invite(admin, "ana@example.com", capture=django_capture_on_commit_callbacks)
    path, _token = _link(mail.outbox[0])
    invitation = MemberInvitation.objects.get()
    assert 'id="pending-invitations"' in admin.get("/app/settings/").content.decode()
    reply = admin.post(f"/app/settings/invitations/{invitation.pk}/revoke/")
    assert [str(m) for m in get_messages(reply.wsgi_request)] == [
        "The invitation to ana@example.com is revoked."
    ]
    invitation.refresh_from_db()
    assert invitation.status == "revoked" and invitation.revoked_at is not None
    client = Client()
    client.force_login(ana)
    assert client.post(path).status_code == 404
    assert not Membership.objects.filter(user=ana, project=project).exists()
    assert 'id="pending-invitations"' not in admin.get("/app/settings/").content.decode()


def test_another_projects_invitation_cannot_be_revoked(admin, django_capture_on_commit_callbacks):
    other = ProjectFactory()
    with django_capture_on_commit_callbacks(execute=True):
        sent = member_invite(project=other, email="x@example.com", role="viewer", base_url="/")
    reply = admin.post(f"/app/settings/invitations/{sent.invitation.pk}/revoke/")
    assert reply.status_code == 404
    sent.invitation.refresh_from_db()
    assert sent.invitation.status == "pending"


def test_inviting_again_replaces_the_pending_invitation(
    admin, project, ana, django_capture_on_commit_callbacks
):
    _invite(admin, "ana@example.com", role="viewer", capture=django_capture_on_commit_callbacks)
    _invite(admin, "ana@example.com", role="agent", capture=django_capture_on_commit_callbacks)
    first, second = (_link(m)[0] for m in mail.outbox)
    assert list(MemberInvitation.objects.order_by("pk").values_list("role", "status")) == [
        ("viewer", "revoked"),
        ("agent", "pending"),
    ]
    client = Client()
    client.force_login(ana)
    assert client.post(first).status_code == 404
    client.post(second)
    assert Membership.objects.get(project=project, user=ana).role == "agent"


def test_an_invitation_expires(admin, project, ana, django_capture_on_commit_callbacks):
    _invite(admin, "ana@example.com", capture=django_capture_on_commit_callbacks)
    path, _token = _link(mail.outbox[0])
    client = Client()
    client.force_login(ana)
    with time_machine.travel(timezone.now() + timedelta(days=7, minutes=1)):
        assert client.post(path).status_code == 404
    assert not Membership.objects.filter(user=ana, project=project).exists()


def test_members_and_bad_addresses_are_refused_beside_the_field(
    admin, project, boss, django_capture_on_commit_callbacks
):
    assert _invite(admin, "boss@example.com", capture=django_capture_on_commit_callbacks) == [
        "No invitation was sent: Already a member of this project."
    ]
    assert _invite(admin, "not-an-address", capture=django_capture_on_commit_callbacks) == [
        "No invitation was sent: Enter a valid email address."
    ]
    assert not MemberInvitation.objects.exists() and mail.outbox == []


@pytest.mark.parametrize("role", ["designer", "agent", "viewer"])
def test_only_admins_invite_and_revoke(project, role, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        sent = member_invite(project=project, email="x@example.com", role="viewer", base_url="/")
    user = UserFactory(username=role)
    MembershipFactory(user=user, project=project, role=role)
    client = Client()
    client.force_login(user)
    invite = client.post("/app/settings/members/", {"email": "y@example.com", "role": "admin"})
    assert invite.status_code == 403
    revoke = client.post(f"/app/settings/invitations/{sent.invitation.pk}/revoke/")
    assert revoke.status_code == 403
    assert list(MemberInvitation.objects.values_list("email", "status")) == [
        ("x@example.com", "pending")
    ]


def _login(user) -> Client:
    client = Client()
    client.force_login(user)  # sends user_logged_in, as the login page does
    return client


def test_a_login_lands_in_the_project_the_user_chose_last(
    admin, project, ana, django_capture_on_commit_callbacks
):
    """Ana works in her own project; the boss's project is older (a lower id), which is where
    the first login used to land once the boss added her."""
    own = ProjectFactory(name="Ana's own")
    assert own.pk > project.pk
    MembershipFactory(user=ana, project=own, role="admin")
    assert _login(ana).session[SESSION_PROJECT_KEY] == own.pk

    _invite(admin, "ana@example.com", role="viewer", capture=django_capture_on_commit_callbacks)
    assert _login(ana).session[SESSION_PROJECT_KEY] == own.pk  # an invitation moves nothing

    client = _login(ana)
    client.post(_link(mail.outbox[0])[0])  # she accepts: her choice, so she is there now
    assert client.session[SESSION_PROJECT_KEY] == project.pk
    assert _login(ana).session[SESSION_PROJECT_KEY] == project.pk

    client.post("/app/switch-project/", {"project": own.pk, "next": "/app/journey/"})
    assert StaffPreference.objects.get(user=ana).current_project == own
    membership = Membership.objects.get(user=ana, project=project)
    admin.post(f"/app/settings/members/{membership.pk}/", {"role": "designer"})
    admin.post("/app/switch-project/", {"project": project.pk})  # the admin's own choice
    assert _login(ana).session[SESSION_PROJECT_KEY] == own.pk
    assert StaffPreference.objects.get(user=ana).current_project == own


def test_a_login_leaves_a_project_the_user_was_removed_from(admin, project, ana):
    other = ProjectFactory()
    MembershipFactory(user=ana, project=other, role="viewer")
    membership = MembershipFactory(user=ana, project=project, role="viewer")
    _login(ana).post("/app/switch-project/", {"project": project.pk})
    admin.post(f"/app/settings/members/{membership.pk}/", {"remove": "1"})
    assert _login(ana).session[SESSION_PROJECT_KEY] == other.pk


def test_the_project_switcher_goes_back_only_to_this_site(ana, project):
    MembershipFactory(user=ana, project=project, role="viewer")
    client = _login(ana)
    away = client.post(
        "/app/switch-project/", {"project": project.pk, "next": "https://evil.test/"}
    )
    assert away["Location"] == "/app/"
    back = client.post("/app/switch-project/", {"project": project.pk, "next": "/app/journey/"})
    assert back["Location"] == "/app/journey/"
