"""The client's address is read from X-Forwarded-For only behind TRUSTED_PROXY_COUNT proxies
(issue 24): a forged header neither resets the widget's per-IP rate limit nor escapes a staff
login lockout; behind one proxy the right-most address is the client."""

from __future__ import annotations

import uuid

import pytest
from axes.models import AccessAttempt
from django.test import Client
from rest_framework.test import APIClient

from tests.factories import ProjectFactory, TouchpointFactory, UserFactory, published_survey

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_rate_counters")]

PEER = "203.0.113.7"  # REMOTE_ADDR: the client itself, or our proxy when there is one


@pytest.fixture
def project():
    project = ProjectFactory()
    published_survey(project, touchpoints=[TouchpointFactory(project=project, key="checkout")])
    return project


def decide(project, visitor: str, forwarded: str | None = None, peer: str = PEER):
    headers = {"REMOTE_ADDR": peer}
    if forwarded is not None:
        headers["HTTP_X_FORWARDED_FOR"] = forwarded
    return APIClient().post(
        "/api/widget/v1/decide",
        {"key": project.public_key, "visitor_id": visitor, "touchpoint": "checkout"},
        format="json",
        **headers,
    )


def feedback(project, visitor: str, forwarded: str | None = None, peer: str = PEER):
    headers = {"REMOTE_ADDR": peer}
    if forwarded is not None:
        headers["HTTP_X_FORWARDED_FOR"] = forwarded
    return APIClient().post(
        "/api/widget/v1/feedback",
        {
            "key": project.public_key,
            "visitor_id": visitor,
            "submission_id": str(uuid.uuid4()),
            "text": "Hello",
        },
        format="json",
        **headers,
    )


def test_without_a_proxy_a_forged_header_does_not_reset_the_ip_limit(project, settings):
    settings.TRUSTED_PROXY_COUNT = 0
    settings.WIDGET_RATE_LIMIT_PER_IP = 3
    statuses = [
        decide(project, f"v-{n}", forwarded=f"198.51.100.{n}").status_code for n in range(4)
    ]
    assert statuses == [200, 200, 200, 429]
    # the lean decide route and the DRF views count the same key
    assert feedback(project, "v-9", forwarded="192.0.2.1").status_code == 429
    assert decide(project, "v-10", peer="198.51.100.200").status_code == 200


def test_without_a_proxy_the_drf_views_ignore_the_header_too(project, settings):
    settings.TRUSTED_PROXY_COUNT = 0
    settings.WIDGET_RATE_LIMIT_PER_IP = 2
    statuses = [
        feedback(project, f"v-{n}", forwarded=f"198.51.100.{n}").status_code for n in range(3)
    ]
    assert statuses == [201, 201, 429]


def test_behind_one_proxy_the_right_most_address_is_the_client(project, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    settings.WIDGET_RATE_LIMIT_PER_IP = 2
    proxy = "10.0.0.5"
    # the client forges what it likes on the left; our proxy appends the address it saw
    first = decide(project, "a", forwarded="1.1.1.1, 198.51.100.20", peer=proxy)
    second = decide(project, "b", forwarded="2.2.2.2, 198.51.100.20", peer=proxy)
    third = decide(project, "c", forwarded="198.51.100.20", peer=proxy)
    assert [first.status_code, second.status_code, third.status_code] == [200, 200, 429]
    # another client behind the same proxy has its own count
    assert decide(project, "d", forwarded="198.51.100.21", peer=proxy).status_code == 200
    assert feedback(project, "e", forwarded="9.9.9.9, 198.51.100.21", peer=proxy).status_code == 201
    assert feedback(project, "f", forwarded="198.51.100.21", peer=proxy).status_code == 429


WRONG = "not-the-password"


def login(client: Client, forwarded: str | None, password: str, peer: str = PEER):
    headers = {"REMOTE_ADDR": peer}
    if forwarded is not None:
        headers["HTTP_X_FORWARDED_FOR"] = forwarded
    return client.post(
        "/accounts/login/", {"username": "ann", "password": password}, **headers
    ).status_code


def test_a_forged_header_does_not_escape_a_login_lockout(settings):
    settings.TRUSTED_PROXY_COUNT = 0
    UserFactory(username="ann", password="right-password-1")
    client = Client()
    statuses = [login(client, f"198.51.100.{n}", WRONG) for n in range(6)]
    assert statuses == [200, 200, 200, 200, 429, 429]
    assert list(AccessAttempt.objects.values_list("ip_address", flat=True)) == [PEER]


def test_behind_one_proxy_lockouts_are_per_right_most_address(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    UserFactory(username="ann", password="right-password-1")
    client = Client()
    proxy = "10.0.0.5"
    statuses = [
        login(client, f"{n}.{n}.{n}.{n}, 198.51.100.20", WRONG, peer=proxy) for n in range(1, 6)
    ]
    assert statuses == [200, 200, 200, 200, 429]
    other = login(client, "198.51.100.21", password="right-password-1", peer=proxy)
    assert other == 302  # another client behind the same proxy signs in
    assert list(AccessAttempt.objects.values_list("ip_address", flat=True)) == ["198.51.100.20"]
