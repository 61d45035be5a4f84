"""Lean JSON endpoints: a request body read and checked against one declared payload type, and
JSON replies in the API's error format — for views that answer without DRF's per-request
machinery (the widget API, the hottest calls there are).

A payload is declared once, as a `msgspec.Struct`: the same class validates the request
(`payload_convert`) and, through `vocsite.json_api_schema`, describes it in the OpenAPI schema,
so the two cannot drift. msgspec converts and checks a parsed body in one C pass and its
errors name the field; they are worded here as DRF words the same errors everywhere else in
the API (`{"error": {"code": "invalid", "fields": {"visitor_id": ["Not a valid string."]}}}`).
Like DRF's CharField, text is trimmed of surrounding whitespace; a field declared with
`min_length=1` may not be blank once trimmed.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from functools import cache
from http import HTTPStatus
from typing import Any, TypeVar

import msgspec
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext, gettext_lazy

from vocsite.errors import ApplicationError, error_body
from vocsite.parsers import unstorable

P = TypeVar("P", bound=msgspec.Struct)

INVALID_MESSAGE = gettext_lazy("The request is not valid.")
_ENCODER = msgspec.json.Encoder()


@dataclass(frozen=True)
class Response:
    """One documented reply of an operation: its body type (None: no body) and what it means."""

    body: type | None
    description: str = ""


@dataclass(frozen=True)
class Operation:
    """What the OpenAPI schema says of one lean view (`vocsite.json_api_schema` reads it off
    the view function as `view.openapi`)."""

    operation_id: str
    method: str
    description: str
    request: type[msgspec.Struct] | None = None
    responses: dict[int, Response] = field(default_factory=dict)
    query: dict[str, str] = field(default_factory=dict)  # required query parameters: description
    tags: tuple[str, ...] = ()
    security: tuple[str, ...] = ()


# ---------------------------------------------------------------- request bodies


def json_body(request: HttpRequest) -> Any:
    """The request's JSON body parsed as DRF's parser would accept it: 415 for another media
    type, 400 (`malformed_request`) for what is not JSON or holds values PostgreSQL cannot
    store (vocsite.parsers), 413 for a body over DATA_UPLOAD_MAX_MEMORY_SIZE; {} when empty."""
    try:
        raw = request.body
    except RequestDataTooBig:
        raise ApplicationError(
            "too_large", gettext("The request body is too large."), status_code=413
        ) from None
    if not raw:
        return {}
    if request.content_type != "application/json":
        raise ApplicationError(
            "unsupported_media_type",
            gettext('Unsupported media type "%(media_type)s" in request.')
            % {"media_type": request.content_type},
            status_code=415,
        )
    try:
        encoding = (request.encoding or "utf-8").lower()
        data = msgspec.json.decode(raw if encoding in ("utf-8", "utf8") else raw.decode(encoding))
        refused = unstorable(data)
    except (msgspec.DecodeError, msgspec.ValidationError, ValueError, RecursionError) as error:
        raise _malformed(f"JSON parse error - {error}") from None
    if refused:
        raise _malformed(
            "JSON parse error - NUL characters, unpaired surrogates and numbers out of"
            " range are not accepted."
        )
    return data


def _malformed(message: str) -> ApplicationError:
    return ApplicationError("malformed_request", message, status_code=400)


# ---------------------------------------------------------------- payload validation


def payload_convert(data: Any, payload: type[P]) -> P:
    """`data` as the declared payload type, trimmed; ApplicationError 400 naming the field."""
    try:
        value = msgspec.convert(data, payload)
    except msgspec.ValidationError as error:
        name, message = _field_error(str(error))
        raise ApplicationError("invalid", str(INVALID_MESSAGE), {name: [message]}) from None
    for name, not_blank in _text_fields(payload):
        text = getattr(value, name)
        if text is None:
            continue
        trimmed = text.strip()
        if trimmed != text:
            setattr(value, name, trimmed)
        if not_blank and not trimmed:
            raise ApplicationError(
                "invalid", str(INVALID_MESSAGE), {name: [gettext("This field may not be blank.")]}
            )
    problems = getattr(value, "problems", None)
    found = problems() if problems is not None else None
    if found:
        raise ApplicationError("invalid", str(INVALID_MESSAGE), found)
    return value


@cache
def _text_fields(payload: type[msgspec.Struct]) -> tuple[tuple[str, bool], ...]:
    """The payload's top-level text fields, and whether each must hold more than whitespace."""
    found = []
    for info in msgspec.inspect.type_info(payload).fields:
        kind = info.type
        if isinstance(kind, msgspec.inspect.UnionType):
            kind = next((t for t in kind.types if isinstance(t, msgspec.inspect.StrType)), kind)
        if isinstance(kind, msgspec.inspect.StrType):
            found.append((info.name, (kind.min_length or 0) >= 1))
    return tuple(found)


_AT = re.compile(r"^(?P<message>.*?)(?: - at `\$(?P<path>[^`]*)`)?$", re.DOTALL)
_MISSING = re.compile(r"^Object missing required field `(?P<name>[^`]+)`$")
_MAX_LENGTH = re.compile(r"^Expected `(?P<kind>str|array)` of length <= (?P<n>\d+)$")
_MIN_LENGTH = re.compile(r"^Expected `str` of length >= 1$")
_BOUND = re.compile(r"^Expected `int` (?P<op>>=|<=) (?P<n>-?\d+)$")
_ENUM = re.compile(r"^Invalid enum value (?P<value>.*)$")
# DRF's own wordings (its msgids, so its catalogues translate them as they do a serializer's).
_TYPE_WORDS = {
    "str": gettext_lazy("Not a valid string."),
    "int": gettext_lazy("A valid integer is required."),
    "bool": gettext_lazy("Must be a valid boolean."),
    "object": gettext_lazy("Expected a dictionary of items."),
    "array": gettext_lazy("Expected a list of items."),
}


def _field_error(text: str) -> tuple[str, str]:
    """msgspec's error as the dotted field name and DRF's wording of the same error."""
    match = _AT.match(text)
    message, path = match["message"], match["path"] or ""
    name = re.sub(r"\[(\d+)\]", r".\1", path).lstrip(".")
    missing = _MISSING.match(message)
    if missing:
        return _join(name, missing["name"]), gettext("This field is required.")
    return name or "non_field_errors", _worded(message)


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def _worded(message: str) -> str:
    if found := _MAX_LENGTH.match(message):
        if found["kind"] == "str":
            worded = gettext("Ensure this field has no more than {max_length} characters.")
        else:
            worded = gettext("Ensure this field has no more than {max_length} elements.")
        return worded.format(max_length=found["n"])
    if _MIN_LENGTH.match(message):
        return gettext("This field may not be blank.")
    if found := _BOUND.match(message):
        if found["op"] == ">=":
            return gettext("Ensure this value is greater than or equal to {min_value}.").format(
                min_value=found["n"]
            )
        return gettext("Ensure this value is less than or equal to {max_value}.").format(
            max_value=found["n"]
        )
    if found := _ENUM.match(message):
        return gettext('"{input}" is not a valid choice.').format(
            input=found["value"].strip(chr(39))
        )
    if message.startswith("Expected `str` matching regex"):
        return gettext(
            'Enter a valid "slug" consisting of letters, numbers, underscores or hyphens.'
        )
    if message == "Invalid UUID":
        return gettext("Must be a valid UUID.")
    if message.startswith("Expected `"):
        kind = message[len("Expected `") :].split("`")[0].split(" ")[0]
        if kind in _TYPE_WORDS:
            return str(_TYPE_WORDS[kind])
    return message


# ---------------------------------------------------------------- replies


def json_reply(body: Any, status: int = 200) -> HttpResponse:
    """A JSON reply (None: an empty body, as a 204 has)."""
    if body is None:
        return HttpResponse(status=status)
    return HttpResponse(_ENCODER.encode(body), status=status, content_type="application/json")


def error_reply(error: ApplicationError) -> HttpResponse:
    return json_reply(error_body(error.code, error.message, error.fields), error.status_code)


def throttled_reply(wait: float) -> HttpResponse:
    """429 as DRF's Throttled renders it: the seconds to wait, rounded up, in Retry-After."""
    seconds = math.ceil(wait)
    unit = "second" if seconds == 1 else "seconds"
    response = json_reply(
        error_body(
            "rate_limited", f"Request was throttled. Expected available in {seconds} {unit}."
        ),
        HTTPStatus.TOO_MANY_REQUESTS,
    )
    response["Retry-After"] = str(seconds)
    return response
