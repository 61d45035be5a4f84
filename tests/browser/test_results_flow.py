"""A survey's results in real Chromium, at laptop and phone width: from the survey list into
an exit survey's results, a score filter applied, one response opened. Screenshots go to
test-artifacts/."""

import re

import pytest

from surveys.design.services import QuestionIn
from tests.factories import (
    MembershipFactory,
    TouchpointFactory,
    UserFactory,
    answered,
    published_survey,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SIZES = {"laptop": {"width": 1280, "height": 900}, "phone": {"width": 375, "height": 812}}


REASONS = [
    {"en": "Too expensive", "zh": "太贵了"},
    {"en": "Missing features", "zh": "缺少功能"},
    {"en": "Bad experience with support", "zh": "客服体验差"},
    {"en": "Switching to a competitor", "zh": "转向竞争对手"},
    {"en": "Other", "zh": "其他"},
]


@pytest.fixture
def exit_survey(project):
    """The demo's exit survey in small: why people leave, and whether they'd recommend us."""
    project.recontact_days = 0
    project.frequency_cap = 10_000
    project.save()
    where = TouchpointFactory(project=project, key="subscription_cancelled", name="Cancelled")
    survey = published_survey(
        project,
        allow_missing_translations=True,  # some texts fall back to English
        touchpoints=[where],
        name="Cancellation exit survey",
        display_option="always",
        recontact_days=0,
        questions=[
            QuestionIn(
                type="single_choice",
                text={"en": "Why are you leaving?", "zh": "您为什么要离开？"},
                choices=REASONS,
            ),
            QuestionIn(type="nps", text={"en": "How likely are you to recommend us anyway?"}),
            QuestionIn(type="text", text={"en": "Anything else?"}, required=False),
        ],
    )
    for i, (reason, score) in enumerate(
        [("c1", 2), ("c1", 9), ("c2", 5), ("c3", 0), ("c4", 8), ("c1", 10), ("c5", 6)]
    ):
        comment = "The price went up again and support never answered." if score < 3 else None
        answered(survey, reason, score, comment, user_id=f"customer-{i}@example.com")
    user = UserFactory(username="lead")
    MembershipFactory(user=user, project=project, role="admin")
    return survey


def _log_in(page, base: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=username]", "lead")
    page.fill("input[name=password]", "pw-123456")
    page.click("button[type=submit]")
    page.wait_for_url("**/app/**")


def _total(page) -> int:
    return int(re.match(r"\d+", page.locator("#results-total").inner_text()).group())


def test_results_filter_and_a_response(browser, live_server, exit_survey, artifacts):
    for size, viewport in SIZES.items():
        page = browser.new_page(viewport=viewport)
        errors: list[str] = []
        page.on("pageerror", lambda error, errors=errors: errors.append(str(error)))
        _log_in(page, live_server.url)

        page.goto(f"{live_server.url}/app/surveys/")
        page.locator(
            f'tr[data-survey="{exit_survey.pk}"] a[href$="/results/{exit_survey.pk}/"]'
        ).click()
        page.wait_for_url(f"**/app/results/{exit_survey.pk}/")
        assert _total(page) == 7
        why = page.locator("section.question-summary", has_text="Why are you leaving?")
        assert why.locator("tbody tr").count() == 5
        assert why.locator("tr", has_text="Too expensive").locator("progress").count() == 1
        page.screenshot(path=str(artifacts / f"results-{size}.png"), full_page=True)

        page.select_option("#f-score", "nps:0-6")
        page.click("#apply-filters")
        page.wait_for_url("**score=nps%3A0-6**")
        assert _total(page) == 4
        assert "score=nps%3A0-6" in page.locator("#export-csv").get_attribute("href")
        page.screenshot(path=str(artifacts / f"results-filtered-{size}.png"), full_page=True)

        page.locator("#responses tbody tr a").first.click()
        page.wait_for_url("**/app/responses/*/")
        assert "Why are you leaving?" in page.locator("#answers").inner_text()
        assert page.locator("#display").inner_text().count("Claimed at") == 1
        page.screenshot(path=str(artifacts / f"response-{size}.png"), full_page=True)
        assert errors == []
        page.close()
