"""feedback.answering.widget_fast."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from feedback.answering.widget_api import ResponseSubmitApi, plainly_valid_response, submit_response
from surveys.delivery.widget_fast import Reply, fast_route
from surveys.tenancy.models import Project


def _serve_response(request: HttpRequest, project: Project, values: dict[str, Any]) -> Reply:
    reply, created = submit_response(project, values, request.META.get("HTTP_USER_AGENT", ""))
    return (201 if created else 200), reply


response_route = fast_route(ResponseSubmitApi, plainly_valid_response, _serve_response)
