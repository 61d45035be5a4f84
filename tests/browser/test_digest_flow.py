"""The weekly digest in real Chromium: a manager (viewer) finds it from the dashboards,
subscribes, and reads this week's digest in the preview frame with every chart drawn.
Screenshot: test-artifacts/digest-preview.png."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from metrics.demo.seed import DEMO_PASSWORD
from metrics.digests.models import DigestSubscription

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_manager_subscribes_and_reads_the_preview(browser, live_server, demo, artifacts):
    page = browser.new_page(viewport={"width": 1280, "height": 1000}, locale="en-US")
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", "viewer")
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/app/**")
    page.goto(f"{live_server.url}/app/dashboards/")
    page.click("#digest-link")
    page.wait_for_url("**/app/digest/")
    assert page.locator("#digest-status").inner_text().strip() == "You are not subscribed."

    page.select_option("select[name=timezone]", "Europe/Berlin")
    page.click("#digest-subscribe")
    page.wait_for_url("**/app/digest/")
    status = page.locator("#digest-status").inner_text().strip()
    assert status.startswith("Subscribed: the next digest goes to viewer@")
    assert status.endswith(" 08:00 (Europe/Berlin).")
    viewer = get_user_model().objects.get(username="viewer")
    assert DigestSubscription.objects.get(user=viewer).timezone == "Europe/Berlin"

    frame = page.frame_locator("#digest-preview")
    frame.locator("#headlines").wait_for()
    drawn = frame.locator("img").evaluate_all("(images) => images.map((i) => i.naturalWidth)")
    assert len(drawn) == 4 and all(width == 900 for width in drawn), drawn
    assert frame.locator("#headlines tr").count() == 3
    page.screenshot(path=str(artifacts / "digest-preview.png"), full_page=True)

    page.click("#digest-unsubscribe")
    page.wait_for_url("**/app/digest/")
    assert not DigestSubscription.objects.filter(user=viewer).exists()
