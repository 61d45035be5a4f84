"""Weekly digests: who may subscribe, when each subscriber's digest is due (exact, in two
timezones), sent once per week by the hourly task, its e-mail's parts (text, HTML, charts as
inline images referenced by Content-ID), the same figures as the dashboards, each project's
data only, the preview page and the signed unsubscribe link."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlparse
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client

from feedback.cases.models import Case, CaseStatus
from metrics.digests import schedule
from metrics.digests.models import DigestSubscription
from metrics.digests.selectors import digest_build
from metrics.digests.services import digest_subscribe
from metrics.digests.tasks import send_due_digests
from metrics.reports.selectors import METRICS
from surveys.tenancy.models import Membership
from tests.factories import (
    MembershipFactory,
    ProjectFactory,
    StageFactory,
    TouchpointFactory,
    UserFactory,
    published_survey,
    rollup_cells,
)
from tests.feedback.test_case_email import BusyOnceBackend
from vocsite.errors import ApplicationError

SHANGHAI = ZoneInfo("Asia/Shanghai")
NEW_YORK = ZoneInfo("America/New_York")
# Monday 30 November 2026, 08:30 in Shanghai (00:30 UTC); the week covered is 23–29 November.
MONDAY_IN_SHANGHAI = datetime(2026, 11, 30, 0, 30, tzinfo=UTC)
WEEK = date(2026, 11, 23)


# ---------------------------------------------------------------- when a digest is due


def test_a_digest_is_due_from_monday_8_where_the_subscriber_is():
    # Shanghai (UTC+8): Monday 08:00 is Monday 00:00 UTC.
    assert schedule.send_slot(datetime(2026, 11, 29, 23, 59, 59, tzinfo=UTC), SHANGHAI) is None
    assert schedule.send_slot(datetime(2026, 11, 30, 0, 0, tzinfo=UTC), SHANGHAI) == date(
        2026, 11, 30
    )
    # New York (UTC−5 in winter): Monday 08:00 is 13:00 UTC; at 00:30 UTC it is still Sunday.
    assert schedule.send_slot(MONDAY_IN_SHANGHAI, NEW_YORK) is None
    assert schedule.send_slot(datetime(2026, 11, 30, 12, 59, tzinfo=UTC), NEW_YORK) is None
    assert schedule.send_slot(datetime(2026, 11, 30, 13, 0, tzinfo=UTC), NEW_YORK) == date(
        2026, 11, 30
    )
    # A missed Monday is not caught up on Tuesday (a stale digest is skipped).
    assert schedule.send_slot(datetime(2026, 12, 1, 0, 30, tzinfo=UTC), SHANGHAI) is None


def test_the_next_digest_time_in_two_timezones_follows_daylight_saving():
    friday = datetime(2026, 12, 4, 23, 0, tzinfo=UTC)
    assert schedule.next_send_at(friday, SHANGHAI) == datetime(2026, 12, 7, 0, 0, tzinfo=UTC)
    assert schedule.next_send_at(friday, NEW_YORK) == datetime(2026, 12, 7, 13, 0, tzinfo=UTC)
    # New York moves to summer time on Sunday 8 March 2026: Monday 08:00 is then 12:00 UTC.
    before_dst = datetime(2026, 3, 6, 12, 0, tzinfo=UTC)
    assert schedule.next_send_at(before_dst, NEW_YORK) == datetime(2026, 3, 9, 12, 0, tzinfo=UTC)
    assert schedule.next_send_at(before_dst, SHANGHAI) == datetime(2026, 3, 9, 0, 0, tzinfo=UTC)


def test_the_week_covered_is_the_last_one_over_where_the_project_is():
    assert schedule.covered_week(MONDAY_IN_SHANGHAI, SHANGHAI) == (WEEK, date(2026, 11, 29))
    # In New York it is still Sunday 29 November: that week is not over.
    assert schedule.covered_week(MONDAY_IN_SHANGHAI, NEW_YORK) == (
        date(2026, 11, 16),
        date(2026, 11, 22),
    )


# ---------------------------------------------------------------- a project with two weeks


def _cells(project, survey, touchpoint, metric, scale, hist, day):
    rollup_cells(project, survey, touchpoint, metric, scale, hist, day=day)


def _at(day: date, hour: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=SHANGHAI)


@pytest.fixture
def shop(project):
    """The project in Shanghai with two weeks of answers: Landing NPS −40 → +40 and Checkout
    CSAT 50 % → 75 %; one open case overdue, two closed this week (10 and 30 hours)."""
    project.timezone = "Asia/Shanghai"
    project.save()
    browse = StageFactory(project=project, key="browse", name="Browse", position=0)
    buy = StageFactory(project=project, key="buy", name="Buy", position=1)
    landing = TouchpointFactory(project=project, key="landing", name="Landing", stage=browse)
    checkout = TouchpointFactory(project=project, key="checkout", name="Checkout", stage=buy)
    survey = published_survey(project, touchpoints=[landing, checkout])
    _cells(project, survey, landing, "nps", 10, {10: 20, 7: 20, 3: 60}, WEEK - timedelta(days=6))
    _cells(project, survey, landing, "nps", 10, {10: 60, 7: 20, 3: 20}, WEEK + timedelta(days=1))
    _cells(project, survey, checkout, "csat", 5, {5: 20, 2: 20}, WEEK - timedelta(days=5))
    _cells(project, survey, checkout, "csat", 5, {5: 30, 2: 10}, WEEK + timedelta(days=2))
    opened = _at(WEEK + timedelta(days=1), 9)
    Case.objects.create(project=project, title="open", due_at=opened, created_at=opened)
    for hours in (10, 30):
        Case.objects.create(
            project=project,
            title=f"closed after {hours} h",
            status=CaseStatus.RESOLVED,
            created_at=opened,
            due_at=opened + timedelta(hours=24),
            resolved_at=opened + timedelta(hours=hours),
        )
    return project


def _member(project, role: str, username: str):
    user = UserFactory(username=username)
    MembershipFactory(user=user, project=project, role=role)
    return user


@pytest.fixture
def vera(shop):
    """A viewer (a manager) subscribed in the project's timezone."""
    user = _member(shop, "viewer", "vera")
    digest_subscribe(project=shop, user=user)
    return user


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


# ---------------------------------------------------------------- subscribing


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "status", "subscribed"),
    [("admin", 302, 1), ("viewer", 302, 1), ("designer", 403, 0), ("agent", 403, 0)],
)
def test_managers_and_executives_subscribe_other_roles_are_refused(shop, role, status, subscribed):
    user = _member(shop, role, "member")
    client = _client(user)
    assert client.get("/app/digest/").status_code == (200 if subscribed else 403)
    response = client.post("/app/digest/", {"timezone": "Europe/Berlin", "language": "zh-hans"})
    assert response.status_code == status
    rows = DigestSubscription.objects.filter(project=shop, user=user)
    assert rows.count() == subscribed
    if subscribed:
        assert (rows.get().timezone, rows.get().language) == ("Europe/Berlin", "zh-hans")
        with time_machine.travel(MONDAY_IN_SHANGHAI, tick=False):
            page = client.get("/app/digest/").content.decode()
        # 08:30 in Shanghai is 01:30 in Berlin: today's digest is still to come, at 08:00 there.
        assert (
            "the next digest goes to member@example.com on 2026-11-30 08:00 (Europe/Berlin)."
            in page
        )
        client.post("/app/digest/", {"action": "unsubscribe"})
        assert not rows.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(("role", "linked"), [("viewer", True), ("admin", True), ("agent", False)])
def test_the_dashboards_link_the_digest_for_the_roles_that_get_it(shop, role, linked):
    html = _client(_member(shop, role, "member")).get("/app/dashboards/").content.decode()
    assert ('<a class="nav-link" href="/app/digest/" id="digest-link">' in html) is linked


@pytest.mark.django_db
def test_the_service_refuses_a_role_without_the_digest(shop):
    agent = _member(shop, "agent", "agent")
    with pytest.raises(ApplicationError) as refused:
        digest_subscribe(project=shop, user=agent)
    assert (refused.value.code, refused.value.status_code) == ("forbidden", 403)
    assert not DigestSubscription.objects.exists()


@pytest.mark.django_db
def test_a_bad_timezone_or_language_is_refused_and_changes_nothing(vera):
    client = _client(vera)
    response = client.post("/app/digest/", {"timezone": "Mars/Olympus", "language": "en"})
    assert response.status_code == 422
    response = client.post("/app/digest/", {"timezone": "", "language": "tlh"})
    assert response.status_code == 422
    subscription = DigestSubscription.objects.get(user=vera)
    assert (subscription.timezone, subscription.language) == ("", "")


# ---------------------------------------------------------------- sending


def _run_task_at(moment: datetime) -> None:
    with time_machine.travel(moment, tick=False):
        send_due_digests.apply()


@pytest.mark.django_db
def test_the_hourly_task_sends_each_digest_once_at_monday_8_local(shop, vera):
    ned = _member(shop, "admin", "ned")
    digest_subscribe(project=shop, user=ned, timezone_name="America/New_York")
    assert settings.CELERY_BEAT_SCHEDULE["send-due-digests"]["task"] == send_due_digests.name

    _run_task_at(MONDAY_IN_SHANGHAI - timedelta(hours=1))  # 07:30 in Shanghai
    assert mail.outbox == []
    _run_task_at(MONDAY_IN_SHANGHAI)
    _run_task_at(MONDAY_IN_SHANGHAI)  # a retry, or the next hour: nothing more
    _run_task_at(MONDAY_IN_SHANGHAI + timedelta(hours=1))
    assert [m.to for m in mail.outbox] == [["vera@example.com"]]
    _run_task_at(datetime(2026, 11, 30, 13, 0, tzinfo=UTC))  # 08:00 in New York
    _run_task_at(datetime(2026, 11, 30, 14, 0, tzinfo=UTC))
    assert [m.to for m in mail.outbox] == [["vera@example.com"], ["ned@example.com"]]
    _run_task_at(datetime(2026, 12, 1, 0, 30, tzinfo=UTC))  # Tuesday: nothing
    assert len(mail.outbox) == 2
    assert set(DigestSubscription.objects.values_list("last_sent_slot", flat=True)) == {
        date(2026, 11, 30)
    }
    _run_task_at(MONDAY_IN_SHANGHAI + timedelta(days=7))  # the next Monday
    assert len(mail.outbox) == 3


@pytest.mark.django_db
def test_a_mail_server_error_leaves_the_digest_to_the_next_hour_and_the_others_go(
    shop, vera, settings
):
    ned = _member(shop, "admin", "ned")
    digest_subscribe(project=shop, user=ned)
    settings.EMAIL_BACKEND = "tests.feedback.test_case_email.BusyOnceBackend"
    BusyOnceBackend.busy = True  # the first message is answered "451 try again later"
    _run_task_at(MONDAY_IN_SHANGHAI)
    assert len(mail.outbox) == 1
    waiting = DigestSubscription.objects.get(last_sent_slot=None)
    _run_task_at(MONDAY_IN_SHANGHAI + timedelta(hours=1))
    assert sorted(m.to[0] for m in mail.outbox) == ["ned@example.com", "vera@example.com"]
    assert mail.outbox[1].to == [waiting.user.email]
    assert not DigestSubscription.objects.filter(last_sent_slot=None).exists()


@pytest.mark.django_db
def test_the_email_has_text_html_and_each_chart_inline_by_content_id(vera):
    _run_task_at(MONDAY_IN_SHANGHAI)
    [message] = mail.outbox
    project = vera.memberships.get().project
    assert message.subject == f"{project.name}: your weekly digest, 2026-11-23 – 2026-11-29"
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    mime = message.message()
    assert [part.get_content_type() for part in mime.walk()] == [
        "multipart/related",
        "multipart/alternative",
        "text/plain",
        "text/html",
        "image/png",
        "image/png",
        "image/png",
    ]
    images = [part for part in mime.walk() if part.get_content_type() == "image/png"]
    assert [part["Content-ID"] for part in images] == [
        "<headline.digest@vocsite>",
        "<movers.digest@vocsite>",
        "<backlog.digest@vocsite>",
    ]
    assert all(part.get_payload(decode=True).startswith(b"\x89PNG\r\n") for part in images)
    assert all(part["Content-Disposition"].startswith("inline") for part in images)
    html = message.alternatives[0][0]
    for name in ("headline", "movers", "backlog"):
        assert f'src="cid:{name}.digest@vocsite"' in html
    text = message.body
    assert "- NPS: 40.0 (95 % interval" in text
    assert "▲ 80.0 vs previous week" in text
    assert "- Browse · Landing, NPS: 40.0 (▲ +80.0, n = 100)" in text
    assert "- Buy · Checkout, CSAT (%): 75.0 (▲ +25.0, n = 40)" in text
    assert "- Open now: 1\n- Overdue now: 1\n- Closed this week: 2\n" in text
    assert "- Median time to close: 20.0 h" in text  # 10 and 30 hours
    assert "- (no team): 1 open, 1 overdue, 1 met, 2 breached" in text
    assert "Case inbox" not in text  # a viewer does not work the inbox


@pytest.mark.django_db
def test_an_admin_gets_the_inbox_link_and_a_demoted_or_departed_member_nothing(shop, vera):
    ned = _member(shop, "admin", "ned")
    digest_subscribe(project=shop, user=ned, language="zh-hans")
    Membership.objects.filter(user=vera).update(role="agent")
    _run_task_at(MONDAY_IN_SHANGHAI)
    [message] = mail.outbox
    assert message.to == ["ned@example.com"]
    assert "工单收件箱: http://127.0.0.1:8000/app/inbox/\n" in message.body
    assert '<html lang="zh-hans">' in message.alternatives[0][0]
    Membership.objects.filter(user=ned).delete()
    _run_task_at(MONDAY_IN_SHANGHAI + timedelta(days=7))
    assert len(mail.outbox) == 1


# ---------------------------------------------------------------- the same figures as the dashboards


@pytest.mark.django_db
def test_the_digest_figures_are_the_dashboards_figures_for_that_week(demo):
    viewer = get_user_model().objects.get(username="viewer")
    client = _client(viewer)
    since, until = schedule.covered_week(datetime.now(UTC), ZoneInfo(demo.timezone))
    digest = digest_build(project=demo, since=since, role="viewer")
    url = f"?since={since.isoformat()}&until={until.isoformat()}"
    executive = client.get("/app/dashboards/" + url).context
    lead = client.get("/app/dashboards/lead/" + url).context
    for metric in METRICS:
        assert digest.reports[metric]["total"] == executive["reports"][metric]["total"]
        assert digest.reports[metric]["comparison"] == executive["reports"][metric]["comparison"]
    cells = {
        (item["touchpoint"].name, metric): result["change"]
        for row in executive["journey"]
        for item in row["touchpoints"]
        for metric, result in item["metrics"].items()
        if result.get("change") and result["change"]["diff"] is not None
    }
    assert len(digest.movers) == 5, "the demo's journey moves from week to week"
    for mover in digest.movers:
        change = cells[(mover["touchpoint"], mover["metric"])]
        assert (mover["diff"], mover["significant"]) == (change["diff"], change["significant"])
    # The largest moves first, those with under 30 answers on a side after the others.
    ranked = sorted((c["low_sample"], -abs(c["diff"])) for c in cells.values())
    assert [(m["low_sample"], -abs(m["diff"])) for m in digest.movers] == ranked[:5]
    assert digest.topics == lead["drivers"]["rows"][:5]
    assert digest.cases["ages"] == executive["cases"]["ages"]
    assert digest.sla == lead["sla"]
    assert digest.querystring == executive["query"].querystring()


# ---------------------------------------------------------------- one project's data only


@pytest.mark.django_db
def test_a_digest_holds_its_own_projects_data_only(shop, vera):
    other = ProjectFactory(name="Other shop", timezone="Asia/Shanghai")
    hidden = StageFactory(project=other, key="browse", name="Hidden stage", position=0)
    secret = TouchpointFactory(project=other, key="landing", name="Secret counter", stage=hidden)
    survey = published_survey(other, touchpoints=[secret])
    _cells(other, survey, secret, "nps", 10, {0: 90}, WEEK - timedelta(days=6))
    _cells(other, survey, secret, "nps", 10, {10: 90}, WEEK + timedelta(days=1))
    Case.objects.create(project=other, title="x", due_at=_at(WEEK, 1), created_at=_at(WEEK, 1))
    _run_task_at(MONDAY_IN_SHANGHAI)
    [message] = mail.outbox
    for text in (message.body, message.alternatives[0][0]):
        assert "Secret counter" not in text and "Hidden stage" not in text
    assert "- NPS: 40.0" in message.body
    assert "- Open now: 1\n" in message.body
    # Vera is no member of the other project: its preview is not hers to see.
    with time_machine.travel(MONDAY_IN_SHANGHAI, tick=False):
        preview = _client(vera).get("/app/digest/preview/").content.decode()
    assert "Secret counter" not in preview and "Landing" in preview


# ---------------------------------------------------------------- the preview page


@pytest.mark.django_db
def test_the_preview_page_shows_this_weeks_digest_with_images_inline(vera):
    client = _client(vera)
    with time_machine.travel(MONDAY_IN_SHANGHAI, tick=False):
        page = client.get("/app/digest/")
        preview = client.get("/app/digest/preview/")
    html = page.content.decode()
    assert page.status_code == 200
    assert '<iframe src="/app/digest/preview/"' in html
    assert "This week's digest (2026-11-23 – 2026-11-29), as it is mailed" in html
    assert (
        "Subscribed: the next digest goes to vera@example.com on 2026-12-07 08:00 (Asia/Shanghai)."
        in html
    )
    assert preview.status_code == 200
    body = preview.content.decode()
    assert body.count('src="data:image/png;base64,iVBORw0KGgo') == 3
    assert "cid:" not in body
    assert "2026-11-23 – 2026-11-29, compared with the week before" in body
    assert preview["X-Frame-Options"] == "SAMEORIGIN"
    policy = preview["Content-Security-Policy"]
    assert "style-src 'self' 'unsafe-inline'" in policy
    assert "frame-ancestors 'self'" in policy


@pytest.mark.django_db
def test_the_preview_is_refused_to_roles_without_the_digest(shop):
    agent = _client(_member(shop, "agent", "agent"))
    assert agent.get("/app/digest/preview/").status_code == 403


# ---------------------------------------------------------------- the unsubscribe link


@pytest.mark.django_db
def test_the_signed_link_unsubscribes_on_post_only(vera):
    _run_task_at(MONDAY_IN_SHANGHAI)
    link = mail.outbox[0].extra_headers["List-Unsubscribe"].strip("<>")
    path = urlparse(link).path
    assert path in mail.outbox[0].body
    anonymous = Client()
    page = anonymous.get(path)
    assert page.status_code == 200
    assert DigestSubscription.objects.filter(user=vera).exists()  # a link scanner: nothing
    other = ProjectFactory()
    MembershipFactory(user=vera, project=other, role="viewer")
    digest_subscribe(project=other, user=vera)
    assert anonymous.post(path).status_code == 200
    # The link names its project: the digest of the other project goes on.
    assert list(DigestSubscription.objects.filter(user=vera).values_list("project", flat=True)) == [
        other.pk
    ]
    forged = path.replace("/unsubscribe/", "/unsubscribe/x")
    assert anonymous.post(forged).status_code == 404
