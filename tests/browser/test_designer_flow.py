"""A designer builds an NPS survey in real Chromium and the demo shop then shows it."""

import pytest

from surveys.design.models import Survey
from tests.factories import MembershipFactory, ProjectFactory, TouchpointFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
LAPTOP = {"width": 1280, "height": 900}
PHONE = {"width": 375, "height": 740}


@pytest.fixture
def shop(live_server):
    project = ProjectFactory(
        name="Demo Shop", is_demo=True, allowed_origins=[live_server.url], languages=["en", "zh"]
    )
    TouchpointFactory(project=project, key="product_viewed", name="Viewed a product")
    designer = UserFactory(username="designer")
    MembershipFactory(user=designer, project=project, role="designer")
    return project


def test_designer_creates_translates_attaches_previews_publishes(
    browser, live_server, shop, artifacts
):
    page = browser.new_page(viewport=LAPTOP)
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", "designer")
    page.fill("input[name=password]", "pw-123456")
    page.click("button[type=submit]")
    page.goto(f"{live_server.url}/app/surveys/")
    page.click("button[data-template=nps]")
    page.wait_for_selector("#designer")

    # The Chinese translation, typed by the designer.
    page.fill("input[name=q-0-text_zh]", "您会向朋友推荐我们的商店吗？")
    page.fill("input[name=q-1-text_zh]", "请告诉我们原因。")
    page.fill("input[name=name]", "Shop NPS")
    page.check("input[name=touchpoints][value=product_viewed]")

    page.click("button[data-preview=zh]")  # live: the unsaved text is what the widget shows
    preview = page.locator(".voc-q")
    preview.wait_for()
    assert preview.inner_text() == "您会向朋友推荐我们的商店吗？"
    page.screenshot(path=str(artifacts / "designer-preview.png"))

    page.click("#save-draft")
    page.wait_for_selector("text=Draft saved. Publish to make it live.")

    page.click("#publish")
    page.wait_for_selector("text=Published version 1: it is live now.")
    assert page.locator("#survey-status").inner_text() == "Active"
    survey = Survey.objects.get(project=shop, name="Shop NPS")
    assert survey.current_version.snapshot["questions"][0]["text"]["zh"] == (
        "您会向朋友推荐我们的商店吗？"
    )

    customer = browser.new_page(viewport=PHONE, locale="zh-CN")
    customer.goto(f"{live_server.url}/demo/")
    customer.wait_for_function("() => window.voc && window.voc.version")
    customer.click("#view-product")
    customer.wait_for_selector(".voc-survey", timeout=8000)
    assert customer.locator(".voc-q").inner_text() == "您会向朋友推荐我们的商店吗？"
    customer.screenshot(path=str(artifacts / "demo-shows-published-survey.png"))
