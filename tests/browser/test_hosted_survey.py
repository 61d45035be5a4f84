"""The hosted survey page at phone size in Chromium: a customer opens the e-mail link, taps a
score, answers the follow-up and sends — in English and in Chinese, with nothing wider than
the screen. Screenshots land in test-artifacts/."""

import re

import pytest
from django.core import mail
from django.utils import timezone

from feedback.answering.models import Response
from surveys.delivery.email_surveys import invitation_send
from surveys.delivery.events import EventIn, event_record
from surveys.delivery.models import Invitation
from tests.factories import ContactFactory, ProjectFactory, TouchpointFactory, published_survey

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PHONE = {"width": 375, "height": 667}


@pytest.fixture
def invited(live_server, settings):
    settings.VOCSITE_BASE_URL = live_server.url
    project = ProjectFactory(name="Demo Shop", languages=["en", "zh"])
    checkout = TouchpointFactory(project=project, key="checkout_completed")
    published_survey(project, touchpoints=[checkout], channels=["email"])

    def invite(user_id: str, language: str) -> str:
        ContactFactory(
            project=project, user_id=user_id, email=f"{user_id}@example.com", language=language
        )
        result = event_record(
            project=project, data=EventIn(event="checkout_completed", user_id=user_id)
        )
        Invitation.objects.filter(pk=result.invitation_id).update(send_after=timezone.now())
        assert invitation_send(str(result.invitation_id)) == "sent"
        body = mail.outbox[-1].body
        return next(u for u in re.findall(r"http://\S+", body) if "/s/" in u and "score" not in u)

    return invite


def _fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_customer_answers_on_a_phone(browser, invited, artifacts):
    link = invited("phone-en", "en")
    page = browser.new_page(viewport=PHONE, is_mobile=True, has_touch=True)
    page.goto(link)
    assert page.locator("legend").first.inner_text() == "How likely are you to recommend us?"
    assert _fits(page)
    page.screenshot(path=str(artifacts / "hosted-survey-phone-step1.png"), full_page=True)
    page.get_by_text("4", exact=True).tap()
    page.get_by_role("button", name="Next").tap()
    page.wait_for_selector("textarea")
    assert page.locator("input[value='4']").is_checked()
    page.fill("textarea", "Delivery took too long")
    page.screenshot(path=str(artifacts / "hosted-survey-phone-step2.png"), full_page=True)
    assert _fits(page)
    page.get_by_role("button", name="Send").tap()
    page.wait_for_selector("[role=status]")
    assert "Thank you" in page.inner_text("[role=status]")
    response = Response.objects.get(contact__user_id="phone-en")
    assert response.finished and response.channel == "email"
    assert sorted((a.question_type, a.value_int, a.value_text) for a in response.answers.all()) == [
        ("nps", 4, ""),
        ("text", None, "Delivery took too long"),
    ]


def test_chinese_customer_sees_chinese_and_works_without_javascript(browser, invited, artifacts):
    link = invited("phone-zh", "zh")
    context = browser.new_context(viewport=PHONE, java_script_enabled=False, locale="zh-CN")
    page = context.new_page()
    page.goto(link)
    assert page.locator("legend").first.inner_text() == "您推荐我们的可能性有多大？"
    assert page.locator("button").inner_text() == "下一步"
    page.locator("label", has_text="10").click()
    page.locator("button").click()
    assert "谢谢" in page.inner_text("[role=status]")  # a promoter: nothing more to ask
    page.screenshot(path=str(artifacts / "hosted-survey-phone-zh-done.png"), full_page=True)
    assert Response.objects.get(contact__user_id="phone-zh").finished is True
