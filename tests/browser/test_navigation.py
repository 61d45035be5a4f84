"""The staff navigation in real Chromium: on a laptop (1280 px and wider) every section's name
is on screen, whole and on one line, in English and in Chinese; on a phone the sections fold behind the toggler.
Screenshots go to test-artifacts/ (nav-1280-en.png, nav-1280-zh.png, nav-375-en.png)."""

from __future__ import annotations

import pytest

from metrics.demo.seed import DEMO_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Each section link's name: its box, whether it is cut or wrapped, and the row it sits on.
LABELS = """() => Array.from(document.querySelectorAll('#staffnav .nav-link')).map((link) => {
  const label = link.querySelector('.nav-label');
  const box = label.getBoundingClientRect();
  const line = parseFloat(getComputedStyle(label).lineHeight);
  return {
    text: label.textContent,
    visible: label.checkVisibility() && box.width > 8,
    inside: box.left >= 0 && box.right <= window.innerWidth,
    oneLine: box.height < line * 1.5,
    whole: label.scrollWidth <= Math.ceil(box.width) + 1,
  };
})"""


def sign_in(page, live_server, locale_page):
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/app/**")
    page.goto(f"{live_server.url}{locale_page}")


@pytest.mark.parametrize(
    ("width", "locale"), [(1280, "en-US"), (1280, "zh-CN"), (1440, "en-US"), (1920, "en-US")]
)
def test_every_section_name_is_whole_on_a_laptop(
    browser, live_server, demo, artifacts, width, locale
):
    page = browser.new_page(viewport={"width": width, "height": 800}, locale=locale)
    sign_in(page, live_server, "/app/dashboards/")
    labels = page.evaluate(LABELS)
    assert len(labels) == 13
    for label in labels:
        assert label["visible"] and label["inside"], label
        assert label["oneLine"] and label["whole"], label
    for control in ("#staffnav select[name=project]", "#staffnav button[type=submit]"):
        box = page.locator(control).bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= width, control
    short = "en" if locale == "en-US" else "zh"
    page.locator("nav.navbar").screenshot(path=str(artifacts / f"nav-{width}-{short}.png"))
    page.screenshot(path=str(artifacts / f"page-{width}-{short}.png"))


def test_on_a_phone_the_sections_fold_behind_the_toggler(browser, live_server, demo, artifacts):
    page = browser.new_page(viewport={"width": 375, "height": 740}, locale="en-US")
    sign_in(page, live_server, "/app/dashboards/")
    assert not page.locator("#staffnav").is_visible()
    page.click(".navbar-toggler")
    page.wait_for_selector("#staffnav.show")
    page.wait_for_timeout(400)  # the collapse animation
    labels = page.evaluate(LABELS)
    assert all(label["visible"] and label["inside"] and label["oneLine"] for label in labels)
    page.screenshot(path=str(artifacts / "nav-375-en.png"), full_page=False)


def test_a_missing_page_keeps_the_navigation(browser, live_server, demo, artifacts):
    page = browser.new_page(viewport={"width": 1280, "height": 800}, locale="en-US")
    sign_in(page, live_server, "/app/no-such-page/")
    assert page.locator("h1").inner_text() == "This page does not exist"
    assert len(page.evaluate(LABELS)) == 13
    page.screenshot(path=str(artifacts / "error-404-1280-en.png"))
    page.goto(f"{live_server.url}/app/audit/")
    page.screenshot(path=str(artifacts / "audit-1280-en.png"), full_page=True)
