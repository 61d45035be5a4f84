"""Cursor-paginated list APIs (`GET /api/v1/cases`, `/feedback`, `/responses`), served one way:
the query string read by the list's filter serializer (a 400 in the error body otherwise), the
rows cut into pages by a cursor on the list's ordering (50 a page by default, `limit` up to
200), and each page described to drf-spectacular as `{next, previous, results}`.

A cursor rather than page numbers: a page never repeats or skips a row when rows arrive while
a client walks the list, and reaching page n costs no OFFSET."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

PAGE_SIZE = 50
MAX_PAGE_SIZE = 200

# The query parameters of every list, after its filters in the schema.
PAGE_PARAMETERS = [
    OpenApiParameter("cursor", OpenApiTypes.STR, description="From `next`."),
    OpenApiParameter("limit", OpenApiTypes.INT, description=f"Page size (≤ {MAX_PAGE_SIZE})."),
]


class ListPagination(CursorPagination):
    page_size = PAGE_SIZE
    page_size_query_param = "limit"
    max_page_size = MAX_PAGE_SIZE

    def __init__(self, ordering: Sequence[str]) -> None:
        self.ordering = tuple(ordering)


def page_serializer(name: str, item: type[serializers.Serializer]) -> type[serializers.Serializer]:
    """The page body of a list of `item` rows; `name` is the serializer's class name, which
    the schema shows without its `Serializer` suffix."""
    fields = {
        "next": serializers.URLField(allow_null=True, help_text="The next page, or null."),
        "previous": serializers.URLField(allow_null=True),
        "results": item(many=True),
    }
    return type(name, (serializers.Serializer,), fields)


def list_filters(
    request: Request, filters: type[serializers.Serializer], **context: Any
) -> dict[str, Any]:
    """The list's filters read from the query string; invalid ones raise the 400."""
    query = filters(data=request.query_params, context=context)
    query.is_valid(raise_exception=True)
    return query.validated_data


def list_page(
    request: Request,
    view: APIView,
    rows: QuerySet,
    *,
    ordering: Sequence[str],
    item: type[serializers.Serializer],
) -> Response:
    """One page of `rows` in `ordering` (unique: it ends with the primary key), as `item`s."""
    paginator = ListPagination(ordering)
    page = paginator.paginate_queryset(rows, request, view=view)
    return paginator.get_paginated_response(item(page, many=True).data)
