"""A designer names a survey from a template, gives it its own colour and previews it in
Chinese in real Chromium: the widget draws the unsaved colour, with dark text on a light
accent, and speaks Chinese on its buttons."""

from pathlib import Path

import pytest

from surveys.design.models import Survey
from tests.factories import MembershipFactory, ProjectFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = Path("/work/shots")
VIEWPORTS = {"1280": {"width": 1280, "height": 900}, "375": {"width": 375, "height": 740}}


@pytest.fixture
def shop(live_server):
    project = ProjectFactory(
        name="Demo Shop", languages=["en", "zh"], theme={"primary_color": "#0a7d3b"}
    )
    designer = UserFactory(username="designer")
    MembershipFactory(user=designer, project=project, role="designer")
    admin = UserFactory(username="admin")
    MembershipFactory(user=admin, project=project, role="admin")
    return project


def sign_in(page, live_server, username: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "pw-123456")
    page.click("button[type=submit]")


def button_colors(page, selector: str) -> tuple[str, str]:
    return tuple(
        page.locator(selector).evaluate(
            "el => [getComputedStyle(el).backgroundColor, getComputedStyle(el).color]"
        )
    )


@pytest.mark.parametrize("width", VIEWPORTS)
def test_a_colour_set_in_the_designer_is_previewed_in_chinese(
    browser, live_server, shop, artifacts, width
):
    page = browser.new_page(viewport=VIEWPORTS[width])
    sign_in(page, live_server, "designer")
    page.goto(f"{live_server.url}/app/surveys/")
    assert page.input_value("#new-nps-name") == "Relationship NPS"
    page.fill("#new-nps-name", "")
    page.click("button[data-template=nps]")
    error = page.locator("#new-nps-name-error")
    assert error.inner_text() == "Give the survey a name."
    error.scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / f"theme-template-name-refused-{width}.png"))
    page.fill("#new-nps-name", "Checkout NPS")
    page.click("button[data-template=nps]")
    page.wait_for_selector("#designer")
    assert page.locator("h1").inner_text() == "Checkout NPS"

    # The project's colour until the survey has its own; then the unsaved one is previewed.
    page.click("button[data-preview=zh]")
    page.locator(".voc-survey").wait_for()
    page.locator(".voc-scale-btn").nth(3).click()
    assert button_colors(page, ".voc-next") == ("rgb(10, 125, 59)", "rgb(255, 255, 255)")
    page.click(".voc-close")  # on a phone the card covers the page
    assert not page.is_checked("input[name=own_color]")
    page.fill("input[name=theme_color]", "#facc15")
    assert page.is_checked("input[name=own_color]")  # picking a colour makes it the survey's
    page.click("button[data-preview=zh]")
    page.locator(".voc-scale-btn").nth(3).click()
    submit = page.locator(".voc-next")
    assert submit.inner_text() == "提交"
    assert button_colors(page, ".voc-next") == ("rgb(250, 204, 21)", "rgb(17, 24, 39)")
    assert page.locator(".voc-close").get_attribute("aria-label") == "关闭"
    assert page.locator(".voc-optout").count() == 0  # a preview offers no opt-out
    page.locator("#survey-theme").scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / f"theme-designer-preview-zh-{width}.png"))
    page.screenshot(path=str(artifacts / f"theme-designer-preview-zh-{width}.png"))

    page.click("#save-draft")
    page.wait_for_selector("text=Draft saved. Publish to make it live.")
    assert Survey.objects.get(project=shop).theme == {"primary_color": "#facc15"}
    page.goto(f"{live_server.url}/app/surveys/")
    page.screenshot(path=str(SHOTS / f"theme-survey-list-{width}.png"), full_page=True)


def test_an_admin_sets_the_project_colour_in_settings(browser, live_server, shop):
    page = browser.new_page(viewport=VIEWPORTS["1280"])
    sign_in(page, live_server, "admin")
    page.goto(f"{live_server.url}/app/settings/")
    assert page.input_value("input[name=theme]") == "#0a7d3b"
    page.fill("input[name=theme]", "#7c3aed")
    page.locator("#project-theme").scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / "theme-settings-1280.png"))
    page.click("text=Save settings")
    page.wait_for_selector("text=Settings saved.")
    shop.refresh_from_db()
    assert shop.theme == {"primary_color": "#7c3aed"}
    phone = browser.new_page(viewport=VIEWPORTS["375"])
    sign_in(phone, live_server, "admin")
    phone.goto(f"{live_server.url}/app/settings/")
    phone.locator("#project-theme").scroll_into_view_if_needed()
    phone.screenshot(path=str(SHOTS / "theme-settings-375.png"))
