"""A case notification in each chat platform's own message format, and what its reply means.

The message arrives here already in words (translated by the caller): a headline, facts as
label/value pairs (score, survey, status, assignee…), the customer's comment and a link. Each
platform gets its native layout — Slack blocks, a Teams Adaptive Card in the `attachments`
envelope, a Feishu interactive card, DingTalk and WeCom markdown — so it reads like the
platform's own notifications. No Django here: tested as plain functions.

What customers wrote is quoted as text: Slack's control characters are escaped (a comment
cannot mention @channel), Feishu shows it as plain text.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

SLACK, TEAMS, FEISHU, DINGTALK, WECOM = "slack", "teams", "feishu", "dingtalk", "wecom"
# As the delivery log names them (its failures are written in English, like the others).
PLATFORM_NAMES = {
    SLACK: "Slack",
    TEAMS: "Microsoft Teams",
    FEISHU: "Feishu / Lark",
    DINGTALK: "DingTalk",
    WECOM: "WeCom",
}

# Long comments are cut (with an ellipsis) well below every platform's message limit
# (WeCom's markdown is the smallest: 4,096 bytes).
COMMENT_MAX = 1000
HEADLINE_MAX = 150  # Slack's header block


@dataclass(frozen=True)
class ChatMessage:
    headline: str
    facts: tuple[tuple[str, str], ...] = ()
    comment: str = ""
    link_label: str = ""
    link_url: str = ""
    # "info", "warning" (a new case) or "alert" (overdue): the card's colour where there is one.
    tone: str = "info"


def _cut(text: str, limit: int) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _slack_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# Marks that make emphasis, code, links or HTML anywhere in a line, and those that make a
# heading, quote, list or rule at its start.
_MARKDOWN_INLINE = re.compile(r"([\\`*_\[\]()~|!])")
_MARKDOWN_LINE_START = re.compile(r"^(\s*)([#>+=-]|\d+[.)])", re.MULTILINE)


def _markdown_escape(text: str) -> str:
    """Text shown as typed in DingTalk's, WeCom's and Feishu's markdown: its marks escaped and
    HTML tags made inert, so a comment cannot add headings, links or emphasis."""
    text = "\n".join(text.splitlines())  # every line break a reader may honour, as \n
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _MARKDOWN_INLINE.sub(r"\\\1", text)
    return _MARKDOWN_LINE_START.sub(lambda m: f"{m[1]}\\{m[2]}", text)


def _quoted(text: str) -> str:
    return "\n".join(f"> {line}" for line in text.splitlines() or [""])


def slack_message(message: ChatMessage) -> dict:
    """Incoming webhook: `text` is the notification's fallback, `blocks` what is shown."""
    headline = _cut(message.headline, HEADLINE_MAX)
    blocks: list[dict] = [{"type": "header", "text": {"type": "plain_text", "text": headline}}]
    if message.facts:
        blocks.append(
            {
                "type": "section",
                "fields": [
                    {"type": "mrkdwn", "text": f"*{_slack_escape(label)}*\n{_slack_escape(value)}"}
                    for label, value in message.facts
                ],
            }
        )
    if message.comment:
        comment = _quoted(_slack_escape(_cut(message.comment, COMMENT_MAX)))
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": comment}})
    if message.link_url:
        button = {"type": "plain_text", "text": message.link_label}
        blocks.append(
            {
                "type": "actions",
                "elements": [{"type": "button", "text": button, "url": message.link_url}],
            }
        )
    return {"text": _slack_escape(headline), "blocks": blocks}


TEAMS_COLOURS = {"info": "Accent", "warning": "Warning", "alert": "Attention"}


def teams_message(message: ChatMessage) -> dict:
    """Teams incoming webhook or Workflows URL: one Adaptive Card in the message's
    `attachments`, the envelope both accept."""
    body: list[dict] = [
        {
            "type": "TextBlock",
            "text": message.headline,
            "weight": "Bolder",
            "size": "Medium",
            "color": TEAMS_COLOURS.get(message.tone, "Default"),
            "wrap": True,
        }
    ]
    if message.facts:
        facts = [{"title": label, "value": value} for label, value in message.facts]
        body.append({"type": "FactSet", "facts": facts})
    if message.comment:
        comment = _cut(message.comment, COMMENT_MAX)
        body.append({"type": "TextBlock", "text": comment, "wrap": True, "isSubtle": True})
    card: dict = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": body,
    }
    if message.link_url:
        card["actions"] = [
            {"type": "Action.OpenUrl", "title": message.link_label, "url": message.link_url}
        ]
    attachment = {
        "contentType": "application/vnd.microsoft.card.adaptive",
        "contentUrl": None,
        "content": card,
    }
    return {"type": "message", "attachments": [attachment]}


FEISHU_COLOURS = {"info": "blue", "warning": "orange", "alert": "red"}


def feishu_message(message: ChatMessage) -> dict:
    """Custom bot: an interactive card (header, short fields, the comment, a button)."""
    elements: list[dict] = []
    if message.facts:
        fields = [
            {
                "is_short": True,
                "text": {"tag": "lark_md", "content": f"**{label}**\n{_markdown_escape(value)}"},
            }
            for label, value in message.facts
        ]
        elements.append({"tag": "div", "fields": fields})
    if message.comment:
        comment = _cut(message.comment, COMMENT_MAX)
        elements.append({"tag": "div", "text": {"tag": "plain_text", "content": comment}})
    if message.link_url:
        button = {
            "tag": "button",
            "text": {"tag": "plain_text", "content": message.link_label},
            "type": "primary",
            "url": message.link_url,
        }
        elements.append({"tag": "action", "actions": [button]})
    header = {
        "title": {"tag": "plain_text", "content": message.headline},
        "template": FEISHU_COLOURS.get(message.tone, "blue"),
    }
    return {"msg_type": "interactive", "card": {"header": header, "elements": elements}}


def _markdown_lines(message: ChatMessage) -> list[str]:
    lines = [f"- **{label}**: {_markdown_escape(value)}" for label, value in message.facts]
    if message.comment:
        lines += ["", _quoted(_markdown_escape(_cut(message.comment, COMMENT_MAX)))]
    if message.link_url:
        lines += ["", f"[{message.link_label}]({message.link_url})"]
    return lines


def dingtalk_message(message: ChatMessage) -> dict:
    """Robot: markdown, its `title` being what the notification shows."""
    text = "\n".join([f"### {_markdown_escape(message.headline)}", "", *_markdown_lines(message)])
    return {"msgtype": "markdown", "markdown": {"title": message.headline, "text": text}}


WECOM_COLOURS = {"info": "info", "warning": "warning", "alert": "warning"}


def wecom_message(message: ChatMessage) -> dict:
    """Group bot: `msgtype: markdown`, the headline in the tone's colour."""
    colour = WECOM_COLOURS.get(message.tone, "info")
    headline = f'**<font color="{colour}">{_markdown_escape(message.headline)}</font>**'
    return {
        "msgtype": "markdown",
        "markdown": {"content": "\n".join([headline, *_markdown_lines(message)])},
    }


FORMATS = {
    SLACK: slack_message,
    TEAMS: teams_message,
    FEISHU: feishu_message,
    DINGTALK: dingtalk_message,
    WECOM: wecom_message,
}


def chat_message_body(kind: str, message: ChatMessage) -> dict:
    return FORMATS[kind](message)


def chat_refusal(kind: str, reply: bytes) -> int | None:
    """The error code of a 2xx reply that still refused the message, else None.

    Feishu, DingTalk and WeCom answer HTTP 200 to a bad signature, a stale timestamp or a
    blocked keyword, with a non-zero code in the JSON body (`code`, or `StatusCode` from
    older Feishu bots; `errcode`). Slack and Teams use the status code alone."""
    if kind not in (FEISHU, DINGTALK, WECOM):
        return None
    try:
        answer = json.loads(reply)
    except ValueError:
        return None
    if not isinstance(answer, dict):
        return None
    keys = ("code", "StatusCode") if kind == FEISHU else ("errcode",)
    for key in keys:
        code = answer.get(key)
        if isinstance(code, int) and not isinstance(code, bool):
            return code or None
    return None
