"""The chat platforms' formats and signatures as plain functions (no database), over any text
customers and designers may type: every platform's message is JSON with the headline, each
fact, the comment (cut to COMMENT_MAX) and the link; Slack's control characters never pass
through; DingTalk's signed URL keeps its query and verifies; Feishu's signature verifies."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from urllib.parse import parse_qs, urlsplit

from hypothesis import given, settings
from hypothesis import strategies as st

from feedback.webhooks.chat_formats import (
    COMMENT_MAX,
    FORMATS,
    ChatMessage,
    chat_message_body,
    slack_message,
)
from feedback.webhooks.chat_signing import chat_signed

text = st.text(min_size=1, max_size=1500).filter(lambda t: t.strip())
messages = st.builds(
    ChatMessage,
    headline=st.text(min_size=1, max_size=80).filter(lambda t: t.strip()),
    facts=st.lists(st.tuples(st.sampled_from(["Score", "Survey"]), text), max_size=3).map(tuple),
    comment=text,
    link_label=st.just("Open the case"),
    link_url=st.just("https://voc.example/app/cases/7/"),
    tone=st.sampled_from(["info", "warning", "alert"]),
)


def expected_comment(comment: str) -> str:
    comment = comment.strip()
    return comment if len(comment) <= COMMENT_MAX else comment[: COMMENT_MAX - 1].rstrip() + "…"


def quoted(comment: str) -> str:
    return "\n".join(f"> {line}" for line in comment.splitlines() or [""])


@settings(max_examples=60, deadline=None)
@given(message=messages)
def test_every_platform_carries_the_comment_cut_and_the_link(message):
    comment = expected_comment(message.comment)
    assert len(comment) <= COMMENT_MAX
    teams = chat_message_body("teams", message)["attachments"][0]["content"]
    assert teams["body"][-1]["text"] == comment
    assert teams["actions"][0]["url"] == message.link_url
    feishu = chat_message_body("feishu", message)["card"]["elements"]
    assert feishu[-2]["text"]["content"] == comment
    assert feishu[-1]["actions"][0]["url"] == message.link_url
    link = f"[Open the case]({message.link_url})"
    dingtalk = chat_message_body("dingtalk", message)["markdown"]["text"]
    wecom = chat_message_body("wecom", message)["markdown"]["content"]
    for markdown in (dingtalk, wecom):
        assert markdown_unescaped(markdown).endswith(f"\n\n{quoted(comment)}\n\n{link}")


def markdown_unescaped(text: str) -> str:
    """What a markdown reader shows of escaped text (backslash escapes and the three entities)."""
    text = re.sub(r"\\(.)", r"\1", text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


@settings(max_examples=60, deadline=None)
@given(message=messages)
def test_markdown_platforms_show_what_people_typed_without_markup(message):
    """A comment can add no heading, link, emphasis or HTML in DingTalk or WeCom: no line of
    the quote starts a block, and every mark or tag is escaped."""
    for kind in ("dingtalk", "wecom"):
        markdown = chat_message_body(kind, message)["markdown"]
        lines = (markdown.get("text") or markdown["content"]).splitlines()
        quote = "\n".join(line[2:] for line in lines if line.startswith("> "))
        for line in quote.splitlines():
            assert not re.match(r"\s*([#>+=-]|\d+[.)])", line)
        assert "<" not in quote
        assert not re.search(r"(?<!\\)[`*_\[\]()~|!]", quote)
    for kind in FORMATS:
        json.dumps(chat_message_body(kind, message))  # what is sent is JSON


@settings(max_examples=60, deadline=None)
@given(message=messages)
def test_slack_never_receives_a_control_sequence_from_what_people_typed(message):
    body = slack_message(message)
    fields = [field for block in body["blocks"] for field in block.get("fields", [])]
    comment = body["blocks"][-2]["text"]["text"]
    typed = [body["text"], comment.replace("\n> ", "\n")[2:], *(f["text"] for f in fields)]
    assert not any("<" in shown or ">" in shown for shown in typed)
    unescaped = comment.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    assert unescaped == quoted(expected_comment(message.comment))


@settings(max_examples=40, deadline=None)
@given(
    secret=st.text(alphabet="ABCDEFabcdef0123456789", min_size=8, max_size=67),
    now=st.floats(min_value=1.6e9, max_value=2.1e9),
)
def test_dingtalk_and_feishu_signatures_verify_from_the_documented_recipes(secret, now):
    url, body = chat_signed(
        kind="dingtalk",
        url="https://oapi.dingtalk.com/robot/send?access_token=t0k",
        body={"msgtype": "markdown"},
        secret=secret,
        now=now,
    )
    query = parse_qs(urlsplit(url).query)
    (timestamp,) = query["timestamp"]
    assert (query["access_token"], int(timestamp), body) == (
        ["t0k"],
        int(now * 1000),
        {"msgtype": "markdown"},
    )
    expected = hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256)
    assert query["sign"] == [base64.b64encode(expected.digest()).decode()]

    url, body = chat_signed(
        kind="feishu",
        url="https://open.feishu.cn/open-apis/bot/v2/hook/x",
        body={},
        secret=secret,
        now=now,
    )
    key = f"{body['timestamp']}\n{secret}".encode()
    assert body["timestamp"] == str(int(now))
    assert body["sign"] == base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()
    assert url == "https://open.feishu.cn/open-apis/bot/v2/hook/x"


def test_unsigned_platforms_and_an_empty_secret_send_as_they_are():
    for kind, secret in [
        ("slack", "s"),
        ("teams", "s"),
        ("wecom", "s"),
        ("feishu", ""),
        ("dingtalk", ""),
    ]:
        assert chat_signed(
            kind=kind, url="https://x.example/h", body={"a": 1}, secret=secret, now=1.0
        ) == (
            "https://x.example/h",
            {"a": 1},
        )
