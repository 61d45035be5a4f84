"""The Feedback inbox in real Chromium, on a laptop and a phone: filter the messages, mark
one handled, open a case from another in one click; and an admin's root-cause list."""

import uuid

import pytest
from django.test import TestCase

from feedback.answering.models import Feedback
from feedback.answering.services import feedback_submit
from feedback.cases.models import Case
from tests.factories import MembershipFactory, ProjectFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
VIEWPORTS = {"laptop": {"width": 1280, "height": 900}, "phone": {"width": 375, "height": 812}}


@pytest.fixture
def shop():
    project = ProjectFactory(name="Shop")
    agent = UserFactory(username="agent")
    MembershipFactory(user=agent, project=project, role="admin")
    for text, category, rating in (
        ("The parcel was two weeks late and nobody answered my e-mails", "bug", 1),
        ("Lovely new design, well done", "idea", 5),
        ("Where do I change my delivery address?", "question", None),
    ):
        with TestCase.captureOnCommitCallbacks(execute=True):
            feedback_submit(
                project=project,
                contact=None,
                submission_id=uuid.uuid4(),
                text=text,
                category=category,
                rating=rating,
            )
    return project


def sign_in(page, live_server):
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", "agent")
    page.fill("input[name=password]", "pw-123456")
    page.click("button[type=submit]")
    page.wait_for_load_state()


@pytest.mark.parametrize("device", ["laptop", "phone"])
def test_filter_handle_and_open_a_case(browser, live_server, shop, artifacts, device):
    page = browser.new_page(viewport=VIEWPORTS[device])
    sign_in(page, live_server)
    page.goto(f"{live_server.url}/app/feedback/")
    assert page.locator("[data-feedback]").count() == 3
    page.screenshot(path=str(artifacts / f"feedback-inbox-{device}.png"), full_page=True)
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= VIEWPORTS[device]["width"]  # nothing runs off the side

    page.select_option("#fb-category", "bug")
    page.click("form[role=search] button[type=submit]")
    page.wait_for_url("**category=bug**")
    rows = page.locator("[data-feedback]")
    assert rows.count() == 1
    assert "two weeks late" in rows.first.inner_text()

    late = Feedback.objects.get(category="bug")
    rows.first.locator("text=Open a case").click()
    page.wait_for_selector("#case-main")
    case = Case.objects.get(feedback=late)
    assert page.url.endswith(f"/app/cases/{case.pk}/")
    assert "two weeks late" in page.locator("#case-main").inner_text()

    page.goto(f"{live_server.url}/app/feedback/")
    praise = Feedback.objects.get(category="idea")
    page.locator(f"[data-feedback='{praise.pk}'] button:has-text('Mark handled')").click()
    page.wait_for_load_state()
    assert page.locator("[data-feedback]").count() == 1  # only the question is left new
    page.goto(f"{live_server.url}/app/feedback/?status=")
    assert f"Case #{case.pk}" in page.locator(f"[data-feedback='{late.pk}']").inner_text()
    page.screenshot(path=str(artifacts / f"feedback-inbox-worked-{device}.png"), full_page=True)
    assert Case.objects.filter(project=shop).count() == 1
    assert Feedback.objects.filter(project=shop, handled_at__isnull=False).count() == 2


def test_root_causes_page(browser, live_server, shop, artifacts):
    page = browser.new_page(viewport=VIEWPORTS["laptop"])
    sign_in(page, live_server)
    page.goto(f"{live_server.url}/app/root-causes/")
    for name in ("Courier delay", "Billing error"):
        page.fill("#rc-new", name)
        page.click("#rc-add")
        page.wait_for_selector(f"input[value='{name}']")
    page.fill("#rc-new", "courier delay")
    page.click("#rc-add")
    page.wait_for_selector("text=“courier delay” is already in the list.")
    page.screenshot(path=str(artifacts / "root-causes-laptop.png"), full_page=True)
    assert shop.root_causes.count() == 2
