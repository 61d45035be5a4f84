"""The Content-Security-Policy in real Chromium. Every staff page (enumerated from the URL
configuration, logged in as the demo admin), the hosted survey and unsubscribe pages, the demo
shop with the widget, the API docs and Django admin load without a single CSP violation (the
`securitypolicyviolation` events and Chromium's console reports are both watched), carry the
policy, and still work: charts draw, sizes and confirmations come from static scripts, forms
submit, the live preview and the shop draw the widget, the hosted page sends the e-mailed score.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.utils import timezone

from feedback.answering.models import Response
from feedback.cases.models import AlertRule, Case
from feedback.topics.models import RetagRun, Topic
from feedback.webhooks.chat_channels import chat_channel_create
from feedback.webhooks.models import WebhookDelivery
from feedback.webhooks.services import webhook_endpoint_create
from metrics.demo.seed import DEMO_PASSWORD
from metrics.digests.services import digest_subscribe, unsubscribe_token
from surveys.contacts.models import Contact
from surveys.delivery.email_surveys import invitation_send
from surveys.delivery.events import EventIn, event_record
from surveys.delivery.models import Invitation
from surveys.design.models import Survey
from surveys.tenancy.invitations import member_invite
from surveys.tenancy.models import ApiKey, MemberInvitation, Team
from tests.factories import ContactFactory, ProjectFactory, TouchpointFactory, published_survey
from tests.staff_routes import route_path, staff_routes

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
LAPTOP = {"width": 1366, "height": 900}

# Every violation is also written to the console, where the listener below collects it.
REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (e) => {
  console.error(`CSP violation: ${e.violatedDirective} refused ${e.blockedURI || "inline"}`
    + ` (${e.sourceFile || "?"}:${e.lineNumber})`);
}, true);
"""

# Not visited, each with why; a URL whose GET answers 405 is a form's action (POST only) and
# is skipped too.
NOT_PAGES = {
    "contact-export": "a JSON download, not a page",
    "survey-link-qr": "a PNG or SVG download, not a page",
    "password_reset_done": "shown after a reset request only",
    "password_reset_confirm": "needs the token of a reset e-mail",
    "password_reset_complete": "shown after a reset only",
}
# Pages that answer something else than 200 on purpose.
EXPECTED_STATUS = {"member-invitation": 403}  # the admin is not the invited address


def _watch(page) -> tuple[list[str], list[str]]:
    """(CSP violations, JavaScript errors) on this page from now on."""
    violations: list[str] = []
    errors: list[str] = []
    page.add_init_script(REPORT_VIOLATIONS)

    def on_console(message):
        text = message.text
        if "CSP violation" in text or "Content Security Policy" in text:
            violations.append(f"{page.url}: {text}")

    page.on("console", on_console)
    page.on("pageerror", lambda error: errors.append(f"{page.url}: {error}"))
    return violations, errors


def _log_in(page, base: str, username: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/app/**")


# Pages framed by a page of this site: the weekly digest's preview, in the digest page.
FRAMED = {"digest-preview"}
# Pages with inline styles: the survey editor's live widget, the digest e-mail's preview.
INLINE_STYLES = {"survey-edit", "digest-preview"}


def _strict(policy: str, name: str = "") -> dict[str, str]:
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'"
    assert directives["frame-ancestors"] == ("'self'" if name in FRAMED else "'none'")
    assert directives["object-src"] == "'none'"
    return directives


@pytest.fixture
def demo(demo, live_server):
    project = demo
    project.allowed_origins = [live_server.url]  # the shop below calls the widget API
    project.save(update_fields=["allowed_origins"])
    RetagRun.objects.create(project=project, status="running", total=200, done=80)
    return project


def _kwargs(project, live_server) -> dict[str, dict]:
    sent = member_invite(
        project=project, email="someone@example.com", role="viewer", base_url=live_server.url
    )
    admin = get_user_model().objects.get(username="admin")
    webhook = webhook_endpoint_create(
        project=project, url="https://hooks.example/csp", events=["case.created"]
    )
    delivery = WebhookDelivery.objects.create(
        endpoint=webhook, event="case.created", subject="csp", payload={"id": "x"}, status="failed"
    )
    team = Team.objects.filter(project=project).first()
    channel = chat_channel_create(
        team=team,
        kind="slack",
        url="https://hooks.slack.com/services/T/B/csp",
        events=["case.created"],
    )
    return {
        "team-chat": {"team_id": team.pk},
        "chat-channel-edit": {"team_id": team.pk, "channel_id": channel.pk},
        "webhook-edit": {"webhook_id": webhook.pk},
        "webhook-delivery": {"delivery_id": delivery.pk},
        "survey-edit": {"survey_id": Survey.objects.filter(project=project).first().pk},
        "case-detail": {"case_id": Case.objects.filter(project=project).first().pk},
        "response-detail": {"response_id": Response.objects.filter(project=project).first().pk},
        "alert-rule-edit": {"rule_id": AlertRule.objects.filter(project=project).first().pk},
        "topic-edit": {"topic_id": Topic.objects.filter(project=project).first().pk},
        "retag-progress": {"run_id": RetagRun.objects.get(project=project).pk},
        "member-invitation": {"token": sent.link.rstrip("/").rsplit("/", 1)[1]},
        "digest-unsubscribe": {
            "token": unsubscribe_token(digest_subscribe(project=project, user=admin))
        },
    }


def test_every_staff_page_loads_without_a_csp_violation(browser, live_server, demo, artifacts):
    routes = staff_routes()
    kwargs = _kwargs(demo, live_server)
    # Any argument works for a URL that only takes a POST: the GET is refused first.
    arguments = {
        "survey_id": kwargs["survey-edit"]["survey_id"],
        "case_id": kwargs["case-detail"]["case_id"],
        "topic_id": kwargs["topic-edit"]["topic_id"],
        "contact_id": Contact.objects.filter(project=demo).first().pk,
        "key_id": 1,
        "membership_id": 1,
        "invitation_id": 1,
        "team_id": 1,
        "webhook_id": 1,
        "channel_id": 1,
        "stage_id": 1,
        "touchpoint_id": 1,
        "delivery_id": "00000000-0000-0000-0000-000000000000",
        "answer_id": 1,
        "feedback_id": 1,
        "root_cause_id": 1,
        "action": "publish",
        "link_id": 1,
    }

    page = browser.new_page(viewport=LAPTOP)
    violations, errors = _watch(page)
    _log_in(page, live_server.url, "admin")
    visited, post_only = [], []
    for name, route in sorted(routes.items()):
        if name in NOT_PAGES:
            continue
        url = live_server.url + route_path(route, kwargs.get(name, arguments))
        if page.request.get(url, max_redirects=0).status == 405:
            post_only.append(name)
            continue
        response = page.goto(url)
        page.wait_for_load_state("networkidle")
        assert response.status == EXPECTED_STATUS.get(name, 200), (name, response.status)
        assert response.headers["content-type"].startswith("text/html"), name
        directives = _strict(response.headers["content-security-policy"], name)
        expected_styles = "'self' 'unsafe-inline'" if name in INLINE_STYLES else "'self'"
        assert directives["style-src"] == expected_styles, name
        visited.append(name)
    assert {"journey-map", "inbox", "dashboard-executive", "project-settings", "audit-log"} <= set(
        visited
    )
    assert len(visited) + len(post_only) == len(routes) - len(NOT_PAGES)
    assert {"survey-action", "member-new", "case-assign", "logout"} <= set(post_only)
    assert violations == []
    assert errors == []


def test_staff_pages_still_work_under_the_policy(browser, live_server, demo, artifacts):
    page = browser.new_page(viewport=LAPTOP)
    violations, errors = _watch(page)
    _log_in(page, live_server.url, "admin")

    # Charts draw in boxes sized by staff.js (no style attributes).
    page.goto(f"{live_server.url}/app/dashboards/")
    page.wait_for_load_state("networkidle")
    charts = page.evaluate(
        """() => Array.from(document.querySelectorAll('canvas')).map((canvas) => ({
             chart: !!window.Chart.getChart(canvas),
             box: canvas.parentElement.getBoundingClientRect().height }))"""
    )
    assert len(charts) >= 3
    assert all(c["chart"] and c["box"] >= 150 for c in charts), charts

    # The retagging progress bar, swapped in by htmx every second, has its width.
    page.goto(f"{live_server.url}/app/topics/")
    bar = page.locator(".progress-bar")
    bar.wait_for()
    page.evaluate(  # until one htmx refresh has swapped the bar in
        "() => new Promise((done) => document.addEventListener("
        "'htmx:afterSettle', () => done(true), { once: true }))"
    )
    width = page.evaluate(
        "() => { const bar = document.querySelector('.progress-bar');"
        " return bar.getBoundingClientRect().width / bar.parentElement.getBoundingClientRect().width; }"
    )
    assert width == pytest.approx(0.4, abs=0.02)

    # A select sends its form by itself (data-autosubmit).
    page.goto(f"{live_server.url}/app/audit/")
    page.select_option("select[name=object]", "Survey")
    page.wait_for_url("**/app/audit/?object=Survey")

    # A confirmation comes from staff.js: dismissed, nothing happens; accepted, the form goes.
    page.goto(f"{live_server.url}/app/settings/")
    key = ApiKey.objects.filter(project=demo, revoked_at__isnull=True).first()
    revoke = page.locator(f"form[action='/app/settings/keys/{key.pk}/revoke/'] button")
    page.once("dialog", lambda dialog: dialog.dismiss())
    revoke.click()
    page.wait_for_timeout(300)
    key.refresh_from_db()
    assert key.revoked_at is None
    page.once("dialog", lambda dialog: dialog.accept())
    revoke.click()
    page.wait_for_selector("text=revoked: it no longer works.")
    key.refresh_from_db()
    assert key.revoked_at is not None

    # A plain form submits.
    page.fill("input[name=email]", "new.colleague@example.com")
    page.click("form[action='/app/settings/members/'] button[type=submit]")
    page.wait_for_selector("text=Invitation sent to new.colleague@example.com.")
    assert MemberInvitation.objects.filter(project=demo, email="new.colleague@example.com").exists()

    # The editor's live preview draws the real widget (the one page with inline styles).
    survey = Survey.objects.filter(project=demo).first()
    page.goto(f"{live_server.url}/app/surveys/{survey.pk}/")
    page.click("button[data-preview=en]")
    page.locator(".voc-q").wait_for()

    # Django admin and the API docs.
    for path, ready in (
        ("/admin/", "#content"),
        ("/admin/surveys/auditentry/", "#result_list"),
        ("/api/docs/", ".swagger-ui .opblock"),
    ):
        response = page.goto(live_server.url + path)
        _strict(response.headers["content-security-policy"])
        page.locator(ready).first.wait_for()
    page.screenshot(path=str(artifacts / "csp-api-docs.png"))
    assert violations == []
    assert errors == []


def test_the_demo_shop_draws_the_widget(browser, live_server, demo, artifacts):
    page = browser.new_page(viewport=LAPTOP)
    violations, errors = _watch(page)
    response = page.goto(f"{live_server.url}/demo/")
    assert _strict(response.headers["content-security-policy"])["style-src"] == (
        "'self' 'unsafe-inline'"
    )
    page.wait_for_function("() => window.voc && window.voc.version")
    page.click("#sign-in")
    page.wait_for_function(
        "() => document.getElementById('log').textContent.includes('identified')"
    )
    page.click(".voc-feedback-tab")
    page.fill(".voc-feedback-text", "Works with the policy")
    page.click(".voc-feedback-send")
    page.wait_for_selector(".voc-thanks")
    position = page.locator(".voc-feedback-tab").evaluate("el => getComputedStyle(el).position")
    assert position == "fixed"  # the widget's own styles applied in its Shadow DOM
    page.screenshot(path=str(artifacts / "csp-demo-shop.png"))
    assert violations == []
    assert errors == []


@pytest.fixture
def invited(live_server, settings):
    settings.VOCSITE_BASE_URL = live_server.url
    project = ProjectFactory(name="Green Shop", theme={"primary_color": "#0a7d3b"})
    checkout = TouchpointFactory(project=project, key="checkout_completed")
    published_survey(project, touchpoints=[checkout], channels=["email"])
    ContactFactory(project=project, user_id="c-1", email="c1@example.com", language="en")
    result = event_record(project=project, data=EventIn(event="checkout_completed", user_id="c-1"))
    Invitation.objects.filter(pk=result.invitation_id).update(send_after=timezone.now())
    invitation_send(str(result.invitation_id))
    urls = re.findall(r"http://\S+", mail.outbox[-1].body)
    return {
        "score": next(u for u in urls if u.endswith("?score=3")),
        "unsubscribe": next(u for u in urls if "/u/" in u),
    }


def test_the_hosted_pages_work_under_the_policy(browser, live_server, invited, artifacts):
    page = browser.new_page(viewport={"width": 375, "height": 667})
    violations, errors = _watch(page)
    first = page.goto(invited["score"])
    directives = _strict(first.headers["content-security-policy"])
    assert re.fullmatch(r"'self' 'nonce-[A-Za-z0-9+/=]+'", directives["style-src"])
    # survey.js sends the e-mailed score at once; the follow-up question comes next.
    page.wait_for_selector("textarea")
    response = Response.objects.get(contact__user_id="c-1")
    assert [a.value_int for a in response.answers.all()] == [3]
    assert response.meta == {"source": "email_click"}
    brand = page.evaluate("getComputedStyle(document.querySelector('button')).backgroundColor")
    assert brand == "rgb(10, 125, 59)"  # the project's colour, in the style the nonce allows
    page.fill("textarea", "Slow delivery")
    page.click("button[type=submit]")
    page.wait_for_selector("[role=status]")
    assert "Thank you" in page.inner_text("[role=status]")

    page.goto(invited["unsubscribe"])
    page.click("button[type=submit]")
    page.wait_for_selector("text=You will not receive survey e-mails")
    assert Contact.objects.get(user_id="c-1").opted_out_at is not None
    assert violations == []
    assert errors == []


def test_staff_pages_refuse_to_be_framed(browser, live_server, demo):
    """frame-ancestors 'none': no page, not even one of this site, shows the staff UI in a
    frame (clickjacking)."""
    page = browser.new_page()
    violations, _errors = _watch(page)
    _log_in(page, live_server.url, "admin")
    page.goto(f"{live_server.url}/demo/")
    refused = page.expect_event(
        "framenavigated", lambda frame: frame.url.startswith("chrome-error")
    )
    reported = page.expect_console_message(lambda message: "frame-ancestors" in message.text)
    with refused, reported:
        page.evaluate(
            "(src) => { const f = document.createElement('iframe'); f.src = src;"
            " document.body.append(f); }",
            f"{live_server.url}/app/journey/",
        )
    [frame] = [f for f in page.frames if f != page.main_frame]
    assert frame.url == "chrome-error://chromewebdata/"  # refused: nothing of it is shown
    assert any("frame-ancestors" in v for v in violations), violations


INLINE = re.compile(
    # a script element with code in it (a JSON data block is data: no policy runs it)
    r"<script(?![^>]*\bsrc=)(?![^>]*\btype=\"application/json\")[^>]*>(?!\s*</script>)"
    r"|\son[a-z]+\s*=|\sstyle\s*=|javascript:"  # event handler and style attributes
    r"|<style(?![^>]*\bnonce=)",  # a style element without the page's nonce
    re.IGNORECASE,
)


def test_templates_carry_no_inline_script_handler_or_style():
    """What the policy would refuse, caught before a browser sees it (e-mails are no pages)."""
    root = Path(__file__).resolve().parents[2] / "templates"
    found = [
        f"{path.relative_to(root)}: {match.group(0)}"
        for path in sorted(root.rglob("*.html"))
        if path.parent.name != "email"
        for match in INLINE.finditer(path.read_text())
    ]
    assert found == []
