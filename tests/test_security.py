"""Security properties that cut across the apps: login attempts are limited, staff forms need
CSRF tokens, the public widget key reads nothing of the management API, and hostile text
(`<script>`, `onerror=`) stays inert in dashboards, the inbox, verbatims and e-mails."""

from __future__ import annotations

import json

import pytest
from django.core import mail
from django.test import Client

from feedback.cases.models import Case
from surveys.tenancy.services import project_create
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def test_login_attempts_are_rate_limited_per_username_and_ip():
    UserFactory(username="ann", password="right-password-1")
    client = Client()
    for _ in range(4):
        reply = client.post("/accounts/login/", {"username": "ann", "password": "wrong"})
        assert reply.status_code == 200  # the form again, with its error
    fifth = client.post("/accounts/login/", {"username": "ann", "password": "wrong"})
    assert fifth.status_code == 429
    locked = client.post("/accounts/login/", {"username": "ann", "password": "right-password-1"})
    assert locked.status_code == 429
    assert "Too many sign-in attempts" in locked.content.decode()
    other_user = client.post("/accounts/login/", {"username": "bob", "password": "wrong"})
    assert other_user.status_code == 200  # another username is not locked


def test_a_good_login_resets_the_count():
    UserFactory(username="cy", password="right-password-1")
    client = Client()
    for _ in range(4):
        client.post("/accounts/login/", {"username": "cy", "password": "wrong"})
    assert (
        client.post(
            "/accounts/login/", {"username": "cy", "password": "right-password-1"}
        ).status_code
        == 302
    )


def test_staff_forms_refuse_posts_without_a_csrf_token(project):
    user = UserFactory(username="csrf")
    MembershipFactory(user=user, project=project, role="admin")
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    for url, data in [
        ("/app/topics/new/", {"name": "T", "keywords_text": "x"}),
        ("/app/alert-rules/new/", {"name": "R"}),
        ("/app/settings/", {"name": "Renamed"}),
    ]:
        assert client.post(url, data).status_code == 403, url
    page = client.get("/app/topics/new/").content.decode()
    assert 'name="csrfmiddlewaretoken"' in page


def test_the_public_widget_key_reads_nothing_of_the_management_api(project):
    client = Client()
    headers = {"HTTP_AUTHORIZATION": f"Bearer {project.public_key}"}
    for path in (
        "/api/v1/surveys",
        "/api/v1/cases",
        "/api/v1/responses",
        "/api/v1/metrics?metric=nps",
        "/api/v1/topics",
        "/api/v1/contacts/someone",
        "/api/v1/webhooks",
    ):
        assert client.get(path, **headers).status_code in (401, 403), path


def test_hostile_text_is_inert_in_staff_pages_and_emails(project, respond):
    from feedback.cases.models import AlertRule
    from surveys.tenancy.models import Team, TeamMembership

    admin = UserFactory(username="boss", email="boss@shop.example")
    MembershipFactory(user=admin, project=project, role="admin")
    team = Team.objects.create(project=project, name="Care", lead=admin)
    TeamMembership.objects.create(team=team, user=admin)
    AlertRule.objects.filter(project=project).update(team=team)
    project.name = XSS
    project.save()
    response = respond(1, text=XSS, user=XSS[:60])
    case = Case.objects.get(response=response)
    client = Client()
    client.force_login(admin)
    for url in (
        "/app/dashboards/frontline/",
        "/app/inbox/",
        f"/app/cases/{case.pk}/",
        "/app/verbatims/",
        "/app/dashboards/",
        "/app/journey/",
    ):
        html = client.get(url).content.decode()
        assert "<script>alert(" not in html, url
        assert "<img src=x onerror" not in html, url
    html_mail = [m for m in mail.outbox if m.alternatives]
    assert html_mail, "the case e-mail was sent"
    for message in html_mail:
        body = message.alternatives[0][0]
        assert "<script>alert(" not in body and "<img src=x onerror" not in body
        assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in body


def test_secret_keys_are_stored_only_as_their_hash():
    import hashlib

    from surveys.tenancy.models import ApiKey

    _project, key = project_create(name="Keys")
    row = ApiKey.objects.values().get(pk=key.api_key.pk)
    assert key.raw not in str(row)
    assert row["key_hash"] == hashlib.sha256(key.raw.encode()).hexdigest()
    assert row["prefix"] == key.raw[:10]


@pytest.mark.parametrize(
    "properties",
    [
        {"note": "nul \u0000 inside"},
        {"key\u0000": 1},
        {"nested": [{"deep": "\ud800 unpaired"}]},
    ],
)
def test_json_postgresql_cannot_store_is_refused_before_anything_is_written(
    server_client, properties
):
    """NUL and unpaired surrogates in free-form JSON: a 400, not a 500 on PostgreSQL."""
    from surveys.contacts.models import OperationalEvent

    body = {"event": "order_delivered", "user_id": "u-1", "properties": properties}
    response = server_client.post(
        "/api/v1/events", json.dumps(body), content_type="application/json"
    )  # json.dumps escapes as \uXXXX, as a client would send them
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "malformed_request"
    assert OperationalEvent.objects.count() == 0


def test_json_nested_past_the_recursion_limit_is_a_400(api_client, project):
    body = '{"key": "' + project.public_key + '", "a": ' + "[" * 5000 + "]" * 5000 + "}"
    response = api_client.post("/api/widget/v1/decide", body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "malformed_request"


def test_numbers_beyond_a_float_are_refused_not_stored_as_infinity(server_client):
    from surveys.contacts.models import OperationalEvent

    body = '{"event": "order_delivered", "user_id": "u-1", "properties": {"total": 1e400}}'
    response = server_client.post("/api/v1/events", body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "malformed_request"
    assert OperationalEvent.objects.count() == 0
