"""An admin goes from the contacts list to a customer's page in real Chromium, on a laptop and
on a phone: identity, NPS over time and the timeline are there, with no CSP violation."""

import uuid
from decimal import Decimal

import pytest

from feedback.answering.services import feedback_submit
from feedback.cases.services import alert_rules_install_defaults
from surveys.delivery.events import EventIn, event_record
from tests.factories import (
    MembershipFactory,
    ProjectFactory,
    TouchpointFactory,
    UserFactory,
    answered,
    published_survey,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
LAPTOP = {"width": 1280, "height": 900}
PHONE = {"width": 375, "height": 812}


@pytest.fixture
def customer():
    project = ProjectFactory(name="Shop", recontact_days=0, frequency_cap=100)
    alert_rules_install_defaults(project=project)
    MembershipFactory(user=UserFactory(username="admin"), project=project, role="admin")
    checkout = TouchpointFactory(project=project, key="checkout_completed", name="Checkout")
    survey = published_survey(
        project, touchpoints=[checkout], display_option="always", recontact_days=0
    )
    event_record(project=project, data=EventIn(event="signed_up", user_id="cust-42"))
    answered(survey, 9, user_id="cust-42", attributes={"plan": "pro", "region": "EU"})
    response = answered(survey, 4, "The parcel arrived two days late", user_id="cust-42")
    feedback_submit(
        project=project,
        contact=response.contact,
        submission_id=uuid.uuid4(),
        text="Where is my refund?",
        category="question",
    )
    event_record(
        project=project,
        data=EventIn(event="order_placed", user_id="cust-42", revenue=Decimal("89.90")),
    )
    return response.contact


def _watch(page) -> list[str]:
    """CSP violations, script errors and failed requests on this page from now on."""
    problems: list[str] = []

    def on_console(message):
        if "Content Security Policy" in message.text or "Refused to" in message.text:
            problems.append(message.text)

    page.on("console", on_console)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on(
        "response",
        lambda r: r.status >= 400 and problems.append(f"{r.status} {r.url}"),
    )
    return problems


@pytest.mark.parametrize("viewport", [LAPTOP, PHONE], ids=["1280", "375"])
def test_from_the_contacts_list_to_the_customers_page(
    browser, live_server, customer, artifacts, viewport
):
    page = browser.new_page(viewport=viewport)
    problems = _watch(page)
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", "pw-123456")
    page.click("button[type=submit]")
    page.wait_for_url("**/app/**")

    page.goto(f"{live_server.url}/app/contacts/")
    page.click("#contacts a:has-text('cust-42')")
    page.wait_for_url(f"{live_server.url}/app/contacts/{customer.pk}/")

    assert page.locator("#contact-name").inner_text().strip() == "cust-42"
    assert page.locator("#contact-revenue").inner_text() == "89.90"
    assert page.locator("#contact-nps-category").inner_text() == "detractor"
    assert page.locator("#nps-sparkline circle").count() == 2
    kinds = page.locator("#timeline > li").evaluate_all("items => items.map(i => i.dataset.kind)")
    assert kinds == [
        "event",
        "feedback",
        "case",
        "response",
        "display",
        "response",
        "display",
        "event",
    ]
    assert "The parcel arrived two days late" in page.locator("#timeline").inner_text()
    # nothing is wider than the screen
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    page.screenshot(path=str(artifacts / f"contact-page-{viewport['width']}.png"), full_page=True)
    assert problems == []
