"""An agent works a detractor case in real Chromium: claim, note, contacted, resolved."""

import uuid

import pytest

from feedback.answering.services import AnswerIn, response_submit
from feedback.cases.models import AlertRule, Case
from feedback.cases.services import alert_rules_install_defaults
from surveys.delivery.ledger import contact_resolve, display_claim
from surveys.tenancy.models import Team, TeamMembership
from tests.factories import (
    MembershipFactory,
    ProjectFactory,
    RootCauseFactory,
    TouchpointFactory,
    UserFactory,
    published_survey,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
LAPTOP = {"width": 1280, "height": 900}


@pytest.fixture
def detractor_case():
    project = ProjectFactory(name="Shop")
    alert_rules_install_defaults(project=project)
    agent = UserFactory(username="agent")
    MembershipFactory(user=agent, project=project, role="agent")
    team = Team.objects.create(project=project, name="Customer care")
    TeamMembership.objects.create(team=team, user=agent)
    AlertRule.objects.filter(project=project).update(team=team)
    RootCauseFactory(project=project, name="Courier damaged parcel")
    checkout = TouchpointFactory(project=project, key="checkout_completed", name="Checkout")
    survey = published_survey(project, touchpoints=[checkout])
    questions = survey.current_version.snapshot["questions"]
    contact = contact_resolve(project=project, visitor_id=None, user_id="cust-42")
    display = display_claim(project=project, contact=contact, touchpoint_key=checkout.key).display
    response_submit(
        project=project,
        display=display,
        submission_id=uuid.uuid4(),
        answers=[AnswerIn(questions[0]["id"], 2), AnswerIn(questions[1]["id"], "Box was crushed")],
        finished=True,
    )
    return Case.objects.get(project=project)


def test_agent_claims_notes_contacts_and_resolves(browser, live_server, detractor_case, artifacts):
    case = detractor_case
    page = browser.new_page(viewport=LAPTOP)
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", "agent")
    page.fill("input[name=password]", "pw-123456")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/app/inbox/")

    row = page.locator(f"tr[data-case='{case.pk}']")
    assert "NPS 2 · Checkout" in row.inner_text()
    assert "left" in row.inner_text()
    page.screenshot(path=str(artifacts / "inbox.png"), full_page=True)
    row.locator("a").first.click()
    page.wait_for_selector("#case-main")
    assert "Box was crushed" in page.locator("#case-answers").inner_text()

    page.click("#claim-case")
    page.wait_for_function("() => document.querySelector('#case-assignee').textContent === 'agent'")
    assert page.locator("#case-status").inner_text() == "In progress"

    page.fill("#case-update-form textarea[name=note]", "Called, no answer; left voicemail.")
    page.click("#case-update-form button[type=submit]")
    page.wait_for_selector("#case-events li[data-kind=note]")

    page.select_option("#case-update-form select[name=status]", "contacted")
    page.select_option("#case-update-form select[name=contact_method]", "phone")
    page.click("#case-update-form button[type=submit]")
    page.wait_for_function(
        "() => document.querySelector('#case-status').textContent === 'Contacted'"
    )

    page.select_option("#case-update-form select[name=status]", "resolved")
    page.click("#case-update-form button[type=submit]")  # no root cause yet: refused in place
    page.wait_for_selector("text=Say what caused it before resolving or closing the case.")
    assert page.locator("#case-status").inner_text() == "Contacted"

    page.select_option("#case-update-form select[name=status]", "resolved")
    page.select_option("#case-update-form select[name=root_cause]", label="Courier damaged parcel")
    page.fill("#case-update-form textarea[name=resolution_note]", "Sent a replacement")
    page.click("#case-update-form button[type=submit]")
    page.wait_for_function(
        "() => document.querySelector('#case-status').textContent === 'Resolved'"
    )
    page.wait_for_timeout(200)  # let htmx finish settling before the screenshot
    page.screenshot(path=str(artifacts / "case-resolved.png"), full_page=True)

    kinds = page.locator("#case-events li").evaluate_all("els => els.map(e => e.dataset.kind)")
    assert kinds == [
        "created",
        "claimed",
        "note",
        "contact_method",
        "status",
        "root_cause",
        "resolution_note",
        "status",
    ]
    timeline = page.locator("#case-events").inner_text()
    assert "Called, no answer; left voicemail." in timeline
    assert "Contacted → Resolved" in timeline
    case.refresh_from_db()
    assert (case.status, case.root_cause.name, case.contact_method) == (
        "resolved",
        "Courier damaged parcel",
        "phone",
    )
    assert case.assignee.username == "agent"
