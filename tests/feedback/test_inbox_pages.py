"""Staff pages of the closed loop: the inbox, the case page and its htmx updates, alert rules,
webhooks — what each role sees and may do."""

from __future__ import annotations

import pytest
from django.test import Client

from feedback.cases.models import AlertRule, Case
from feedback.webhooks.models import WebhookEndpoint
from surveys.tenancy.models import Team, TeamMembership
from tests.factories import MembershipFactory, RootCauseFactory, UserFactory

pytestmark = pytest.mark.django_db


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def member(project, username: str, role: str, team: Team | None = None):
    user = UserFactory(username=username)
    MembershipFactory(user=user, project=project, role=role)
    if team is not None:
        TeamMembership.objects.create(team=team, user=user)
    return user


@pytest.fixture
def care(project):
    return Team.objects.create(project=project, name="Care")


@pytest.fixture
def two_cases(project, care, respond):
    rule = AlertRule.objects.get(project=project, question_type="nps")
    rule.team = care
    rule.save()
    mine = Case.objects.get(response=respond(2, "Parcel arrived broken", user="alice"))
    rule.team = None
    rule.save()
    other = Case.objects.get(response=respond(0, user="bob"))
    return mine, other


def test_an_agent_inbox_lists_only_team_cases_with_time_left(project, care, two_cases):
    agent = member(project, "agent", "agent", care)
    page = login(agent).get("/app/inbox/")
    assert page.status_code == 200
    html = page.content.decode()
    assert f"#{two_cases[0].pk} NPS 2" in html
    assert f"#{two_cases[1].pk} " not in html
    assert "23 h 59 min left" in html or "23 h 58 min left" in html
    assert "Claim" in html


def test_inbox_filters_are_applied(project, care, two_cases):
    admin = member(project, "boss", "admin")
    client = login(admin)
    html = client.get(f"/app/inbox/?team={care.pk}").content.decode()
    assert f"#{two_cases[0].pk} " in html and f"#{two_cases[1].pk} " not in html
    html = client.get("/app/inbox/?status=closed").content.decode()
    assert "No cases match these filters." in html
    html = client.get("/app/inbox/?q=bob").content.decode()
    assert f"#{two_cases[1].pk} " in html and f"#{two_cases[0].pk} " not in html


def test_the_case_page_shows_answers_history_and_events(project, care, two_cases, respond):
    agent = member(project, "agent", "agent", care)
    case = two_cases[0]
    respond(9, user="alice")  # a later answer from the same customer
    html = login(agent).get(f"/app/cases/{case.pk}/").content.decode()
    assert "Parcel arrived broken" in html
    assert "How likely are you to recommend us?" in html
    assert html.count('class="border-top py-2 small"') == 2  # both answers in the history
    assert 'data-kind="created"' in html


def test_htmx_updates_swap_the_panel_and_show_errors_beside_fields(project, care, two_cases):
    agent = member(project, "agent", "agent", care)
    client = login(agent)
    case = two_cases[0]
    htmx = {"HTTP_HX_REQUEST": "true"}
    claimed = client.post(f"/app/cases/{case.pk}/assign/", {"assignee": "me"}, **htmx)
    assert claimed.status_code == 200
    assert 'id="case-main"' in claimed.content.decode()
    assert "<html" not in claimed.content.decode()  # a fragment, not the page

    refused = client.post(f"/app/cases/{case.pk}/update/", {"status": "resolved"}, **htmx)
    assert refused.status_code == 422
    assert "Say what caused it before resolving or closing the case." in refused.content.decode()
    assert Case.objects.get(pk=case.pk).status == "in_progress"

    packaging = RootCauseFactory(project=case.project, name="Packaging")
    done = client.post(
        f"/app/cases/{case.pk}/update/",
        {"status": "resolved", "root_cause": packaging.pk, "note": "Sent a new one"},
        **htmx,
    )
    assert done.status_code == 200
    case.refresh_from_db()
    assert (case.status, case.root_cause, case.assignee_id) == ("resolved", packaging, agent.pk)


def test_an_agent_cannot_open_or_change_another_teams_case(project, care, two_cases):
    agent = member(project, "agent", "agent", care)
    client = login(agent)
    other = two_cases[1]
    assert client.get(f"/app/cases/{other.pk}/").status_code == 404
    assert client.post(f"/app/cases/{other.pk}/assign/", {"assignee": "me"}).status_code == 404
    assert Case.objects.get(pk=other.pk).assignee_id is None


def test_viewers_have_no_inbox(project):
    viewer = member(project, "viewer", "viewer")
    assert login(viewer).get("/app/inbox/").status_code == 403


def test_designers_create_alert_rules_and_see_errors(project, care):
    designer = member(project, "designer", "designer")
    client = login(designer)
    empty = client.post(
        "/app/alert-rules/new/",
        {"name": "Nothing", "priority": "normal", "assignment": "none", "sla_hours": 24},
    )
    assert empty.status_code == 200
    assert "Give the rule a score range, keywords or topics" in empty.content.decode()
    saved = client.post(
        "/app/alert-rules/new/",
        {
            "name": "Refund mentions",
            "is_active": "on",
            "keywords_text": "refund\n退款\n",
            "segment_text": "plan=pro",
            "priority": "urgent",
            "team": care.pk,
            "assignment": "round_robin",
            "sla_hours": 4,
            "notify_email": "on",
        },
    )
    assert saved.status_code == 302
    rule = AlertRule.objects.get(name="Refund mentions")
    assert (rule.keywords, rule.segment, rule.team_id, rule.sla_hours) == (
        ["refund", "退款"],
        {"plan": "pro"},
        care.pk,
        4,
    )
    assert "Refund mentions" in client.get("/app/alert-rules/").content.decode()


def test_agents_cannot_edit_rules_and_only_admins_manage_webhooks(project, care):
    agent = member(project, "agent", "agent", care)
    designer = member(project, "designer", "designer")
    admin = member(project, "boss", "admin")
    assert login(agent).get("/app/alert-rules/").status_code == 403
    assert login(designer).get("/app/webhooks/").status_code == 403
    page = login(admin).post(
        "/app/webhooks/", {"url": "https://hooks.example/in", "events": ["case.created"]}
    )
    endpoint = WebhookEndpoint.objects.get(project=project)
    assert endpoint.secret in page.content.decode()  # shown once, right after creation
    assert endpoint.secret not in login(admin).get("/app/webhooks/").content.decode()
