"""A printed survey link answered on a phone in Chromium: a Chinese customer scans the
receipt's QR code (the browser asks for Chinese), answers a low score and the follow-up
without JavaScript, on a 375-pixel screen with nothing wider than it; the answer lands under
the receipt channel with the store it was printed for. Screenshots land in test-artifacts/."""

import pytest

from feedback.answering.models import Response
from surveys.delivery.link_selectors import link_url
from surveys.delivery.links import link_create
from tests.factories import ProjectFactory, TouchpointFactory, published_survey

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PHONE = {"width": 375, "height": 667}


def _fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_chinese_customer_answers_a_receipt_link_on_a_phone(
    browser, live_server, settings, artifacts
):
    settings.VOCSITE_BASE_URL = live_server.url
    project = ProjectFactory(
        name="Demo Shop", languages=["en", "zh"], breakdown_attributes=["store"]
    )
    checkout = TouchpointFactory(project=project, key="checkout_completed")
    survey = published_survey(project, touchpoints=[checkout])
    link = link_create(
        project=project,
        survey=survey,
        label="Receipts",
        channel="receipt",
        touchpoint_key="checkout_completed",
        hidden_fields=["store"],
    )
    context = browser.new_context(
        viewport=PHONE, is_mobile=True, java_script_enabled=False, locale="zh-CN"
    )
    page = context.new_page()
    page.goto(link_url(link) + "?store=sh-021")
    assert page.locator("html").get_attribute("lang") == "zh"
    assert page.locator("legend").first.inner_text() == "您推荐我们的可能性有多大？"
    assert _fits(page)
    page.screenshot(path=str(artifacts / "survey-link-phone-zh-step1.png"), full_page=True)
    page.locator("label", has_text="3").first.click()
    page.locator("button").click()
    page.wait_for_selector("textarea")
    assert page.locator("legend").nth(1).inner_text() == "我们可以在哪些方面做得更好？"
    page.fill("textarea", "排队太久了")
    assert _fits(page)
    page.screenshot(path=str(artifacts / "survey-link-phone-zh-step2.png"), full_page=True)
    page.locator("button").click()
    assert "谢谢" in page.inner_text("[role=status]")
    response = Response.objects.get()
    assert (response.finished, response.channel, response.contact_id, response.language) == (
        True,
        "receipt",
        None,
        "zh",
    )
    assert response.segment == {"store": "sh-021"}
    assert sorted((a.question_type, a.value_int, a.value_text) for a in response.answers.all()) == [
        ("nps", 3, ""),
        ("text", None, "排队太久了"),
    ]
