"""An admin edits the journey where it is shown and tests a webhook, in real Chromium, on a
laptop and on a phone: rename a touchpoint, move it up with its arrow, drag it back, then send
a test event that the real `receiver` verifies and read its delivery page."""

import pytest

from feedback.webhooks.services import webhook_endpoint_create
from surveys.journey.models import JourneyStage, Touchpoint
from tests.factories import (
    MembershipFactory,
    ProjectFactory,
    StageFactory,
    TouchpointFactory,
    UserFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
VIEWPORTS = {"1280": {"width": 1280, "height": 900}, "375": {"width": 375, "height": 800}}


@pytest.fixture
def shop(receiver):
    project = ProjectFactory(name="Shop")
    MembershipFactory(user=UserFactory(username="admin"), project=project, role="admin")
    buy = StageFactory(project=project, key="buy", name="Buy", position=0)
    TouchpointFactory(project=project, key="cart", name="Cart", stage=buy, position=0)
    TouchpointFactory(project=project, key="checkout", name="Checkout", stage=buy, position=1)
    endpoint = webhook_endpoint_create(project=project, url=receiver.url, events=["case.created"])
    receiver.secret = endpoint.secret
    return project, endpoint


def order(project) -> list[str]:
    return list(
        Touchpoint.objects.filter(project=project, stage__key="buy")
        .order_by("position")
        .values_list("key", flat=True)
    )


@pytest.mark.parametrize("width", sorted(VIEWPORTS))
def test_rename_reorder_and_send_a_webhook_test(
    browser, live_server, shop, receiver, artifacts, width
):
    project, endpoint = shop
    page = browser.new_page(viewport=VIEWPORTS[width])
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", "pw-123456")
    page.click("button[type=submit]")
    page.goto(f"{live_server.url}/app/journey/")

    checkout = page.locator("[data-touchpoint='checkout']")
    checkout.locator("summary", has_text="Edit").click()
    checkout.locator("input[name=name]").fill("Payment")
    checkout.get_by_role("button", name="Rename").click()
    page.wait_for_load_state()
    checkout = page.locator("[data-touchpoint='checkout']")
    assert checkout.locator(".touchpoint-name").inner_text() == "Payment"

    checkout.get_by_role("button", name="Move Payment up").click()
    page.wait_for_load_state()
    assert order(project) == ["checkout", "cart"]
    names = page.locator("[data-stage='buy'] .touchpoint-name").all_inner_texts()
    assert names == ["Payment", "Cart"]
    page.screenshot(path=str(artifacts / f"journey-edit-{width}.png"), full_page=True)

    # Drag Cart above Payment: the same move, saved by the server.
    with page.expect_navigation():
        page.locator("[data-touchpoint='cart']").drag_to(
            page.locator("[data-touchpoint='checkout']"), target_position={"x": 20, "y": 5}
        )
    assert order(project) == ["cart", "checkout"]
    names = page.locator("[data-stage='buy'] .touchpoint-name").all_inner_texts()
    assert names == ["Cart", "Payment"]

    page.goto(f"{live_server.url}/app/webhooks/")
    page.locator(f"tr[data-webhook='{endpoint.pk}']").get_by_role(
        "button", name="Send test event"
    ).click()
    page.wait_for_url("**/app/webhooks/deliveries/**")
    attempt = page.locator(".webhook-attempt").first
    assert "Attempt 1" in attempt.inner_text()
    assert "HTTP 200" in attempt.inner_text()
    assert '"type": "test.ping"' in page.locator("#delivery-payload").inner_text()
    page.locator(".webhook-attempt summary", has_text="Headers sent").click()
    assert "webhook-signature" in attempt.inner_text()
    page.screenshot(path=str(artifacts / f"webhook-test-delivery-{width}.png"), full_page=True)
    assert [(r["payload"]["type"], r["verified"]) for r in receiver.received] == [
        ("test.ping", True)
    ]


def stages(project) -> list[tuple[str, bool]]:
    return [
        (stage.key, stage.retired_at is not None)
        for stage in JourneyStage.objects.filter(project=project)
    ]


@pytest.mark.parametrize("width", sorted(VIEWPORTS))
def test_add_reorder_retire_restore_and_delete_a_stage(
    browser, live_server, shop, artifacts, width
):
    project, _ = shop
    page = browser.new_page(viewport=VIEWPORTS[width])
    page.on("dialog", lambda dialog: dialog.accept())  # the confirmations of retire and delete
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", "pw-123456")
    page.click("button[type=submit]")
    page.goto(f"{live_server.url}/app/journey/")

    page.locator("summary", has_text="Add a stage").click()
    page.fill("#id_key", "renew")
    page.fill("#id_name", "Renew")
    page.get_by_role("button", name="Add stage").click()
    page.wait_for_load_state()
    page.get_by_role("button", name="Move stage Renew earlier").click()
    page.wait_for_load_state()
    assert stages(project) == [("renew", False), ("buy", False)]

    buy = page.locator("section[data-stage='buy']")
    buy.locator("summary", has_text="Edit stage").click()
    buy.get_by_role("button", name="Retire stage Buy").click()
    page.wait_for_load_state()
    assert stages(project) == [("renew", False), ("buy", True)]
    retired = page.locator("section[data-stage-retired='buy']")
    assert retired.locator("h2").inner_text().startswith("2. BUY")
    # Collapsed: its touchpoints are behind "2 touchpoints" until opened.
    assert not retired.locator("[data-touchpoint='cart']").is_visible()
    assert float(retired.evaluate("e => getComputedStyle(e).opacity")) == 0.75
    page.screenshot(path=str(artifacts / f"journey-stage-retired-{width}.png"), full_page=True)
    retired.locator("summary", has_text="2 touchpoints").click()
    assert retired.locator("[data-touchpoint='cart']").is_visible()

    retired.get_by_role("button", name="Restore stage Buy").click()
    page.wait_for_load_state()
    assert stages(project) == [("renew", False), ("buy", False)]
    names = page.locator("[data-stage='buy'] .touchpoint-name").all_inner_texts()
    assert names == ["Cart", "Checkout"]

    renew = page.locator("section[data-stage='renew']")
    renew.locator("summary", has_text="Edit stage").click()
    renew.get_by_role("button", name="Retire stage Renew").click()
    page.wait_for_load_state()
    page.get_by_role("button", name="Delete stage Renew").click()
    page.wait_for_load_state()
    assert stages(project) == [("buy", False)]
    assert page.locator("section[data-stage-retired]").count() == 0
