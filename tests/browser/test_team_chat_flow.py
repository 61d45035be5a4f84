"""An admin connects a team to a Slack channel in real Chromium: from Settings to the team's
chat alerts, adds the channel, sends a test message (received by the real `receiver` on
127.0.0.1) and reads its attempt in the delivery log."""

import json

import pytest

from surveys.tenancy.models import Team
from tests.factories import MembershipFactory, ProjectFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
LAPTOP = {"width": 1280, "height": 900}


def test_admin_adds_a_slack_channel_and_sends_a_test_message(
    browser, live_server, receiver, artifacts
):
    project = ProjectFactory(name="Shop")
    admin = UserFactory(username="boss")
    MembershipFactory(user=admin, project=project, role="admin")
    team = Team.objects.create(project=project, name="Customer care")

    page = browser.new_page(viewport=LAPTOP)
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", "boss")
    page.fill("input[name=password]", "pw-123456")
    page.click("button[type=submit]")
    page.goto(f"{live_server.url}/app/settings/")
    page.get_by_role("link", name="Chat alerts").click()
    page.wait_for_url(f"{live_server.url}/app/teams/{team.pk}/chat/")

    page.select_option("select[name=kind]", "slack")
    page.fill("input[name=url]", receiver.url)
    page.check("input[name=events][value='case.created']")
    page.check("input[name=events][value='case.overdue']")
    page.fill("input[name=description]", "#care-alerts")
    page.get_by_role("button", name="Add channel").click()
    page.wait_for_url(f"{live_server.url}/app/teams/{team.pk}/chat/")
    row = page.locator("tr[data-channel]")
    assert "Slack" in row.inner_text() and "#care-alerts" in row.inner_text()
    assert "Case Created, Case Overdue" in row.inner_text()
    page.screenshot(path=str(artifacts / "team-chat-page.png"), full_page=True)

    row.get_by_role("button", name="Send test message").click()
    page.wait_for_url(f"{live_server.url}/app/webhooks/deliveries/*/")
    assert "HTTP 200" in page.locator(".webhook-attempt").inner_text()
    (received,) = receiver.received
    assert json.loads(received["body"])["text"] == "vocsite test message"
    page.screenshot(path=str(artifacts / "team-chat-test-message.png"))
