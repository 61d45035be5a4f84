"""How Feishu and DingTalk robots check that a message comes from whoever holds the secret.

Both sign a timestamp with HMAC-SHA256 and refuse a message whose timestamp is more than an
hour off, so each attempt (a retry, a replay) is signed afresh when it is sent. Slack, Teams
and WeCom sign nothing: their webhook URL itself is the secret.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from urllib.parse import quote_plus

from feedback.webhooks.chat_formats import DINGTALK, FEISHU


def feishu_sign(*, secret: str, timestamp: int) -> str:
    """Feishu / Lark custom bot: the key is "<timestamp>\\n<secret>" and the message empty; the
    body carries `timestamp` (seconds, as a string) and this `sign`."""
    key = f"{timestamp}\n{secret}".encode()
    return base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()


def dingtalk_sign(*, secret: str, timestamp_ms: int) -> str:
    """DingTalk robot: the key is the secret and the message "<timestamp>\\n<secret>"
    (timestamp in milliseconds); base64, not yet URL-encoded."""
    message = f"{timestamp_ms}\n{secret}".encode()
    return base64.b64encode(hmac.new(secret.encode(), message, hashlib.sha256).digest()).decode()


def dingtalk_signed_url(url: str, *, secret: str, timestamp_ms: int) -> str:
    """The robot's URL with `&timestamp=<ms>&sign=<urlencoded signature>` appended."""
    sign = quote_plus(dingtalk_sign(secret=secret, timestamp_ms=timestamp_ms))
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}timestamp={timestamp_ms}&sign={sign}"


def chat_signed(*, kind: str, url: str, body: dict, secret: str, now: float) -> tuple[str, dict]:
    """The URL and body of one attempt, signed as `kind` wants when a secret is set."""
    if not secret:
        return url, body
    if kind == FEISHU:
        timestamp = int(now)
        signature = {
            "timestamp": str(timestamp),
            "sign": feishu_sign(secret=secret, timestamp=timestamp),
        }
        return url, {**signature, **body}
    if kind == DINGTALK:
        return dingtalk_signed_url(url, secret=secret, timestamp_ms=int(now * 1000)), body
    return url, body
