"""The API's error body, described once for drf-spectacular (`{"error": {code, message, fields}}`):
as a serializer for the DRF views, as a msgspec type for the widget's plain views."""

from __future__ import annotations

import msgspec
from drf_spectacular.utils import OpenApiResponse, inline_serializer
from rest_framework import serializers

ERROR_BODY = inline_serializer(
    "ErrorBody",
    {
        "error": inline_serializer(
            "ErrorDetail",
            {
                "code": serializers.CharField(),
                "message": serializers.CharField(),
                "fields": serializers.DictField(
                    child=serializers.ListField(child=serializers.CharField())
                ),
            },
        )
    },
)


ERRORS = {
    400: OpenApiResponse(ERROR_BODY, description="Invalid input"),
    401: OpenApiResponse(ERROR_BODY, description="Not authenticated"),
    403: OpenApiResponse(ERROR_BODY, description="Not allowed for this role"),
    404: OpenApiResponse(ERROR_BODY, description="Not found in this project"),
}


class ErrorDetail(msgspec.Struct):
    code: str
    message: str
    fields: dict[str, list[str]]


class ErrorBody(msgspec.Struct):
    """Every 4xx of the API (vocsite.errors): the same shape as `ERROR_BODY`, for the lean
    views' schema (vocsite.json_api)."""

    error: ErrorDetail


ERROR_BODY_TYPE = ErrorBody
