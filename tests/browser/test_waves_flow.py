"""A recurring survey's waves in real Chromium, at laptop and phone width: the results page's
wave series and movement matrix, then a person who went from detractor to promoter opened on
their customer page — with no CSP violation or script error. Screenshots go to
test-artifacts/."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from tests.factories import MembershipFactory, UserFactory, answered, published_survey

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SIZES = {"laptop": {"width": 1280, "height": 900}, "phone": {"width": 375, "height": 812}}
PUBLISHED = datetime(2025, 1, 6, 10, tzinfo=UTC)
REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (e) => {
  console.error(`CSP violation: ${e.violatedDirective} refused ${e.blockedURI || "inline"}`);
}, true);
"""


@pytest.fixture
def quarterly(project, touchpoint):
    """Three people over two 90-day waves: one detractor turns promoter."""
    with time_machine.travel(PUBLISHED, tick=False):
        survey = published_survey(
            project, touchpoints=[touchpoint], name="Relationship NPS", recurrence_days=90
        )
    for user, day, score in [
        ("mei", 1, 2),
        ("li", 2, 8),
        ("wang", 3, 10),
        ("mei", 92, 10),
        ("li", 93, 6),
        ("wang", 94, 9),
    ]:
        with time_machine.travel(PUBLISHED + timedelta(days=day), tick=False):
            answered(survey, score, user_id=user)
    user = UserFactory(username="lead")
    MembershipFactory(user=user, project=project, role="admin")
    return survey


def test_waves_and_a_mover_on_their_customer_page(browser, live_server, quarterly, artifacts):
    for size, viewport in SIZES.items():
        page = browser.new_page(viewport=viewport)
        problems: list[str] = []
        page.add_init_script(REPORT_VIOLATIONS)
        page.on(
            "console",
            lambda message, problems=problems: (
                problems.append(message.text)
                if "CSP violation" in message.text or "Content Security Policy" in message.text
                else None
            ),
        )
        page.on("pageerror", lambda error, problems=problems: problems.append(str(error)))
        page.goto(f"{live_server.url}/accounts/login/")
        page.fill("input[name=username]", "lead")
        page.fill("input[name=password]", "pw-123456")
        page.click("button[type=submit]")
        page.wait_for_url("**/app/**")

        page.goto(f"{live_server.url}/app/results/{quarterly.pk}/")
        waves = page.locator("#waves")
        waves.scroll_into_view_if_needed()
        assert waves.locator("#wave-series tbody tr").count() == 2
        assert waves.locator('tr[data-wave="1"] .wave-score').inner_text() == "0.0"
        assert waves.locator('tr[data-wave="2"] .wave-score').inner_text() == "33.3"
        matrix = waves.locator(".movement-matrix")
        assert matrix.locator('tr[data-category="detractor"] td').all_inner_texts() == [
            "0",
            "0",
            "1",
        ]
        assert matrix.locator('tr[data-category="passive"] td').all_inner_texts() == [
            "1",
            "0",
            "0",
        ]
        page.screenshot(path=str(artifacts / f"results-waves-{size}.png"), full_page=True)

        waves.locator("a.mover", has_text="mei").click()
        page.wait_for_url("**/app/contacts/*/")
        assert "mei" in page.content()
        assert problems == []
        page.close()
