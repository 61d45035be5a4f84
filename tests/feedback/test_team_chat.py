"""Team chat alerts against the real HTTP `receiver` on 127.0.0.1 (tests/conftest.py): each
platform's message format with the score, the comment, the survey, the case's status and
assignee and a link to it; Feishu's and DingTalk's signatures recomputed from their documented
recipes; new / assigned / overdue as each channel chose; failures retried and logged in the
webhook outbox. Admin pages with a test message; bad input is a 400 that changes nothing;
another project's or team's channels are a 404; other roles a 403."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine
from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from feedback.answering.models import Response
from feedback.answering.pipeline import responses_process
from feedback.cases.models import AlertRule, Case, CasePriority, CaseStatus
from feedback.cases.services import case_assign, cases_escalate_overdue
from feedback.webhooks.chat_channels import chat_channel_create, chat_test_send
from feedback.webhooks.chat_formats import ChatMessage, chat_refusal, slack_message
from feedback.webhooks.models import WebhookDelivery, WebhookEndpoint
from feedback.webhooks.services import webhook_endpoint_create, webhooks_retry_due
from surveys.contacts.services import contact_erase
from surveys.tenancy.models import AuditEntry, Team, TeamMembership
from tests.factories import MembershipFactory, ProjectFactory, UserFactory

pytestmark = pytest.mark.django_db

ALL_EVENTS = ["case.created", "case.assigned", "case.overdue"]
DINGTALK_SECRET = "SEC0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcd"
FEISHU_SECRET = "feishu-secret-7Hq"


def staff(project, role: str = "admin") -> Client:
    user = UserFactory(username=f"{role}-{project.pk}")
    MembershipFactory(user=user, project=project, role=role)
    client = Client()
    client.force_login(user)
    client.defaults["HTTP_X_PROJECT"] = str(project.pk)
    return client


@pytest.fixture
def admin(project) -> Client:
    return staff(project)


@pytest.fixture
def team(project, survey):
    """ "Care", with the agent mei; the project's default alert rules route their cases to it."""
    mei = UserFactory(username="mei", email="mei@example.com")
    MembershipFactory(user=mei, project=project, role="agent")
    team = Team.objects.create(project=project, name="Care")
    TeamMembership.objects.create(team=team, user=mei)
    AlertRule.objects.filter(project=project).update(team=team)
    return team


def channel_for(team, receiver, kind: str, *, events=ALL_EVENTS, secret: str = ""):
    return chat_channel_create(team=team, kind=kind, url=receiver.url, events=events, secret=secret)


def body_of(received: dict) -> dict:
    return json.loads(received["body"])


def expected_facts(case: Case, survey, *, status="New", assignee="nobody yet", priority="High"):
    return [
        ("Score", "NPS 2/10"),
        ("Survey", survey.name),
        ("Status", status),
        ("Assignee", assignee),
        ("Priority", priority),
        ("Team", "Care"),
    ]


def case_url(case: Case) -> str:
    return f"{settings.VOCSITE_BASE_URL}/app/cases/{case.pk}/"


# ---------------------------------------------------------------- each platform's format


def test_slack_gets_blocks_with_the_score_comment_and_a_button(team, receiver, respond, survey):
    channel_for(team, receiver, "slack")
    case = Case.objects.get(response=respond(2, "Slow delivery"))
    (received,) = receiver.received
    headline = f"New case #{case.pk}: {case.title}"
    assert body_of(received) == {
        "text": headline,
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": headline}},
            {
                "type": "section",
                "fields": [
                    {"type": "mrkdwn", "text": f"*{label}*\n{value}"}
                    for label, value in expected_facts(case, survey)
                ],
            },
            {"type": "section", "text": {"type": "mrkdwn", "text": "> Slow delivery"}},
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "text": {"type": "plain_text", "text": "Open the case"},
                        "url": case_url(case),
                    }
                ],
            },
        ],
    }
    assert received["headers"]["Content-Type"] == "application/json; charset=utf-8"
    delivery = WebhookDelivery.objects.get(endpoint__kind="slack")
    assert (delivery.event, delivery.subject, delivery.status) == (
        "case.created",
        f"case:{case.pk}",
        "succeeded",
    )
    assert delivery.contact_id == case.response.contact_id  # erasure finds it


def test_teams_gets_an_adaptive_card_in_the_attachments_envelope(team, receiver, respond, survey):
    channel_for(team, receiver, "teams")
    case = Case.objects.get(response=respond(2, "Slow delivery"))
    (received,) = receiver.received
    assert body_of(received) == {
        "type": "message",
        "attachments": [
            {
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": None,
                "content": {
                    "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                    "type": "AdaptiveCard",
                    "version": "1.4",
                    "body": [
                        {
                            "type": "TextBlock",
                            "text": f"New case #{case.pk}: {case.title}",
                            "weight": "Bolder",
                            "size": "Medium",
                            "color": "Warning",
                            "wrap": True,
                        },
                        {
                            "type": "FactSet",
                            "facts": [
                                {"title": label, "value": value}
                                for label, value in expected_facts(case, survey)
                            ],
                        },
                        {
                            "type": "TextBlock",
                            "text": "Slow delivery",
                            "wrap": True,
                            "isSubtle": True,
                        },
                    ],
                    "actions": [
                        {"type": "Action.OpenUrl", "title": "Open the case", "url": case_url(case)}
                    ],
                },
            }
        ],
    }


def feishu_signature(secret: str, timestamp: str) -> str:
    """Feishu's documented recipe, written out here independently of the code under test."""
    key = f"{timestamp}\n{secret}".encode()
    return base64.b64encode(hmac.new(key, msg=b"", digestmod=hashlib.sha256).digest()).decode()


def test_feishu_gets_a_signed_interactive_card(team, receiver, respond, survey):
    channel_for(team, receiver, "feishu", secret=FEISHU_SECRET)
    receiver.bodies = [b'{"code":0,"msg":"success","data":{}}']
    case = Case.objects.get(response=respond(2, "Slow delivery"))
    (received,) = receiver.received
    body = body_of(received)
    timestamp = body.pop("timestamp")
    assert abs(int(timestamp) - time.time()) < 60
    assert body.pop("sign") == feishu_signature(FEISHU_SECRET, timestamp)
    assert body == {
        "msg_type": "interactive",
        "card": {
            "header": {
                "title": {"tag": "plain_text", "content": f"New case #{case.pk}: {case.title}"},
                "template": "orange",
            },
            "elements": [
                {
                    "tag": "div",
                    "fields": [
                        {
                            "is_short": True,
                            "text": {"tag": "lark_md", "content": f"**{label}**\n{value}"},
                        }
                        for label, value in expected_facts(case, survey)
                    ],
                },
                {"tag": "div", "text": {"tag": "plain_text", "content": "Slow delivery"}},
                {
                    "tag": "action",
                    "actions": [
                        {
                            "tag": "button",
                            "text": {"tag": "plain_text", "content": "Open the case"},
                            "type": "primary",
                            "url": case_url(case),
                        }
                    ],
                },
            ],
        },
    }
    # The delivery keeps the message unsigned: each attempt is signed when it is sent.
    delivery = WebhookDelivery.objects.get(endpoint__kind="feishu")
    assert "sign" not in delivery.payload and delivery.status == "succeeded"


def test_feishu_without_a_secret_sends_no_signature(team, receiver, respond):
    channel_for(team, receiver, "feishu")
    respond(2, "Slow delivery")
    (received,) = receiver.received
    assert {"timestamp", "sign"} & set(body_of(received)) == set()


def test_dingtalk_gets_markdown_signed_in_the_url(team, receiver, respond, survey):
    receiver.url += "?access_token=robot-token"
    channel_for(team, receiver, "dingtalk", secret=DINGTALK_SECRET)
    receiver.bodies = [b'{"errcode":0,"errmsg":"ok"}']
    case = Case.objects.get(response=respond(2, "Slow delivery"))
    (received,) = receiver.received
    query = parse_qs(urlsplit(received["path"]).query)
    assert query["access_token"] == ["robot-token"]
    (timestamp,) = query["timestamp"]
    assert abs(int(timestamp) / 1000 - time.time()) < 60
    # DingTalk's documented recipe: HMAC-SHA256 keyed with the secret over "timestamp\nsecret".
    string_to_sign = f"{timestamp}\n{DINGTALK_SECRET}".encode()
    digest = hmac.new(DINGTALK_SECRET.encode("utf-8"), string_to_sign, hashlib.sha256).digest()
    assert query["sign"] == [base64.b64encode(digest).decode()]  # parse_qs URL-decoded it
    headline = f"New case #{case.pk}: {case.title}"
    facts = "\n".join(f"- **{label}**: {value}" for label, value in expected_facts(case, survey))
    assert body_of(received) == {
        "msgtype": "markdown",
        "markdown": {
            "title": headline,
            "text": f"### {headline}\n\n{facts}\n\n> Slow delivery\n\n"
            f"[Open the case]({case_url(case)})",
        },
    }


def test_wecom_gets_markdown(team, receiver, respond, survey):
    channel_for(team, receiver, "wecom")
    receiver.bodies = [b'{"errcode":0,"errmsg":"ok"}']
    case = Case.objects.get(response=respond(2, "Slow delivery"))
    (received,) = receiver.received
    facts = "\n".join(f"- **{label}**: {value}" for label, value in expected_facts(case, survey))
    assert body_of(received) == {
        "msgtype": "markdown",
        "markdown": {
            "content": f'**<font color="warning">New case #{case.pk}: {case.title}</font>**\n'
            f"{facts}\n\n> Slow delivery\n\n[Open the case]({case_url(case)})"
        },
    }


def test_a_project_in_chinese_gets_its_messages_in_chinese(project, team, receiver, respond):
    project.default_language = "zh"
    project.save(update_fields=["default_language"])
    channel_for(team, receiver, "slack")
    respond(2, "Slow delivery")
    (received,) = receiver.received
    fields = [f["text"] for f in body_of(received)["blocks"][1]["fields"]]
    with translation.override("zh-hans"):
        new, high = str(CaseStatus.NEW.label), str(CasePriority.HIGH.label)
    assert (new, high) != ("New", "High")
    assert fields[2].endswith(f"\n{new}") and fields[4].endswith(f"\n{high}")


def test_what_customers_wrote_cannot_ping_a_slack_channel():
    message = ChatMessage(headline="New case #1", comment="<!channel> refund me & now")
    section = slack_message(message)["blocks"][1]
    assert section["text"]["text"] == "> &lt;!channel&gt; refund me &amp; now"
    long = slack_message(ChatMessage(headline="h", comment="x" * 5000))["blocks"][1]
    assert long["text"]["text"] == "> " + "x" * 999 + "…"


def test_a_refusal_in_a_200_reply_is_read_per_platform():
    assert chat_refusal("feishu", b'{"code":19021,"msg":"sign match fail"}') == 19021
    assert chat_refusal("feishu", b'{"StatusCode":0,"StatusMessage":"success"}') is None
    assert chat_refusal("dingtalk", b'{"errcode":310000,"errmsg":"sign not match"}') == 310000
    assert chat_refusal("wecom", b'{"errcode":0,"errmsg":"ok"}') is None
    assert chat_refusal("wecom", b"<html>proxy</html>") is None
    assert chat_refusal("slack", b'{"errcode":1}') is None  # Slack speaks in status codes


# ---------------------------------------------------------------- which events, which team


def test_each_channel_gets_the_events_it_chose(project, team, receiver, respond, delivered):
    created_only = channel_for(team, receiver, "slack", events=["case.created"])
    later = channel_for(team, receiver, "wecom", events=["case.assigned", "case.overdue"])
    case = Case.objects.get(response=respond(2, "Slow delivery"))
    mei = team.members.get()
    lead = UserFactory(username="lead")
    with delivered():
        case_assign(case=case, assignee=mei, actor=lead)
    with delivered():
        case_assign(case=case, assignee=None, actor=lead)  # unassigning tells nobody
    with time_machine.travel(case.due_at + timedelta(minutes=5)), delivered():
        assert cases_escalate_overdue() == 1
    sent = {
        (d.endpoint_id, d.event): d
        for d in WebhookDelivery.objects.filter(endpoint__team=team).order_by("created_at")
    }
    assert sorted(sent) == sorted(
        [
            (created_only.pk, "case.created"),
            (later.pk, "case.assigned"),
            (later.pk, "case.overdue"),
        ]
    )
    assigned = sent[(later.pk, "case.assigned")].payload["markdown"]["content"]
    assert assigned.startswith(
        f'**<font color="info">Case #{case.pk} assigned to mei: {case.title}</font>**'
    )
    assert "- **Status**: In progress\n- **Assignee**: mei\n" in assigned
    overdue = sent[(later.pk, "case.overdue")].payload["markdown"]["content"]
    assert overdue.startswith(f'**<font color="warning">Overdue case #{case.pk}: {case.title}')
    assert "- **Priority**: Urgent\n" in overdue
    assert len(receiver.received) == 3
    assert all(d.status == "succeeded" for d in sent.values())


def test_another_teams_and_teamless_cases_are_not_posted(project, team, receiver, respond):
    billing = Team.objects.create(project=project, name="Billing")
    channel_for(billing, receiver, "slack")
    paused = channel_for(team, receiver, "slack")
    paused.is_active = False
    paused.save()
    respond(2, "Slow delivery", user="u1")  # Care's case: Billing's channel is not told
    AlertRule.objects.filter(project=project).update(team=None)
    respond(1, "Broken", user="u2")  # nobody's case
    assert receiver.received == []
    assert WebhookDelivery.objects.count() == 0


def test_standard_endpoints_and_chat_channels_get_only_their_own(project, team, receiver, respond):
    endpoint = webhook_endpoint_create(project=project, url=receiver.url, events=["case.created"])
    receiver.secret = endpoint.secret
    channel_for(team, receiver, "slack")
    respond(2, "Slow delivery")
    by_kind = {d.endpoint.kind: d for d in WebhookDelivery.objects.select_related("endpoint")}
    assert sorted(by_kind) == ["slack", "standard"]
    assert by_kind["standard"].payload["type"] == "case.created"
    assert "blocks" in by_kind["slack"].payload
    assert [r["verified"] for r in receiver.received].count(True) == 1


def test_a_batch_reads_the_teams_chat_channels_once(team, receiver, respond):
    """Two in three answers of the benchmark's mix open a case: one read of a team's channels
    per processing batch, not one per case."""
    channel_for(team, receiver, "slack", events=["case.created"])
    responses = [respond(2, "Slow", user=f"u{n}") for n in range(5)]
    Case.objects.all().delete()
    WebhookDelivery.objects.all().delete()
    ids = [r.pk for r in responses]
    Response.objects.filter(pk__in=ids).update(processed_at=None, rolled_up_at=None)
    with CaptureQueriesContext(connection) as queries:
        assert responses_process(ids) == 5
    channel_reads = [q for q in queries if '"feedback_webhookendpoint"."team_id" = ' in q["sql"]]
    assert len(channel_reads) == 1
    assert WebhookDelivery.objects.filter(event="case.created").count() == 5


# ---------------------------------------------------------------- the outbox: retries and log


def test_a_failing_channel_is_retried_with_backoff_and_logged(team, receiver, respond):
    channel_for(team, receiver, "feishu", secret=FEISHU_SECRET)
    receiver.statuses = [503, 200, 200]
    receiver.bodies = [
        b"down",
        b'{"code":19021,"msg":"sign match fail or timestamp is not within one hour"}',
        b'{"code":0,"msg":"success"}',
    ]
    respond(2, "Slow delivery")
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.last_error) == (
        "pending",
        1,
        "Receiver answered HTTP 503",
    )
    with time_machine.travel(delivery.next_attempt_at + timedelta(seconds=1)):
        assert webhooks_retry_due() == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_error) == (
        "pending",
        2,
        "Feishu / Lark refused the message (code 19021)",
    )
    with time_machine.travel(delivery.next_attempt_at + timedelta(seconds=1)):
        assert webhooks_retry_due() == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("succeeded", 3)
    assert [(a.number, a.status_code, a.error) for a in delivery.log.all()] == [
        (1, 503, "Receiver answered HTTP 503"),
        (2, 200, "Feishu / Lark refused the message (code 19021)"),
        (3, 200, ""),
    ]
    # A reply from 127.0.0.1 is judged, never kept.
    assert {a.response_excerpt for a in delivery.log.all()} == {""}
    # Each attempt signed afresh, every one verifying.
    for received in receiver.received:
        body = body_of(received)
        assert body["sign"] == feishu_signature(FEISHU_SECRET, body["timestamp"])
    assert len({body_of(r)["timestamp"] for r in receiver.received}) == 3


def test_a_pending_message_about_an_erased_customer_sends_only_that_it_was_erased(
    team, receiver, respond
):
    channel_for(team, receiver, "slack")
    receiver.statuses = [500]
    response = respond(2, "Call me on 555-0100")
    delivery = WebhookDelivery.objects.get()
    contact_erase(contact=response.contact)
    with time_machine.travel(delivery.next_attempt_at + timedelta(seconds=1)):
        assert webhooks_retry_due() == 1
    first, second = (body_of(r) for r in receiver.received)
    assert "555-0100" in json.dumps(first)
    assert second == {
        "text": "This notification was erased.",
        "blocks": [
            {
                "type": "header",
                "text": {"type": "plain_text", "text": "This notification was erased."},
            }
        ],
    }
    delivery.refresh_from_db()
    assert (delivery.status, delivery.payload) == ("succeeded", {"erased": True})


# ---------------------------------------------------------------- pages


def test_an_admin_adds_a_channel_and_sends_a_test_message(
    admin, project, team, receiver, delivered
):
    reply = admin.post(
        f"/app/teams/{team.pk}/chat/",
        {
            "kind": "dingtalk",
            "url": receiver.url + "?access_token=tok",
            "secret": DINGTALK_SECRET,
            "events": ["case.created", "case.overdue"],
            "description": "#care-alerts",
        },
    )
    assert reply.status_code == 302 and reply["Location"] == f"/app/teams/{team.pk}/chat/"
    channel = WebhookEndpoint.objects.get(team=team)
    assert (channel.kind, channel.secret, channel.events) == (
        "dingtalk",
        DINGTALK_SECRET,
        ["case.created", "case.overdue"],
    )
    audit = AuditEntry.objects.get(action="chat_channel.created")
    assert audit.after["url"] == "http://127.0.0.1/…"  # the URL is the credential: not kept
    assert "tok" not in json.dumps(audit.after) + audit.object_repr

    page = admin.get(f"/app/teams/{team.pk}/chat/").content.decode()
    assert "#care-alerts" in page and "access_token" not in page and DINGTALK_SECRET not in page

    receiver.bodies = [b'{"errcode":0,"errmsg":"ok"}']
    with delivered():
        reply = admin.post(f"/app/teams/{team.pk}/chat/{channel.pk}/test/")
    delivery = WebhookDelivery.objects.get(event="test.ping")
    assert reply["Location"] == f"/app/webhooks/deliveries/{delivery.pk}/"
    (received,) = receiver.received
    assert "sign" in parse_qs(urlsplit(received["path"]).query)
    markdown = body_of(received)["markdown"]
    assert markdown["title"] == "vocsite test message"
    assert f"- **Team**: Care\n- **Sent by**: admin-{project.pk}" in markdown["text"]
    assert (delivery.status, delivery.attempts) == ("succeeded", 1)
    page = admin.get(f"/app/webhooks/deliveries/{delivery.pk}/").content.decode()
    assert f'href="/app/teams/{team.pk}/chat/"' in page
    listing = admin.get("/app/webhooks/").content.decode()
    assert f'href="/app/teams/{team.pk}/chat/"' in listing  # the log, and the team's link


def test_bad_input_is_a_400_that_changes_nothing(admin, team, receiver, settings):
    good = {
        "kind": "slack",
        "url": "https://hooks.slack.com/services/T0/B0/x",
        "events": ALL_EVENTS,
    }
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False  # production
    for change, field in [
        ({"url": "http://hooks.slack.com/services/T0/B0/x"}, "An https URL is required."),
        ({"kind": "dingtalk"}, "DingTalk robots are added with their signing secret."),
        ({"kind": "email"}, "Select a valid choice."),
        ({"events": ["case.updated"]}, "Select a valid choice."),
        ({"events": []}, "This field is required."),
        ({"url": "not a url"}, "Enter a valid URL."),
    ]:
        reply = admin.post(f"/app/teams/{team.pk}/chat/", {**good, **change})
        assert reply.status_code == 400, change
        assert field in reply.content.decode(), change
    assert WebhookEndpoint.objects.count() == 0
    assert admin.post(f"/app/teams/{team.pk}/chat/", good).status_code == 302


def test_editing_keeps_the_secret_when_left_blank(admin, team, receiver):
    channel = channel_for(team, receiver, "feishu", secret=FEISHU_SECRET)
    page = admin.get(f"/app/teams/{team.pk}/chat/{channel.pk}/").content.decode()
    assert FEISHU_SECRET not in page and 'name="remove_secret"' in page
    url = f"/app/teams/{team.pk}/chat/{channel.pk}/"
    reply = admin.post(url, {"url": receiver.url, "events": ["case.overdue"], "secret": ""})
    assert reply.status_code == 302
    channel.refresh_from_db()
    assert (channel.secret, channel.events, channel.kind) == (
        FEISHU_SECRET,
        ["case.overdue"],
        "feishu",
    )
    reply = admin.post(url, {"url": receiver.url, "events": ALL_EVENTS, "remove_secret": "on"})
    assert reply.status_code == 302
    channel.refresh_from_db()
    assert channel.secret == ""
    assert "remove_secret" not in admin.get(url).content.decode()  # nothing left to remove
    reply = admin.post(url, {"url": "ftp://x", "events": ["case.overdue"]})
    assert reply.status_code == 400
    channel.refresh_from_db()
    assert channel.url == receiver.url
    admin.post(f"{url}toggle/")
    channel.refresh_from_db()
    assert channel.is_active is False
    admin.post(f"{url}delete/")
    assert not WebhookEndpoint.objects.filter(pk=channel.pk).exists()


def test_a_dingtalk_robot_keeps_its_secret(admin, team, receiver):
    channel = channel_for(team, receiver, "dingtalk", secret=DINGTALK_SECRET)
    url = f"/app/teams/{team.pk}/chat/{channel.pk}/"
    reply = admin.post(url, {"url": receiver.url, "events": ALL_EVENTS, "remove_secret": "on"})
    assert reply.status_code == 400
    assert "DingTalk robots are added with their signing secret." in reply.content.decode()
    channel.refresh_from_db()
    assert channel.secret == DINGTALK_SECRET


def test_chat_channels_are_not_standard_endpoints(admin, server_client, team, receiver):
    channel = channel_for(team, receiver, "slack")
    assert server_client.get("/api/v1/webhooks").json() == []
    assert server_client.get(f"/api/v1/webhooks/{channel.pk}").status_code == 404
    assert admin.get(f"/app/webhooks/{channel.pk}/").status_code == 404
    assert admin.post(f"/app/webhooks/{channel.pk}/rotate-secret/").status_code == 404


def chat_routes(team_id: int, channel_id: int) -> list[tuple[str, str]]:
    base = f"/app/teams/{team_id}/chat/"
    return [
        ("get", base),
        ("post", base),
        ("get", f"{base}{channel_id}/"),
        ("post", f"{base}{channel_id}/"),
        ("post", f"{base}{channel_id}/test/"),
        ("post", f"{base}{channel_id}/toggle/"),
        ("post", f"{base}{channel_id}/delete/"),
    ]


def test_only_admins_configure_chat_channels(project, team, receiver):
    channel = channel_for(team, receiver, "slack")
    for role in ("designer", "agent", "viewer"):
        client = staff(project, role)
        for method, url in chat_routes(team.pk, channel.pk):
            assert getattr(client, method)(url).status_code == 403, (role, method, url)
    channel.refresh_from_db()
    assert channel.is_active is True
    assert WebhookDelivery.objects.count() == 0


def test_another_projects_or_teams_channels_are_404_and_unchanged(admin, project, team, receiver):
    other = ProjectFactory()
    their_team = Team.objects.create(project=other, name="Theirs")
    theirs = chat_channel_create(
        team=their_team,
        kind="slack",
        url="https://hooks.slack.com/services/T/B/theirs",
        events=ALL_EVENTS,
    )
    chat_test_send(channel=theirs)
    for method, url in chat_routes(their_team.pk, theirs.pk):
        assert getattr(admin, method)(url).status_code == 404, (method, url)
    # Their channel under one of our teams' URLs is not found either.
    billing = Team.objects.create(project=project, name="Billing")
    ours = channel_for(billing, receiver, "slack")
    for method, url in chat_routes(team.pk, ours.pk)[2:]:
        assert getattr(admin, method)(url).status_code == 404, (method, url)
    theirs.refresh_from_db()
    assert (theirs.is_active, theirs.url) == (True, "https://hooks.slack.com/services/T/B/theirs")
    assert WebhookEndpoint.objects.filter(team=their_team).count() == 1
    assert WebhookDelivery.objects.filter(endpoint=theirs).count() == 1
    assert WebhookEndpoint.objects.filter(pk=ours.pk, is_active=True).exists()
    assert "Theirs" not in admin.get("/app/webhooks/").content.decode()
