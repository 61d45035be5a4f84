"""Identity verification (DESIGN.md §6): a widget call that names a user_id must prove it with
user_hash = HMAC-SHA256(user_id) under the project's identity secret, or change nothing."""

import hashlib
import hmac
import uuid

import pytest

from feedback.answering.models import Feedback
from surveys.contacts.identity import user_hash
from surveys.contacts.models import Contact
from surveys.tenancy.models import Project
from tests.factories import ProjectFactory, published_survey, signed

pytestmark = pytest.mark.django_db


@pytest.fixture
def victim(project):
    return Contact.objects.create(project=project, user_id="cust-1", attributes={"plan": "pro"})


def call(widget, path, project, **body):
    return widget.post(f"/api/widget/v1/{path}", {"key": project.public_key, **body}, format="json")


def test_user_hash_is_hex_hmac_sha256_of_the_user_id_under_the_secret():
    expected = hmac.new(b"is_secret", b"cust-1", hashlib.sha256).hexdigest()
    assert user_hash(secret="is_secret", user_id="cust-1") == expected
    assert len(expected) == 64


def test_new_projects_verify_identities_with_a_secret_of_their_own():
    first, second = ProjectFactory(), ProjectFactory()
    assert first.identity_verification is True
    assert first.identity_secret.startswith("is_") and len(first.identity_secret) > 40
    assert first.identity_secret != second.identity_secret


@pytest.mark.parametrize("forged", [{}, {"user_hash": ""}, {"user_hash": "ab" * 32}])
def test_a_forged_identity_changes_nothing(widget, project, touchpoint, victim, forged):
    published_survey(project, touchpoints=[touchpoint])
    claims = [
        ("decide", {"touchpoint": touchpoint.key, "attributes": {"plan": "free"}}),
        ("feedback", {"submission_id": str(uuid.uuid4()), "text": "written in your name"}),
        ("opt-out", {}),
    ]
    for path, body in claims:
        reply = call(
            widget, path, project, visitor_id="v-attacker", user_id="cust-1", **body, **forged
        )
        assert reply.status_code == 403, path
        assert reply.json()["error"]["code"] == "identity_unverified"
        assert reply.json()["error"]["fields"] == {
            "user_hash": ["Missing or not valid for this user_id."]
        }
    victim.refresh_from_db()
    assert victim.attributes == {"plan": "pro"}
    assert victim.opted_out_at is None
    assert Feedback.objects.count() == 0
    assert project.displays.count() == 0
    assert not project.visitor_ids.filter(visitor_id="v-attacker").exists()


def test_a_hash_for_another_user_does_not_prove_this_one(widget, project, victim):
    other = signed(project, "cust-2")["user_hash"]
    reply = call(widget, "opt-out", project, visitor_id="v", user_id="cust-1", user_hash=other)
    assert reply.status_code == 403
    victim.refresh_from_db()
    assert victim.opted_out_at is None


def test_a_signed_identity_is_accepted_on_every_call(widget, project, touchpoint, victim):
    published_survey(project, touchpoints=[touchpoint])
    identity = signed(project, "cust-1")
    decided = call(
        widget,
        "decide",
        project,
        visitor_id="v-1",
        touchpoint=touchpoint.key,
        attributes={"seats": 3},
        **identity,
    )
    assert decided.status_code == 200 and decided.json()["show"] is True
    sent = call(
        widget,
        "feedback",
        project,
        visitor_id="v-1",
        submission_id=str(uuid.uuid4()),
        text="Great",
        **identity,
    )
    assert sent.status_code == 201
    assert call(widget, "opt-out", project, visitor_id="v-1", **identity).status_code == 204
    victim.refresh_from_db()
    assert victim.attributes == {"plan": "pro", "seats": 3}
    assert victim.opted_out_at is not None
    assert Feedback.objects.get().contact == victim


def test_uppercase_hex_is_the_same_hash(widget, project, victim):
    identity = signed(project, "cust-1")
    reply = call(
        widget,
        "opt-out",
        project,
        visitor_id="v",
        user_id="cust-1",
        user_hash=identity["user_hash"].upper(),
    )
    assert reply.status_code == 204


def test_anonymous_visitors_need_no_hash(widget, project, touchpoint):
    published_survey(project, touchpoints=[touchpoint])
    reply = call(widget, "decide", project, visitor_id="v-anon", touchpoint=touchpoint.key)
    assert reply.status_code == 200 and reply.json()["show"] is True


def test_with_verification_off_a_user_id_is_taken_on_trust(widget, project, victim):
    Project.objects.filter(pk=project.pk).update(identity_verification=False)
    reply = call(widget, "opt-out", project, visitor_id="v", user_id="cust-1")
    assert reply.status_code == 204
    victim.refresh_from_db()
    assert victim.opted_out_at is not None


@pytest.fixture
def admin_client(client, project):
    from tests.factories import MembershipFactory

    membership = MembershipFactory(project=project, role="admin")
    client.force_login(membership.user)
    return client


def test_settings_warn_while_verification_is_off_and_turn_it_on(admin_client, project):
    page = admin_client.get("/app/settings/").content.decode()
    assert 'id="identity-warning"' not in page
    assert project.identity_secret in page
    Project.objects.filter(pk=project.pk).update(identity_verification=False)
    page = admin_client.get("/app/settings/").content.decode()
    assert "Identity verification is off." in page


def test_rotating_the_secret_stops_old_hashes(admin_client, widget, project, victim):
    old = signed(project, "cust-1")
    assert admin_client.post("/app/settings/identity-secret/").status_code == 302
    project.refresh_from_db()
    assert signed(project, "cust-1") != old
    reply = call(widget, "opt-out", project, visitor_id="v", **old)
    assert reply.status_code == 403
    entry = project.audit_entries.get(action="project.identity_secret_rotated")
    assert project.identity_secret not in str(entry.before) + str(entry.after)


def test_an_unsigned_call_from_a_signed_in_browser_does_not_act_on_the_person(
    widget, project, touchpoint, victim
):
    """Leaving out user_id must not reach the person a visitor id was last linked to."""
    published_survey(project, touchpoints=[touchpoint])
    signed_in = call(
        widget,
        "decide",
        project,
        visitor_id="v-shared",
        touchpoint=touchpoint.key,
        **signed(project, "cust-1"),
    )
    assert signed_in.status_code == 200
    assert project.visitor_ids.get(visitor_id="v-shared").contact == victim
    assert call(widget, "opt-out", project, visitor_id="v-shared").status_code == 204
    sent = call(
        widget,
        "feedback",
        project,
        visitor_id="v-shared",
        submission_id=str(uuid.uuid4()),
        text="not the victim",
    )
    assert sent.status_code == 201
    victim.refresh_from_db()
    assert victim.opted_out_at is None
    assert not Feedback.objects.filter(contact=victim).exists()
    stranger = project.visitor_ids.get(visitor_id="v-shared").contact
    assert stranger != victim and stranger.user_id is None and stranger.opted_out_at is not None
