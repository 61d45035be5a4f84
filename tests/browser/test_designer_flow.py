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


def nps_draft_in_designer(browser, live_server):
    """The designer signs in and starts a survey from the NPS template: its designer page."""
    page = browser.new_page(viewport=LAPTOP)
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", "designer")
    page.fill("input[name=password]", "pw-123456")
    page.click("button[type=submit]")
    page.goto(f"{live_server.url}/app/surveys/")
    page.click("button[data-template=nps]")
    page.wait_for_selector("#designer")
    return page


def test_designer_creates_translates_attaches_previews_publishes(
    browser, live_server, shop, artifacts
):
    page = nps_draft_in_designer(browser, live_server)

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


def test_designer_drags_adds_two_questions_and_saves_the_order(
    browser, live_server, shop, artifacts
):
    page = nps_draft_in_designer(browser, live_server)

    # The follow-up question is dragged above the NPS question by its handle.
    page.drag_and_drop("#question-q-1 .question-handle", "#question-q-0 .question-handle")
    assert page.locator("#question-list > li .question-title").all_inner_texts() == [
        "Question 1",
        "Question 2",
    ]
    assert page.locator("#question-list > li").evaluate_all("items => items.map(i => i.id)") == [
        "question-q-1",
        "question-q-0",
    ]

    # Two new questions; the second moves up one place with the keyboard alternative.
    for text_en, text_zh in (
        ("Which plan are you on?", "您用哪个套餐？"),
        ("Anything else?", "还有别的吗？"),
    ):
        page.click("#add-question")
        added = page.locator("#question-list > li").last
        added.locator("select[name$='-type']").select_option("text")
        added.locator("input[name$='-text_en']").fill(text_en)
        added.locator("input[name$='-text_zh']").fill(text_zh)
    page.locator("#question-q-3 .question-up").click()
    assert page.locator("#question-q-3 .question-title").inner_text() == "Question 3"
    # A condition on the NPS question (now number 2) follows it when it moves to number 1.
    page.locator("#question-q-3 details summary").click()
    page.locator("#question-q-3 input[name$='-show_if_question']").fill("2")
    page.locator("#question-q-3 input[name$='-show_if_min']").fill("0")
    page.locator("#question-q-3 input[name$='-show_if_max']").fill("6")
    page.locator("#question-q-0 .question-up").click()
    assert page.locator("#question-q-3 input[name$='-show_if_question']").input_value() == "1"
    page.screenshot(path=artifacts / "designer-1280.png", full_page=False)
    page.set_viewport_size(PHONE)
    page.locator("#question-q-3").scroll_into_view_if_needed()
    bar = page.locator("#save-draft").bounding_box()  # the sticky bar stays in view
    assert bar["y"] > 0 and bar["y"] + bar["height"] <= PHONE["height"]
    assert page.locator("#publish").is_disabled()  # unsaved changes: save first
    page.screenshot(path=artifacts / "designer-375.png", full_page=False)
    page.set_viewport_size(LAPTOP)

    page.click("#save-draft")
    page.wait_for_selector("text=Draft saved. Publish to make it live.")
    survey = Survey.objects.get(project=shop)
    drafts = survey.questions.filter(version__isnull=True).order_by("position")
    assert [(q.type, q.text["en"]) for q in drafts] == [
        ("nps", "How likely are you to recommend us to a friend or colleague?"),
        ("text", "What is the main reason for your score?"),
        ("text", "Anything else?"),
        ("text", "Which plan are you on?"),
    ]
    assert drafts[3].text["zh"] == "您用哪个套餐？"
    assert drafts[2].show_if == {"question": 0, "min": 0, "max": 6}
