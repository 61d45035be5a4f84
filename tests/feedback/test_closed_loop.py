"""The closed loop without noise (issue 27, item 5): one answer opens at most one case, owned
by the highest-priority matching rule with the others noted on it; root causes come from a
per-project list that admins manage (and the free text of before was migrated into it); the
inbox searches what the customer wrote; an alert rule shows how many recent answers it would
have matched, counted by the pipeline's own matcher."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client
from django.utils import timezone

from feedback.cases.models import AlertRule, Case, RootCause
from feedback.cases.selectors import alert_rule_reach
from feedback.cases.services import (
    CaseChange,
    case_change,
    cases_open_for_response,
    root_cause_save,
    rule_in,
)
from feedback.webhooks.models import WebhookDelivery
from feedback.webhooks.services import webhook_endpoint_create
from surveys.design.services import QuestionIn
from surveys.tenancy.models import Team
from tests.factories import (
    MembershipFactory,
    ProjectFactory,
    RootCauseFactory,
    TouchpointFactory,
    UserFactory,
    published_survey,
)
from vocsite.errors import ApplicationError

pytestmark = pytest.mark.django_db


def login(project, username: str, role: str) -> Client:
    user = UserFactory(username=username)
    MembershipFactory(user=user, project=project, role=role)
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def care(project):
    return Team.objects.create(project=project, name="Care", email="care@example.com")


@pytest.fixture
def csat_survey(project, survey):
    """A one-question CSAT survey (1–5) at a touchpoint of its own, beside the suite's survey
    (whose fixture installs the project's default rules)."""
    return published_survey(
        project,
        touchpoints=[TouchpointFactory(project=project, key="ticket_closed", name="Ticket")],
        questions=[QuestionIn(type="csat", text={"en": "How satisfied are you?"})],
        name="CSAT",
        display_option="always",
        recontact_days=0,
    )


# ---------------------------------------------------------------- one answer, one case


def test_a_csat_1_matching_two_rules_opens_one_case_one_email_one_webhook(
    project, care, csat_survey, respond
):
    AlertRule.objects.filter(project=project, question_type="csat").update(team=care)
    very_unhappy = AlertRule.objects.create(
        project=project, name="Any score of 1", score_max=1, priority="urgent", team=care
    )
    webhook_endpoint_create(
        project=project, url="http://127.0.0.1:9/hooks", events=["case.created"]
    )

    response = respond(1, survey=csat_survey)

    (case,) = Case.objects.filter(project=project)
    assert (case.response_id, case.rule_id, case.priority) == (
        response.pk,
        very_unhappy.pk,
        "urgent",
    )
    assert [rule.name for rule in case.also_matched.all()] == ["Unhappy CSAT (1–2 of 5)"]
    assert [(m.to, m.subject) for m in mail.outbox] == [
        (
            ["care@example.com"],
            f"[vocsite] New case #{case.pk}: CSAT 1 · {response.touchpoint.name}",
        )
    ]
    assert list(WebhookDelivery.objects.values_list("event", "subject")) == [
        ("case.created", f"case:{case.pk}")
    ]

    # Processed again (a replay, a second worker): still the one case.
    assert cases_open_for_response(response.pk) == []
    assert Case.objects.filter(project=project).count() == 1


def test_between_rules_of_equal_priority_the_oldest_owns_the_case(project, csat_survey, respond):
    default = AlertRule.objects.get(project=project, question_type="csat")
    AlertRule.objects.create(project=project, name="Ones", score_max=1, priority=default.priority)
    (case,) = Case.objects.filter(response=respond(1, survey=csat_survey))
    assert case.rule_id == default.pk
    assert [rule.name for rule in case.also_matched.all()] == ["Ones"]


def test_the_case_page_and_api_name_the_other_rules(project, csat_survey, respond, server_client):
    AlertRule.objects.create(project=project, name="Any score of 1", score_max=1, priority="urgent")
    case = Case.objects.get(response=respond(1, survey=csat_survey))
    page = login(project, "boss", "admin").get(f"/app/cases/{case.pk}/")
    assert "Also matched: “Unhappy CSAT (1–2 of 5)”" in page.content.decode()
    reply = server_client.get(f"/api/v1/cases/{case.pk}").json()
    assert (reply["rule"], reply["also_matched"]) == ("Any score of 1", ["Unhappy CSAT (1–2 of 5)"])


# ---------------------------------------------------------------- root causes


def test_root_causes_are_one_list_per_project_managed_by_admins(project):
    other = ProjectFactory()
    courier = root_cause_save(project=project, actor=None, name="  Courier   delay ")
    assert courier.name == "Courier delay"
    with pytest.raises(ApplicationError) as taken:
        root_cause_save(project=project, actor=None, name="courier DELAY")
    assert taken.value.fields == {"name": ["“courier DELAY” is already in the list."]}
    root_cause_save(project=other, actor=None, name="Courier delay")  # another project's list

    admin = login(project, "boss", "admin")
    added = admin.post("/app/root-causes/", {"name": "Billing error"})
    assert added.status_code == 302
    refused = admin.post("/app/root-causes/", {"name": "billing error"})
    assert refused.status_code == 422
    assert "“billing error” is already in the list." in refused.content.decode()
    renamed = admin.post(
        f"/app/root-causes/{courier.pk}/", {"name": "Courier late", "is_active": "on"}
    )
    assert renamed.status_code == 302
    retired = admin.post(f"/app/root-causes/{courier.pk}/", {"name": "Courier late"})
    assert retired.status_code == 302  # no is_active: retired
    assert list(RootCause.objects.filter(project=project).values_list("name", "is_active")) == [
        ("Billing error", True),
        ("Courier late", False),
    ]
    assert RootCause.objects.filter(project=other).count() == 1

    page = admin.get("/app/root-causes/").content.decode()
    assert "Billing error" in page and "Courier late" in page
    assert page.count('data-root-cause="') == 2  # not the other project's entry
    other_entry = RootCause.objects.get(project=other)
    assert admin.post(f"/app/root-causes/{other_entry.pk}/", {"name": "Mine"}).status_code == 404
    assert RootCause.objects.get(pk=other_entry.pk).name == "Courier delay"


def test_only_admins_manage_the_list(project):
    for role in ("designer", "agent", "viewer"):
        client = login(project, f"user-{role}", role)
        assert client.get("/app/root-causes/").status_code == 403
        assert client.post("/app/root-causes/", {"name": "Mine"}).status_code == 403
    assert RootCause.objects.count() == 0


def test_a_case_names_an_active_entry_of_its_own_project(project, respond):
    case = Case.objects.get(response=respond(2))
    retired = RootCauseFactory(project=project, name="Old cause", is_active=False)
    foreign = RootCauseFactory(project=ProjectFactory(), name="Elsewhere")
    for wrong in (retired, foreign):
        with pytest.raises(ApplicationError) as refused:
            case_change(
                case=case, actor=None, change=CaseChange(status="resolved", root_cause=wrong)
            )
        assert refused.value.fields == {"root_cause": ["Choose one of the project's root causes."]}
    assert Case.objects.get(pk=case.pk).status == "new"

    courier = RootCauseFactory(project=project, name="Courier delay")
    page = login(project, "boss", "admin").get(f"/app/cases/{case.pk}/").content.decode()
    options = re.findall(
        r'<option value="(\d*)"[^>]*>([^<]*)</option>',
        page.split('name="root_cause"')[1].split("</select>")[0],
    )
    assert options == [("", "—"), (str(courier.pk), "Courier delay")]


def test_the_root_cause_chart_counts_by_entry(project, respond):
    courier = RootCauseFactory(project=project, name="Courier delay")
    billing = RootCauseFactory(project=project, name="Billing error")
    for score, cause in ((1, courier), (2, courier), (3, billing)):
        case = Case.objects.get(response=respond(score, user=f"c{score}"))
        case_change(case=case, actor=None, change=CaseChange(status="resolved", root_cause=cause))
    page = login(project, "boss", "admin").get("/app/dashboards/lead/").content.decode()
    rows = re.findall(r"<tr><td>([^<]+)</td><td class=\"text-end\">(\d+)</td></tr>", page)
    assert rows == [("Courier delay", "2"), ("Billing error", "1")]


@pytest.mark.django_db(transaction=True)
def test_free_text_root_causes_become_each_projects_list():
    executor = MigrationExecutor(connection)
    before = [("feedback", "0014_root_cause_list")]
    latest = executor.loader.graph.leaf_nodes()
    executor.migrate(before)
    try:
        apps = executor.loader.project_state(before).apps
        Case = apps.get_model("feedback", "Case")
        shop, bank = ProjectFactory(name="Shop"), ProjectFactory(name="Bank")
        due = timezone.now()
        texts = {
            shop: ["Courier delay", "courier delay ", "Courier delay", "App bug", ""],
            bank: ["Courier delay", "Fees"],
        }
        for project, causes in texts.items():
            for n, text in enumerate(causes):
                Case.objects.create(
                    project_id=project.pk, title=f"#{n}", due_at=due, root_cause_text=text
                )
        executor = MigrationExecutor(connection)
        executor.migrate(latest)
    finally:
        MigrationExecutor(connection).migrate(latest)

    assert sorted(RootCause.objects.values_list("project__name", "name")) == [
        ("Bank", "Courier delay"),
        ("Bank", "Fees"),
        ("Shop", "App bug"),
        ("Shop", "Courier delay"),
    ]
    named = Case.objects.order_by("project__name", "title").values_list(
        "project__name", "title", "root_cause__name"
    )
    assert list(named) == [
        ("Bank", "#0", "Courier delay"),
        ("Bank", "#1", "Fees"),
        ("Shop", "#0", "Courier delay"),
        ("Shop", "#1", "Courier delay"),
        ("Shop", "#2", "Courier delay"),
        ("Shop", "#3", "App bug"),
        ("Shop", "#4", None),
    ]


# ---------------------------------------------------------------- the inbox reads the customer


def test_inbox_search_covers_what_the_customer_wrote_and_rows_show_it(project, respond):
    crushed = Case.objects.get(response=respond(2, "The box arrived crushed", user="alice"))
    Case.objects.get(response=respond(3, "Too expensive", user="bob"))
    page = login(project, "boss", "admin").get("/app/inbox/?q=crushed").content.decode()
    assert re.findall(r'data-case="(\d+)"', page) == [str(crushed.pk)]
    assert "“The box arrived crushed”" in page


def test_frontline_low_scores_link_to_their_cases(project, respond):
    case = Case.objects.get(response=respond(2, user="alice"))
    page = login(project, "boss", "admin").get("/app/dashboards/frontline/").content.decode()
    low = page.split('id="low-scores"')[1].split("</table>")[0]
    assert f'href="/app/cases/{case.pk}/">Case #{case.pk}</a>' in low


# ---------------------------------------------------------------- the rule preview


def test_the_rule_preview_counts_the_last_30_days_with_the_pipelines_matcher(project, respond):
    with time_machine.travel(timezone.now() - timedelta(days=31)):
        respond(1, "refund please", user="old")
    for n, (score, text) in enumerate(
        ((2, "I want a refund"), (5, ""), (6, "Refund!"), (8, ""), (10, ""))
    ):
        respond(score, text, user=f"u{n}")
    detractors = AlertRule.objects.get(project=project, question_type="nps")
    assert alert_rule_reach(project=project, rule=rule_in(detractors)).responses == 3
    recent = timezone.now() - timedelta(days=30)
    assert Case.objects.filter(rule=detractors, created_at__gte=recent).count() == 3

    designer = login(project, "designer", "designer")
    page = designer.get(f"/app/alert-rules/{detractors.pk}/").content.decode()
    assert "would have matched <strong>3</strong> answers" in page

    rules_before = AlertRule.objects.count()
    preview = designer.post(
        "/app/alert-rules/new/",
        {
            "name": "Refunds",
            "is_active": "on",
            "keywords_text": "refund",
            "priority": "normal",
            "assignment": "none",
            "sla_hours": "24",
            "preview": "1",
        },
    )
    assert preview.status_code == 200
    assert "would have matched <strong>2</strong> answers" in preview.content.decode()
    assert AlertRule.objects.count() == rules_before  # a preview saves nothing
