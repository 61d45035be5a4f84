"""The widget in real Chromium on a phone-sized screen, against a live server."""

import time

import pytest

from feedback.answering.models import Feedback, Response
from surveys.design.services import QuestionIn
from surveys.tenancy.models import Project
from tests.factories import NPS_WITH_WHY, ProjectFactory, TouchpointFactory, published_survey

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PHONE = {"width": 375, "height": 740}


def wait_for(predicate, timeout: float = 15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError("condition not met in time")


@pytest.fixture
def demo(live_server) -> Project:
    project = ProjectFactory(
        name="Demo Shop",
        is_demo=True,
        allowed_origins=[live_server.url],
        theme={"primary_color": "#4f46e5"},
    )
    checkout = TouchpointFactory(project=project, key="checkout_completed")
    viewed = TouchpointFactory(project=project, key="product_viewed")
    TouchpointFactory(project=project, key="support_ticket_closed")
    published_survey(project, touchpoints=[checkout], name="Checkout NPS", delay_seconds=1)
    published_survey(project, touchpoints=[viewed], name="Product NPS")
    return project


def test_survey_flow_cooldown_and_feedback_tab_on_a_phone(browser, live_server, demo, artifacts):
    page = browser.new_page(viewport=PHONE, locale="en-US")
    page.goto(f"{live_server.url}/demo/")
    page.wait_for_function("() => window.voc && window.voc.version")

    page.click("#checkout")
    page.wait_for_timeout(400)
    assert page.locator(".voc-survey").count() == 0  # honours the 1 s delay
    page.wait_for_selector(".voc-survey", timeout=5000)
    assert page.locator(".voc-q").inner_text() == "How likely are you to recommend us?"
    page.wait_for_timeout(400)  # let the slide-in finish before the screenshot
    page.screenshot(path=str(artifacts / "widget-phone.png"))
    box = page.locator(".voc-survey").bounding_box()
    assert box["width"] <= PHONE["width"] and box["x"] >= 0  # fits the phone screen

    page.locator(".voc-scale-btn", has_text="3").first.click()
    page.wait_for_selector(".voc-text")
    assert page.locator(".voc-q").inner_text() == "What could we do better?"
    page.fill(".voc-text", "Delivery was slow")
    page.screenshot(path=str(artifacts / "widget-phone-followup.png"))
    page.click(".voc-next")
    page.wait_for_selector(".voc-thanks")
    response = wait_for(lambda: Response.objects.filter(project=demo, finished=True).first())
    assert sorted((a.question_type, a.value_int, a.value_text) for a in response.answers.all()) == [
        ("nps", 3, ""),
        ("text", None, "Delivery was slow"),
    ]

    page.click("#view-product")  # another survey, inside the global cooldown
    page.wait_for_function(
        "() => document.getElementById('log').textContent.includes('product_viewed')"
    )
    assert "held back: Global cooldown (global_cooldown)" in page.inner_text("#log")
    page.wait_for_timeout(4000)  # longer than any delay; the thank-you card has closed too
    assert page.locator(".voc-survey").count() == 0

    page.click(".voc-feedback-tab")
    page.fill(".voc-feedback-text", "Love the new checkout")
    page.click(".voc-feedback-send")
    page.wait_for_selector(".voc-thanks")
    feedback = wait_for(lambda: Feedback.objects.filter(project=demo).first())
    assert feedback.text == "Love the new checkout"
    page.close()


def test_an_answer_sent_while_offline_arrives_once_when_back(browser, live_server, demo, artifacts):
    page = browser.new_page(viewport=PHONE)
    page.goto(f"{live_server.url}/demo/")
    page.wait_for_function("() => window.voc && window.voc.version")
    page.route("**/api/widget/v1/responses", lambda route: route.abort())
    page.click("#checkout")
    page.wait_for_selector(".voc-survey", timeout=5000)
    page.locator(".voc-scale-btn", has_text="9").first.click()  # promoter: no follow-up, submits
    page.wait_for_selector(".voc-thanks")
    page.wait_for_timeout(1000)
    assert Response.objects.filter(project=demo).count() == 0
    assert "responses" in page.evaluate("localStorage.getItem('voc_outbox')")
    page.unroute("**/api/widget/v1/responses")
    response = wait_for(
        lambda: Response.objects.filter(project=demo, finished=True).first(), timeout=20
    )
    page.wait_for_timeout(3000)  # any duplicate retry would have landed by now
    assert Response.objects.filter(project=demo).count() == 1
    assert list(response.answers.values_list("value_int", flat=True)) == [9]
    assert page.evaluate("localStorage.getItem('voc_outbox')") == "[]"
    page.close()


HOSTILE = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>'


def test_hostile_survey_texts_are_shown_as_text(browser, live_server):
    """Question, choice and thank-you texts a designer typed (or an attacker got into a
    survey) are rendered as text by the widget, never as markup."""
    from surveys.design.services import QuestionIn

    project = ProjectFactory(name="Hostile", is_demo=True, allowed_origins=[live_server.url])
    checkout = TouchpointFactory(project=project, key="checkout_completed")
    published_survey(
        project,
        touchpoints=[checkout],
        questions=[
            QuestionIn(
                type="single_choice",
                text={"en": HOSTILE},
                choices=[{"en": HOSTILE}, {"en": "No"}],
            )
        ],
    )
    page = browser.new_page(viewport=PHONE, locale="en-US")
    page.goto(f"{live_server.url}/demo/")
    page.wait_for_function("() => window.voc && window.voc.version")
    page.click("#checkout")
    page.wait_for_selector(".voc-survey", timeout=5000)
    assert page.locator(".voc-q").inner_text() == HOSTILE
    page.wait_for_timeout(300)
    assert page.evaluate("window.__xss") is None
    assert (
        page.evaluate("document.querySelector('#voc-root') ? 0 : 0") == 0
        and page.locator("img[src=x]").count() == 0
    )
    page.close()


def test_the_counter_skips_hidden_questions_and_a_chinese_tab_stands_upright(
    browser, live_server, artifacts
):
    project = ProjectFactory(
        name="Demo Shop",
        is_demo=True,
        allowed_origins=[live_server.url],
        languages=["en", "zh"],
        default_language="en",
    )
    checkout = TouchpointFactory(project=project, key="checkout_completed")
    for key in ("product_viewed", "support_ticket_closed"):
        TouchpointFactory(project=project, key=key)
    anything = QuestionIn(
        type="text", text={"en": "Anything else?", "zh": "还有别的吗？"}, required=False
    )
    published_survey(project, touchpoints=[checkout], questions=[*NPS_WITH_WHY, anything])

    page = browser.new_page(viewport=PHONE, locale="zh-CN")
    page.goto(f"{live_server.url}/demo/")
    page.wait_for_function("() => window.voc && window.voc.version")
    tab = page.locator(".voc-feedback-tab")
    tab.wait_for()
    assert tab.inner_text().replace("\n", "") == "反馈"
    assert tab.evaluate(
        "b => [getComputedStyle(b).writingMode, getComputedStyle(b).textOrientation]"
    ) == ["vertical-rl", "upright"]

    page.click("#checkout")
    page.wait_for_selector(".voc-survey", timeout=5000)
    assert page.locator(".voc-progress").inner_text() == "1 / 3"  # the "why" may still come
    page.locator(".voc-scale-btn", has_text="10").first.click()  # a promoter: no "why"
    page.wait_for_selector(".voc-text")
    assert page.locator(".voc-q").inner_text() == "还有别的吗？"
    assert page.locator(".voc-progress").inner_text() == "2 / 2"
    page.screenshot(path=str(artifacts / "widget-zh-tab-counter.png"))
    page.close()
