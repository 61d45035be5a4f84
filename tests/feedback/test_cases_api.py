"""Cases and webhooks API: filters, the lifecycle over PATCH, roles, project isolation."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from feedback.cases.models import AlertRule, Case, CaseEvent
from feedback.webhooks.models import WebhookDelivery
from surveys.tenancy.models import Team, TeamMembership
from surveys.tenancy.services import api_key_create
from tests.factories import MembershipFactory, ProjectFactory, RootCauseFactory, UserFactory

pytestmark = pytest.mark.django_db


def session(user, project) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    client.credentials(HTTP_X_PROJECT=str(project.pk))
    return client


@pytest.fixture
def care(project):
    return Team.objects.create(project=project, name="Care")


@pytest.fixture
def agent(project, care):
    user = UserFactory(username="agent")
    MembershipFactory(user=user, project=project, role="agent")
    TeamMembership.objects.create(team=care, user=user)
    return user


@pytest.fixture
def cases(project, care, respond):
    """Three detractor cases: two routed to Care, one to no team."""
    rule = AlertRule.objects.get(project=project, question_type="nps")
    rule.team = care
    rule.save()
    first = Case.objects.get(response=respond(1, user="c1"))
    second = Case.objects.get(response=respond(2, user="c2"))
    rule.team = None
    rule.save()
    third = Case.objects.get(response=respond(3, user="c3"))
    return first, second, third


def test_list_is_ordered_by_due_and_filtered(server_client, cases):
    first, second, third = cases
    body = server_client.get("/api/v1/cases").json()
    assert [c["id"] for c in body["results"]] == [first.pk, second.pk, third.pk]
    assert body["results"][0]["team"] == "Care"
    assert body["results"][0]["touchpoint"] == "checkout_completed"
    care_only = server_client.get(f"/api/v1/cases?team={first.team_id}").json()["results"]
    assert [c["id"] for c in care_only] == [first.pk, second.pk]
    assert server_client.get("/api/v1/cases?status=resolved").json()["results"] == []
    assert server_client.get("/api/v1/cases?overdue=true").json()["results"] == []
    assert server_client.get("/api/v1/cases?assignee=none").json()["results"][0]["id"] == first.pk


def test_pagination_by_cursor(server_client, cases):
    page = server_client.get("/api/v1/cases?limit=2").json()
    assert len(page["results"]) == 2
    rest = server_client.get(page["next"]).json()
    assert [c["id"] for c in rest["results"]] == [cases[2].pk]


def test_bad_filters_are_400_with_the_error_body(server_client):
    reply = server_client.get("/api/v1/cases?status=lost&team=abc")
    assert reply.status_code == 400
    assert set(reply.json()["error"]["fields"]) == {"status", "team"}


def test_patch_walks_the_lifecycle_and_records_events(server_client, cases, agent):
    case = cases[0]
    url = f"/api/v1/cases/{case.pk}"
    assert server_client.patch(url, {"assignee": "agent"}, format="json").status_code == 200
    reply = server_client.patch(url, {"status": "resolved"}, format="json")
    assert reply.status_code == 400
    assert reply.json()["error"]["fields"] == {
        "root_cause": ["Say what caused it before resolving or closing the case."]
    }
    reply = server_client.patch(
        url,
        {"status": "contacted", "contact_method": "email", "note": "Sent apology"},
        format="json",
    )
    assert reply.json()["status"] == "contacted"
    unknown = server_client.patch(
        url, {"status": "resolved", "root_cause": "Kourier"}, format="json"
    )
    assert unknown.status_code == 400
    assert unknown.json()["error"]["fields"] == {
        "root_cause": ["Not one of the project's root causes."]
    }
    RootCauseFactory(project=case.project, name="Courier")
    reply = server_client.patch(
        url, {"status": "resolved", "root_cause": "courier"}, format="json"
    ).json()
    assert (reply["status"], reply["root_cause"], reply["assignee"]) == (
        "resolved",
        "Courier",
        "agent",
    )
    assert [e["kind"] for e in reply["events"]] == [
        "created",
        "assigned",
        "contact_method",
        "status",
        "root_cause",
        "status",
    ]
    assert [a["value_int"] for a in reply["answers"]] == [1]


def test_unknown_assignee_changes_nothing(server_client, cases):
    reply = server_client.patch(
        f"/api/v1/cases/{cases[0].pk}", {"assignee": "ghost"}, format="json"
    )
    assert reply.status_code == 400
    assert CaseEvent.objects.filter(case=cases[0]).count() == 1


def test_agents_see_only_their_teams_cases(project, cases, agent):
    client = session(agent, project)
    ids = [c["id"] for c in client.get("/api/v1/cases").json()["results"]]
    assert ids == [cases[0].pk, cases[1].pk]
    assert client.get(f"/api/v1/cases/{cases[2].pk}").status_code == 404
    assert (
        client.patch(f"/api/v1/cases/{cases[2].pk}", {"note": "x"}, format="json").status_code
        == 404
    )
    claimed = client.patch(f"/api/v1/cases/{cases[0].pk}", {"assignee": "agent"}, format="json")
    assert claimed.json()["events"][-1]["kind"] == "claimed"


def test_viewers_are_refused_cases(project, cases):
    viewer = UserFactory(username="viewer")
    MembershipFactory(user=viewer, project=project, role="viewer")
    assert session(viewer, project).get("/api/v1/cases").status_code == 403


def test_another_projects_key_sees_none_of_these_cases(cases):
    other = ProjectFactory()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key_create(project=other).raw}")
    assert client.get("/api/v1/cases").json()["results"] == []
    assert client.get(f"/api/v1/cases/{cases[0].pk}").status_code == 404
    assert (
        client.patch(
            f"/api/v1/cases/{cases[0].pk}", {"status": "closed"}, format="json"
        ).status_code
        == 404
    )
    assert Case.objects.get(pk=cases[0].pk).status == "new"


def test_stats_report_sla_and_recovery(server_client, cases):
    body = server_client.get("/api/v1/cases/stats").json()
    assert body["recovery"] == {"closed": 0, "recovered": 0, "rate": None}
    assert [(t["team"], t["open"], t["compliance"]) for t in body["sla"]] == [
        ("(no team)", 1, None),
        ("Care", 2, None),
    ]


def test_webhooks_api_shows_the_secret_once_and_replays(project, server_client):
    created = server_client.post(
        "/api/v1/webhooks",
        {"url": "https://hooks.example/voc", "events": ["case.created"]},
        format="json",
    )
    assert created.status_code == 201
    assert created.json()["secret"].startswith("whsec_")
    listed = server_client.get("/api/v1/webhooks").json()
    assert [set(w) for w in listed] == [
        {"id", "url", "events", "description", "is_active", "created_at"}
    ]
    webhook_id = created.json()["id"]
    patched = server_client.patch(
        f"/api/v1/webhooks/{webhook_id}",
        {"events": ["case.overdue", "case.created"]},
        format="json",
    )
    assert patched.json()["events"] == ["case.created", "case.overdue"]
    bad = server_client.post("/api/v1/webhooks", {"url": "nope", "events": ["x"]}, format="json")
    assert bad.status_code == 400 and set(bad.json()["error"]["fields"]) == {"url", "events.0"}

    delivery = WebhookDelivery.objects.create(
        endpoint_id=webhook_id, event="case.created", subject="c1", payload={}, status="failed"
    )
    deliveries = server_client.get(f"/api/v1/webhooks/{webhook_id}/deliveries?status=failed")
    assert [d["id"] for d in deliveries.json()] == [str(delivery.pk)]
    replayed = server_client.post(f"/api/v1/webhooks/deliveries/{delivery.pk}/replay")
    assert replayed.status_code == 202
    assert server_client.delete(f"/api/v1/webhooks/{webhook_id}").status_code == 204
    assert server_client.get(f"/api/v1/webhooks/{webhook_id}").status_code == 404


def test_webhooks_are_for_admins_and_their_own_project(project, server_client, agent):
    created = server_client.post(
        "/api/v1/webhooks", {"url": "https://a.example", "events": ["case.created"]}, format="json"
    ).json()
    assert session(agent, project).get("/api/v1/webhooks").status_code == 403
    other = ProjectFactory()
    stranger = APIClient()
    stranger.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key_create(project=other).raw}")
    assert stranger.get(f"/api/v1/webhooks/{created['id']}").status_code == 404
    assert stranger.get("/api/v1/webhooks").json() == []
