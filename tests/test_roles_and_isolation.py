"""Every management endpoint, tried by every role and by project A against project B.

The endpoints come from the OpenAPI schema, so a new endpoint without an entry in ALLOWED
fails here until someone decides who may call it."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from feedback.cases.models import Case
from feedback.topics.models import RetagRun, Topic
from feedback.webhooks.models import WebhookDelivery
from feedback.webhooks.services import webhook_endpoint_create
from metrics.rollups.models import Rollup
from surveys.contacts.models import VisitorId
from surveys.delivery.links import link_create
from surveys.tenancy.models import Team, TeamMembership
from surveys.tenancy.services import api_key_create
from tests.factories import (
    ContactFactory,
    MembershipFactory,
    ProjectFactory,
    StageFactory,
    TouchpointFactory,
    UserFactory,
    published_survey,
)

pytestmark = pytest.mark.django_db

ALL = {"admin", "designer", "agent", "viewer"}
DESIGN = {"admin", "designer"}
CASES = {"admin", "designer", "agent"}
ADMIN = {"admin"}

# (method, path) → the roles that may call it
ALLOWED = {
    ("get", "/api/v1/touchpoints"): ALL,
    ("post", "/api/v1/touchpoints"): DESIGN,
    ("get", "/api/v1/touchpoints/{touchpoint_id}"): ALL,
    ("patch", "/api/v1/touchpoints/{touchpoint_id}"): DESIGN,
    ("delete", "/api/v1/touchpoints/{touchpoint_id}"): DESIGN,
    ("get", "/api/v1/stages"): ALL,
    ("post", "/api/v1/stages"): DESIGN,
    ("get", "/api/v1/stages/{stage_id}"): ALL,
    ("patch", "/api/v1/stages/{stage_id}"): DESIGN,
    ("delete", "/api/v1/stages/{stage_id}"): DESIGN,
    ("get", "/api/v1/surveys"): ALL,
    ("post", "/api/v1/surveys"): DESIGN,
    ("get", "/api/v1/surveys/{survey_id}"): ALL,
    ("patch", "/api/v1/surveys/{survey_id}"): DESIGN,
    # before close: a closed survey takes no new link
    ("get", "/api/v1/surveys/{survey_id}/links"): ALL,
    ("post", "/api/v1/surveys/{survey_id}/links"): DESIGN,
    ("get", "/api/v1/surveys/{survey_id}/links/{link_id}"): ALL,
    ("post", "/api/v1/surveys/{survey_id}/links/{link_id}/deactivate"): DESIGN,
    ("get", "/api/v1/surveys/{survey_id}/links/{link_id}/qr.png"): ALL,
    ("get", "/api/v1/surveys/{survey_id}/links/{link_id}/qr.svg"): ALL,
    ("post", "/api/v1/surveys/{survey_id}/publish"): DESIGN,
    ("post", "/api/v1/surveys/{survey_id}/pause"): DESIGN,
    ("post", "/api/v1/surveys/{survey_id}/resume"): DESIGN,
    ("post", "/api/v1/surveys/{survey_id}/close"): DESIGN,
    ("get", "/api/v1/metrics"): ALL,
    ("get", "/api/v1/metrics/decisions"): ALL,
    ("get", "/api/v1/metrics/drop-off"): ALL,
    ("get", "/api/v1/metrics/response-rate"): ALL,
    ("get", "/api/v1/metrics/churn"): ALL,
    ("get", "/api/v1/metrics/waves"): CASES,
    ("post", "/api/v1/events"): ADMIN,
    ("get", "/api/v1/contacts/{user_id}"): ADMIN,
    ("put", "/api/v1/contacts/{user_id}"): ADMIN,
    ("delete", "/api/v1/contacts/{user_id}"): ADMIN,
    ("delete", "/api/v1/visitors/{visitor_id}"): ADMIN,
    ("post", "/api/v1/contacts/import"): ADMIN,
    ("get", "/api/v1/cases"): CASES,
    ("get", "/api/v1/cases/stats"): CASES,
    ("get", "/api/v1/feedback"): CASES,
    ("get", "/api/v1/cases/{case_id}"): CASES,
    ("patch", "/api/v1/cases/{case_id}"): CASES,
    ("get", "/api/v1/responses"): CASES,
    ("get", "/api/v1/topics"): ALL,
    ("post", "/api/v1/topics"): DESIGN,
    ("get", "/api/v1/topics/{topic_id}"): ALL,
    ("patch", "/api/v1/topics/{topic_id}"): DESIGN,
    ("delete", "/api/v1/topics/{topic_id}"): DESIGN,
    ("get", "/api/v1/topics/suggestions"): DESIGN,
    ("get", "/api/v1/topics/retag-runs/{run_id}"): DESIGN,
    ("get", "/api/v1/webhooks"): ADMIN,
    ("post", "/api/v1/webhooks"): ADMIN,
    ("get", "/api/v1/webhooks/{webhook_id}"): ADMIN,
    ("patch", "/api/v1/webhooks/{webhook_id}"): ADMIN,
    ("delete", "/api/v1/webhooks/{webhook_id}"): ADMIN,
    ("get", "/api/v1/webhooks/{webhook_id}/deliveries"): ADMIN,
    ("post", "/api/v1/webhooks/deliveries/{delivery_id}/replay"): ADMIN,
    ("get", "/api/v1/webhooks/deliveries/{delivery_id}"): ADMIN,
    ("post", "/api/v1/webhooks/{webhook_id}/rotate-secret"): ADMIN,
    ("post", "/api/v1/webhooks/{webhook_id}/test"): ADMIN,
}


def management_operations() -> list[tuple[str, str]]:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return sorted(
        (method, path)
        for path, operations in schema["paths"].items()
        if path.startswith("/api/v1/")
        for method in operations
        if method in ("get", "post", "patch", "put", "delete")
    )


def test_every_management_endpoint_has_a_role_rule():
    assert set(management_operations()) == set(ALLOWED)


class World:
    """One project's objects: a touchpoint, a published survey, a case, a webhook, a delivery,
    a stage and a touchpoint that nothing points at (so they can be deleted)."""

    def __init__(self, name: str):
        self.project = ProjectFactory(name=name)
        self.touchpoint = TouchpointFactory(project=self.project, key="checkout_completed")
        # Nothing points at it, so it can be edited and deleted.
        self.spare_touchpoint = TouchpointFactory(project=self.project, key="spare")
        self.spare_stage = StageFactory(project=self.project, key="spare")  # holds none
        self.survey = published_survey(self.project, touchpoints=[self.touchpoint])
        self.link = link_create(
            project=self.project, survey=self.survey, label=f"{name} receipts", channel="receipt"
        )
        self.case = Case.objects.create(
            project=self.project, title=f"{name} case", due_at="2030-01-01T00:00Z"
        )
        self.webhook = webhook_endpoint_create(
            project=self.project, url="https://hooks.example/x", events=["case.created"]
        )
        self.delivery = WebhookDelivery.objects.create(
            endpoint=self.webhook, event="case.created", subject="s", payload={}, status="failed"
        )
        self.key = api_key_create(project=self.project).raw
        self.topic = Topic.objects.create(
            project=self.project, name=f"{name} topic", keywords=["x"]
        )
        self.retag = RetagRun.objects.create(project=self.project, status="done")
        self.contact = ContactFactory(
            project=self.project, user_id=f"{name}-customer", email=f"{name.lower()}@shop.example"
        )
        self.visitor = VisitorId.objects.create(  # an anonymous person of their own
            project=self.project,
            visitor_id=f"{name}-browser",
            contact=ContactFactory(project=self.project, user_id=None),
        )
        question = self.survey.current_version.snapshot["questions"][0]
        Rollup.objects.create(  # 7 promoters: numbers another project must never see
            project=self.project,
            survey=self.survey,
            question_uid=question["uid"],
            question_type="nps",
            scale_max=10,
            touchpoint_key=self.touchpoint.key,
            day="2026-01-01",
            score=10,
            count=7,
        )

    def url(self, path: str) -> str:
        url = (
            path.replace("{survey_id}", str(self.survey.pk))
            .replace("{case_id}", str(self.case.pk))
            .replace("{webhook_id}", str(self.webhook.pk))
            .replace("{touchpoint_id}", str(self.spare_touchpoint.pk))
            .replace("{stage_id}", str(self.spare_stage.pk))
            .replace("{delivery_id}", str(self.delivery.pk))
            .replace("{topic_id}", str(self.topic.pk))
            .replace("{run_id}", str(self.retag.pk))
            .replace("{user_id}", self.contact.user_id)
            .replace("{visitor_id}", self.visitor.visitor_id)
            .replace("{link_id}", str(self.link.pk))
        )
        if path.startswith("/api/v1/metrics"):
            url += f"?metric=nps&survey={self.survey.pk}"
        return url


BODIES = {
    ("post", "/api/v1/touchpoints"): {"key": "new_tp", "name": "New"},
    ("post", "/api/v1/surveys"): {
        "name": "S",
        "questions": [{"type": "nps", "text": {"en": "How likely?"}}],
    },
    ("patch", "/api/v1/surveys/{survey_id}"): {"name": "Renamed"},
    ("post", "/api/v1/surveys/{survey_id}/links"): {"label": "Counter", "channel": "store"},
    ("patch", "/api/v1/touchpoints/{touchpoint_id}"): {"name": "Renamed"},
    ("post", "/api/v1/stages"): {"key": "new_stage", "name": "New"},
    ("patch", "/api/v1/stages/{stage_id}"): {"name": "Renamed"},
    ("patch", "/api/v1/cases/{case_id}"): {"note": "hello"},
    ("post", "/api/v1/webhooks"): {"url": "https://hooks.example/y", "events": ["case.created"]},
    ("patch", "/api/v1/webhooks/{webhook_id}"): {"description": "changed"},
    ("post", "/api/v1/topics"): {"name": "Refunds", "keywords": ["refund"]},
    ("post", "/api/v1/events"): {"event": "order_placed", "user_id": "buyer-1", "revenue": "9.90"},
    ("put", "/api/v1/contacts/{user_id}"): {"attributes": {"plan": "pro"}},
    ("patch", "/api/v1/topics/{topic_id}"): {"keywords": ["x", "y"]},
}


def operations() -> list[tuple[tuple[str, str], set[str]]]:
    """Deletes last, so the objects stay there for the other calls."""
    return sorted(ALLOWED.items(), key=lambda item: item[0][0] == "delete")


def call(client, method: str, path: str, world: World):
    if path == "/api/v1/contacts/import":
        upload = SimpleUploadedFile("contacts.csv", b"user_id,plan\nimported-1,pro\n")
        return client.post(world.url(path), {"file": upload})
    body = BODIES.get((method, path))
    kwargs = {"data": json.dumps(body), "content_type": "application/json"} if body else {}
    return getattr(client, method)(world.url(path), **kwargs)


@pytest.fixture
def worlds():
    return World("A"), World("B")


@pytest.mark.parametrize("role", sorted(ALL))
def test_each_role_gets_exactly_what_it_may(worlds, role):
    a, _ = worlds
    user = UserFactory(username=role)
    MembershipFactory(user=user, project=a.project, role=role)
    if role == "agent":  # agents work their team's cases
        team = Team.objects.create(project=a.project, name="Care")
        TeamMembership.objects.create(team=team, user=user)
        Case.objects.filter(pk=a.case.pk).update(team=team)
    client = Client(enforce_csrf_checks=False)
    client.force_login(user)
    client.defaults["HTTP_X_PROJECT"] = str(a.project.pk)
    outcomes = {}
    for (method, path), allowed in operations():
        status = call(client, method, path, a).status_code
        outcomes[(method, path)] = status
        if role in allowed:
            assert status < 400, (method, path, status)
        else:
            assert status == 403, (method, path, status)
    assert outcomes  # every operation was tried


def _leaks(body: bytes, b: World) -> bool:
    text = body.decode()
    return any(
        marker in text
        for marker in (
            b.case.title,
            str(b.delivery.pk),
            f'"id":{b.survey.pk},"name"',
            b.topic.name,
            b.contact.email,
            b.link.label,
            b.link.token,
        )
    )


def test_project_a_key_never_reads_or_changes_project_b(worlds):
    a, b = worlds
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {a.key}")
    own = client.get(a.url("/api/v1/metrics"))
    assert b'"n":7' in own.content  # the marker is visible to its own project
    assert a.case.title.encode() in client.get("/api/v1/cases").content
    for (method, path), _ in operations():
        if method == "put":
            continue  # an upsert: tried last, below
        reply = call(client, method, path, b)
        if "{" in path:
            assert reply.status_code == 404, (method, path, reply.status_code)
        else:
            assert reply.status_code < 500, (method, path)
            assert not _leaks(reply.content, b), (method, path)
            assert b'"n":7' not in reply.content, (method, path)
    b.survey.refresh_from_db()
    b.case.refresh_from_db()
    b.webhook.refresh_from_db()
    assert (b.survey.name, b.survey.status, b.case.events.count()) == ("NPS", "active", 0)
    assert (b.webhook.description, b.webhook.is_active) == ("", True)
    # PUT of B's user id creates that id in A's own project; B's contact is untouched
    reply = call(client, "put", "/api/v1/contacts/{user_id}", b)
    assert reply.status_code == 201 and not _leaks(reply.content, b)
    b.contact.refresh_from_db()
    assert (b.contact.attributes, b.contact.erased_at) == ({}, None)


def test_a_user_of_project_a_is_refused_on_project_b(worlds):
    a, b = worlds
    admin = UserFactory(username="a-admin")
    MembershipFactory(user=admin, project=a.project, role="admin")
    client = Client()
    client.force_login(admin)
    client.defaults["HTTP_X_PROJECT"] = str(b.project.pk)
    for (method, path), _ in operations():
        assert call(client, method, path, b).status_code == 403, (method, path)
    # and asking about B's objects through A gets nothing either
    client.defaults["HTTP_X_PROJECT"] = str(a.project.pk)
    for (method, path), _ in operations():
        if "{" in path and method != "put":
            assert call(client, method, path, b).status_code == 404, (method, path)
