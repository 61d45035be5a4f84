"""Outgoing e-mail messages, built in one place so that every subject is one clean line.

Subjects are made of text people typed — a case title from multi-line feedback, a project's
name — and Django refuses a header with a line break (BadHeaderError): the message, and with
it a case's e-mails, was lost. `email_message` builds every message vocsite sends (case
e-mails, survey invitations, staff invitations) with its subject through `one_line`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from django.core.mail import EmailMultiAlternatives

SUBJECT_MAX_LENGTH = 200

_WHITESPACE = re.compile(r"\s+")  # Unicode whitespace: newlines, tabs, U+2028, NBSP…
# Other C0/C1 control characters and lone surrogates (which no e-mail header can encode).
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


def one_line(text: str, max_length: int) -> str:
    """`text` as one line: runs of whitespace become one space, control characters go, the
    ends are trimmed, and it is cut at `max_length` characters."""
    collapsed = _CONTROL.sub("", _WHITESPACE.sub(" ", str(text)))
    return collapsed.strip()[:max_length].rstrip()


def email_message(
    *,
    subject: str,
    body: str,
    to: Sequence[str],
    html: str | None = None,
    from_email: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> EmailMultiAlternatives:
    """A message with a one-line subject, a text body and, when given, an HTML alternative
    (from_email None: DEFAULT_FROM_EMAIL)."""
    message = EmailMultiAlternatives(
        subject=one_line(subject, SUBJECT_MAX_LENGTH),
        body=body,
        from_email=from_email,
        to=list(to),
        headers=dict(headers or {}),
    )
    if html is not None:
        message.attach_alternative(html, "text/html")
    return message
