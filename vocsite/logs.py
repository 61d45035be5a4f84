"""Structured logs: one JSON object per line in full mode, each carrying the id of the request
it was written during, so one request's lines can be found among many processes' output.

`RequestIdMiddleware` takes the caller's `X-Request-ID` (a load balancer's, when it is a short
token) or makes one, returns it as a response header, and keeps it where `RequestIdFilter`
finds it until the response is closed (`request_finished`): Django logs a 4xx or 5xx response
(django.request) after the middleware has returned it. A log call has no argument to carry
the id, so it lives in a `ContextVar`: each gunicorn thread has its own. Outside a request the
field is null.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable
from contextvars import ContextVar

from django.core.signals import request_finished
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter

REQUEST_ID_HEADER = "X-Request-ID"
# A caller's id is kept when it is a plain token (a uuid, a balancer's hex id): anything else
# would let a client write arbitrary text into every log line of its request.
_ACCEPTED_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")

_request_id: ContextVar[str | None] = ContextVar("request_id", default=None)


def current_request_id() -> str | None:
    return _request_id.get()


class RequestIdMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        offered = request.headers.get(REQUEST_ID_HEADER, "")
        request_id = offered if _ACCEPTED_ID.fullmatch(offered) else uuid.uuid4().hex
        _request_id.set(request_id)
        response = self.get_response(request)
        response[REQUEST_ID_HEADER] = request_id
        return response


@receiver(request_finished)
def _request_id_forget(**kwargs) -> None:
    _request_id.set(None)


class RequestIdFilter(logging.Filter):
    """Adds `request_id` to every record passing the handler it is attached to."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _request_id.get()
        return True


# Attributes of a record that are not written: `request` (django.request's extra) is an
# object whose text would be its repr; the rest are the formatter's own bookkeeping.
_NOT_WRITTEN = ("request", "color_message")


def json_formatter() -> JsonFormatter:
    """One JSON object per record: time, level, logger, message, request_id, then any extra
    fields the call passed (e.g. django.request's status_code) and the traceback if any."""
    return JsonFormatter(
        "{levelname}{name}{message}{request_id}",
        style="{",
        rename_fields={"levelname": "level", "name": "logger"},
        reserved_attrs=[*RESERVED_ATTRS, *_NOT_WRITTEN],
        json_ensure_ascii=False,
        timestamp="time",  # ISO 8601, UTC
    )


def json_logging(level: str) -> dict:
    """The LOGGING setting of full mode: JSON lines on stderr (gunicorn captures them into its
    log; Celery's log handlers get the same formatter, vocsite/celery.py)."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": "vocsite.logs.RequestIdFilter"}},
        "formatters": {"json": {"()": "vocsite.logs.json_formatter"}},
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "filters": ["request_id"],
            }
        },
        "root": {"handlers": ["console"], "level": level},
    }
