"""Webhooks an admin can operate, against the real HTTP `receiver` on 127.0.0.1: edit, delete,
rotate the secret (the receiver verifies with the new one), send a test event through the
real delivery path, and open a delivery to read its payload, headers and attempts — failures
in words. Admins only; another project's endpoints and deliveries are a 404."""

from __future__ import annotations

import json
import socket

import pytest
from django.test import Client
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from feedback.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from feedback.webhooks.services import webhook_endpoint_create, webhook_test_send
from surveys.tenancy.models import AuditEntry
from tests.factories import MembershipFactory, ProjectFactory, UserFactory

pytestmark = pytest.mark.django_db


def staff(project, role: str = "admin") -> Client:
    user = UserFactory(username=f"{role}-{project.pk}")
    MembershipFactory(user=user, project=project, role=role)
    client = Client()
    client.force_login(user)
    client.defaults["HTTP_X_PROJECT"] = str(project.pk)
    return client


@pytest.fixture
def admin(project) -> Client:
    return staff(project)


@pytest.fixture
def refused_url() -> str:
    """A URL on 127.0.0.1 whose port nobody listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/hooks"


def test_the_test_event_is_a_signed_delivery_through_the_real_path(
    admin, endpoint, receiver, delivered
):
    with delivered():
        reply = admin.post(f"/app/webhooks/{endpoint.pk}/test/")
    delivery = WebhookDelivery.objects.get(event="test.ping")
    assert reply.status_code == 302
    assert reply["Location"] == f"/app/webhooks/deliveries/{delivery.pk}/"
    (received,) = receiver.received
    assert received["verified"] is True
    assert received["headers"]["webhook-id"] == str(delivery.pk)
    assert received["headers"]["vocsite-event"] == "test.ping"
    assert received["payload"]["type"] == "test.ping"
    assert received["payload"]["data"]["webhook"] == {"id": endpoint.pk, "url": endpoint.url}
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("succeeded", 1, 200)
    attempt = delivery.log.get()
    assert attempt.request_headers["webhook-signature"] == received["headers"]["webhook-signature"]
    assert attempt.request_headers["Host"] == f"127.0.0.1:{receiver.server.server_port}"
    assert attempt.response_excerpt == ""  # a loopback reply is never stored

    page = admin.get(reply["Location"]).content.decode()
    assert "Attempt 1" in page and "HTTP 200" in page
    assert received["headers"]["webhook-signature"] in page  # the headers sent
    assert "&quot;type&quot;: &quot;test.ping&quot;" in page  # the payload, as JSON
    assert "The reply's body is not kept" in page


def test_a_paused_endpoint_can_be_tested_and_the_api_sends_the_same(
    server_client, endpoint, receiver, delivered
):
    endpoint.is_active = False
    endpoint.save()
    with delivered():
        reply = server_client.post(f"/api/v1/webhooks/{endpoint.pk}/test")
    assert reply.status_code == 202
    assert (reply.json()["event"], reply.json()["status"]) == ("test.ping", "pending")
    detail = server_client.get(f"/api/v1/webhooks/deliveries/{reply.json()['id']}").json()
    assert detail["status"] == "succeeded"
    assert detail["endpoint"] == endpoint.pk
    assert [(a["number"], a["status_code"], a["error"]) for a in detail["log"]] == [(1, 200, "")]
    assert detail["log"][0]["request_headers"]["vocsite-event"] == "test.ping"
    assert [r["verified"] for r in receiver.received] == [True]


def test_rotating_the_secret_shows_it_once_and_signs_with_it(
    admin, project, endpoint, receiver, delivered
):
    old = endpoint.secret
    page = admin.post(f"/app/webhooks/{endpoint.pk}/rotate-secret/")
    endpoint.refresh_from_db()
    assert page.status_code == 200
    assert endpoint.secret != old and endpoint.secret.startswith("whsec_")
    assert (
        f'<code id="webhook-secret" class="user-select-all text-break">{endpoint.secret}</code>'
        in (page.content.decode())
    )
    assert endpoint.secret not in admin.get(f"/app/webhooks/{endpoint.pk}/").content.decode()
    assert endpoint.secret not in json.dumps(
        list(AuditEntry.objects.filter(project=project).values("before", "after"))
    )

    receiver.secret = endpoint.secret
    with delivered():
        webhook_test_send(endpoint=endpoint)
    (received,) = receiver.received
    assert received["verified"] is True  # verified with the new secret
    with pytest.raises(WebhookVerificationError):
        Webhook(old).verify(received["body"], received["headers"])


def test_the_api_rotates_the_secret(server_client, endpoint):
    old = endpoint.secret
    reply = server_client.post(f"/api/v1/webhooks/{endpoint.pk}/rotate-secret")
    endpoint.refresh_from_db()
    assert reply.status_code == 200
    assert reply.json()["secret"] == endpoint.secret != old
    assert "secret" not in server_client.get(f"/api/v1/webhooks/{endpoint.pk}").json()


def test_editing_saves_and_bad_input_is_a_400_that_changes_nothing(admin, endpoint):
    url = f"/app/webhooks/{endpoint.pk}/"
    assert admin.get(url).status_code == 200
    reply = admin.post(
        url,
        {"url": "https://hooks.example/new", "events": ["case.created"], "description": "CRM"},
    )
    assert reply.status_code == 302
    endpoint.refresh_from_db()
    assert (endpoint.url, endpoint.events, endpoint.description) == (
        "https://hooks.example/new",
        ["case.created"],
        "CRM",
    )
    for bad in (
        {"url": "ftp://hooks.example/x", "events": ["case.created"]},
        {"url": "https://hooks.example/x", "events": []},
        {"url": "https://hooks.example/x", "events": ["test.ping"]},
    ):
        reply = admin.post(url, bad)
        assert reply.status_code == 400, bad
        endpoint.refresh_from_db()
        assert (endpoint.url, endpoint.events) == ("https://hooks.example/new", ["case.created"])


def test_test_ping_is_not_subscribable_through_the_api(server_client):
    reply = server_client.post(
        "/api/v1/webhooks",
        {"url": "https://hooks.example/x", "events": ["test.ping"]},
        format="json",
    )
    assert reply.status_code == 400
    assert list(reply.json()["error"]["fields"]) == ["events.0"]
    assert WebhookEndpoint.objects.count() == 0


def test_deleting_removes_the_endpoint_and_its_log(admin, project, endpoint, delivered):
    with delivered():
        webhook_test_send(endpoint=endpoint)
    reply = admin.post(f"/app/webhooks/{endpoint.pk}/delete/")
    assert reply.status_code == 302
    assert not WebhookEndpoint.objects.filter(pk=endpoint.pk).exists()
    assert WebhookDelivery.objects.count() == 0 and WebhookAttempt.objects.count() == 0
    assert AuditEntry.objects.filter(project=project, action="webhook.deleted").count() == 1


def test_a_refused_port_reads_connection_refused_in_words(admin, project, refused_url, delivered):
    endpoint = webhook_endpoint_create(project=project, url=refused_url, events=["case.created"])
    with delivered():
        reply = admin.post(f"/app/webhooks/{endpoint.pk}/test/")
    delivery = WebhookDelivery.objects.get(endpoint=endpoint)
    assert (delivery.status, delivery.last_status_code, delivery.last_error) == (
        "pending",
        None,
        "Connection refused",
    )
    page = admin.get(reply["Location"]).content.decode()
    assert '<div class="text-danger small attempt-error">Connection refused</div>' in page
    assert "no reply" in page
    for python_text in ("Errno", "NewConnectionError", "Traceback", "urllib3"):
        assert python_text not in page


def test_only_admins_operate_webhooks(project, endpoint):
    delivery = webhook_test_send(endpoint=endpoint)
    for role in ("designer", "agent", "viewer"):
        client = staff(project, role)
        for method, url in [
            ("get", f"/app/webhooks/{endpoint.pk}/"),
            ("post", f"/app/webhooks/{endpoint.pk}/"),
            ("post", f"/app/webhooks/{endpoint.pk}/test/"),
            ("post", f"/app/webhooks/{endpoint.pk}/rotate-secret/"),
            ("post", f"/app/webhooks/{endpoint.pk}/delete/"),
            ("get", f"/app/webhooks/deliveries/{delivery.pk}/"),
        ]:
            assert getattr(client, method)(url).status_code == 403, (role, method, url)
    assert WebhookEndpoint.objects.filter(pk=endpoint.pk).exists()
    assert WebhookDelivery.objects.count() == 1


def test_another_projects_endpoints_and_deliveries_are_404_and_unchanged(admin, server_client):
    other = ProjectFactory()
    theirs = webhook_endpoint_create(
        project=other, url="https://hooks.example/theirs", events=["case.created"]
    )
    secret = theirs.secret
    delivery = webhook_test_send(endpoint=theirs)
    page_calls = [
        ("get", f"/app/webhooks/{theirs.pk}/"),
        ("post", f"/app/webhooks/{theirs.pk}/"),
        ("post", f"/app/webhooks/{theirs.pk}/test/"),
        ("post", f"/app/webhooks/{theirs.pk}/rotate-secret/"),
        ("post", f"/app/webhooks/{theirs.pk}/delete/"),
        ("get", f"/app/webhooks/deliveries/{delivery.pk}/"),
    ]
    for method, url in page_calls:
        assert getattr(admin, method)(url).status_code == 404, (method, url)
    api_calls = [
        ("post", f"/api/v1/webhooks/{theirs.pk}/test"),
        ("post", f"/api/v1/webhooks/{theirs.pk}/rotate-secret"),
        ("get", f"/api/v1/webhooks/deliveries/{delivery.pk}"),
    ]
    for method, url in api_calls:
        assert getattr(server_client, method)(url).status_code == 404, (method, url)
    theirs.refresh_from_db()
    assert (theirs.secret, theirs.url) == (secret, "https://hooks.example/theirs")
    assert WebhookDelivery.objects.filter(endpoint=theirs).count() == 1
    assert "theirs" not in admin.get("/app/webhooks/").content.decode()
