"""Hostile input stops here, before any view: one 400 for text no column can store, and one
4xx page for an expected failure a staff page did not catch.

`HostileInputMiddleware` refuses, with a 400, a request whose path, query string, form body
or JSON body holds a NUL character or bytes that are not UTF-8. PostgreSQL's text and jsonb
types refuse NUL (and unpaired UTF-16 surrogates, which only a JSON escape can carry), so
such input reached PostgreSQL as a 500 on 19 endpoints while SQLite stored it; Django
itself reads undecodable bytes as U+FFFD, so they were stored garbled. API paths (`/api/`)
get DESIGN.md §6's error body (code `malformed_request`, as for any body that cannot be
parsed); other paths a plain page. Uploaded files are the reader's to check (a CSV cell:
`surveys.contacts.services.contacts_import_csv`).

A JSON body is parsed here only when it holds an escape (`\\u`): without one it cannot
carry a NUL or a surrogate past the UTF-8 check, and the hot widget calls are rarely escaped.

Its `process_exception` is the one handler of `ApplicationError` outside DRF: a staff page
that lets one through answers with its status (400 unless the error says otherwise) and its
message, instead of a 500. DRF views keep their own handler (`vocsite.errors`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from urllib.parse import unquote_to_bytes

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.shortcuts import render
from django.utils.translation import gettext

from vocsite.errors import ApplicationError, error_body
from vocsite.parsers import unstorable

_NUL = "\x00"


def _wsgi_text(value: str) -> str | None:
    """A WSGI environ value (its bytes as latin-1, PEP 3333) as UTF-8 text; None when the
    bytes are not UTF-8."""
    try:
        raw = value.encode("iso-8859-1")
    except UnicodeEncodeError:
        return value  # already text: not from a WSGI server
    try:
        return raw.decode()
    except UnicodeDecodeError:
        return None


def _form_encoded_text(raw: bytes) -> str | None:
    """A query string or urlencoded body, percent-decoded, as UTF-8 text (None if not)."""
    try:
        return unquote_to_bytes(raw.replace(b"+", b" ")).decode()
    except UnicodeDecodeError:
        return None


def _refused_text(text: str | None) -> bool:
    return text is None or _NUL in text


def _refused_json(body: bytes) -> bool:
    try:
        text = body.decode()
    except UnicodeDecodeError:
        return True
    if _NUL in text:
        return True
    if "\\u" not in text:
        return False
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return False  # not JSON: the view's parser words that error
    return unstorable(data)


def input_refused(request: HttpRequest) -> bool:
    """Whether the request carries a NUL character or undecodable bytes (module docstring)."""
    meta = request.META
    if _refused_text(_wsgi_text(meta.get("PATH_INFO", ""))) or _NUL in request.path:
        return True
    query = meta.get("QUERY_STRING", "")
    if query and _refused_text(_form_encoded_text(query.encode("iso-8859-1", "replace"))):
        return True
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return False
    content_type = request.content_type or ""
    try:
        if content_type == "application/x-www-form-urlencoded":
            return _refused_text(_form_encoded_text(request.body))
        if content_type == "multipart/form-data":
            # The raw body first (up to DATA_UPLOAD_MAX_MEMORY_SIZE; a larger upload is left
            # to its view): parsed from the stream, the form would leave a JSON-only API
            # view nothing to read, and its 415 would become a misleading 401.
            request.body  # noqa: B018
            fields = request.POST
            return any(
                _NUL in name or any(_NUL in value for value in values)
                for name, values in fields.lists()
            ) or any(_NUL in (upload.name or "") for upload in request.FILES.values())
        if content_type == "application/json" or content_type.endswith("+json"):
            return _refused_json(request.body)
    except RequestDataTooBig:
        return False  # the view answers 413 when it reads the body
    return False


def _refusal(request: HttpRequest, message: str, status: int = 400) -> HttpResponse:
    if request.path_info.startswith("/api/"):
        return JsonResponse(error_body("malformed_request", message), status=status)
    return render(request, "error.html", {"message": message}, status=status)


class HostileInputMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            refused = input_refused(request)
        except MultiPartParserError:
            return _refusal(request, gettext("The form data could not be read."))
        if refused:
            return _refusal(
                request,
                gettext(
                    "The request holds a NUL character or text that is not UTF-8; nothing was done."
                ),
            )
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, ApplicationError):
            return None
        if request.path_info.startswith("/api/"):
            return JsonResponse(
                error_body(exception.code, exception.message, exception.fields),
                status=exception.status_code,
            )
        return render(
            request,
            "error.html",
            {"message": exception.message, "fields": exception.fields},
            status=exception.status_code,
        )
