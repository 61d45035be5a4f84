"""`GET /api/v1/responses` (DESIGN.md §6): responses with their answers, cursor-paginated as
JSON, or the whole filtered set streamed as CSV or XLSX (`format=csv|xlsx`) — one row per
answer, read from the database in chunks so a million rows never sit in memory.

Readable by admins, designers and agents (agents read responses to work cases) and by secret
keys; viewers see dashboards only.
"""

from __future__ import annotations

from django.db.models import Prefetch
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import renderers, serializers
from rest_framework.response import Response as DrfResponse
from rest_framework.views import APIView

from feedback.answering.models import Answer, Response
from feedback.topics.models import Tag
from metrics.reports.exports import RESPONSE_HEADER, export, response_rows
from metrics.reports.filter_params import ResponseFiltersQuery
from metrics.reports.selectors import responses_list
from metrics.rollups.filters import MetricFilters
from surveys.tenancy.roles import CASE_ROLES
from surveys.tenancy.timezones import project_zone
from vocsite.api_errors import ERRORS
from vocsite.api_lists import PAGE_PARAMETERS, list_page, page_serializer


class CsvRenderer(renderers.BaseRenderer):
    """Lets `format=csv` through content negotiation; the view streams the body itself."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):  # pragma: no cover
        raise NotImplementedError("Exports are streamed by the view; errors are JSON.")


class XlsxRenderer(CsvRenderer):
    media_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    format = "xlsx"
    charset = None


class AnswerTopicSerializer(serializers.Serializer):
    topic = serializers.CharField(source="topic.name")
    sentiment = serializers.CharField(
        help_text="How the clause the topic sits in reads: positive, neutral, negative or "
        'mixed ("" until scored).'
    )


class ResponseAnswerSerializer(serializers.Serializer):
    question_id = serializers.IntegerField()
    position = serializers.IntegerField(source="question.position")
    type = serializers.CharField(source="question_type")
    value_int = serializers.IntegerField(allow_null=True)
    value_text = serializers.CharField()
    value_choices = serializers.JSONField(allow_null=True)
    sentiment = serializers.CharField(
        help_text='A text answer\'s sentiment: positive, neutral, negative or mixed ("" for '
        "other answers, or until scored)."
    )
    topics = AnswerTopicSerializer(
        many=True, source="live_tags", help_text="A text answer's topics, in the order they occur."
    )


class ResponseOutputSerializer(serializers.ModelSerializer):
    survey = serializers.IntegerField(source="survey_id")
    version = serializers.IntegerField(source="version.number")
    touchpoint = serializers.CharField(source="touchpoint.key", allow_null=True, default=None)
    contact = serializers.CharField(source="contact.user_id", allow_null=True, default=None)
    answers = ResponseAnswerSerializer(many=True)

    class Meta:
        model = Response
        fields = [
            "id",
            "survey",
            "version",
            "touchpoint",
            "channel",
            "language",
            "contact",
            "finished",
            "finished_at",
            "created_at",
            "answers",
        ]


ResponsePageSerializer = page_serializer("ResponsePageSerializer", ResponseOutputSerializer)


class ResponseListApi(APIView):
    allowed_roles = CASE_ROLES
    renderer_classes = [renderers.JSONRenderer, CsvRenderer, XlsxRenderer]

    class FilterSerializer(ResponseFiltersQuery):
        """The results page's filters (one parser, metrics.reports.filter_params), and
        unfinished responses on request."""

        include_partial = serializers.BooleanField(
            required=False, default=False, help_text="Also unfinished responses."
        )

    def perform_content_negotiation(self, request, force=False):
        """An unknown `format` is a 400 that names the choices, not DRF's bare 404."""
        try:
            return super().perform_content_negotiation(request, force)
        except Http404 as error:  # what DRF's negotiation raises for an unknown format
            if force:
                raise
            raise serializers.ValidationError(
                {"format": [gettext("Use json, csv or xlsx.")]}
            ) from error

    def finalize_response(self, request, response, *args, **kwargs):
        """Errors come back in the JSON error body whatever format was asked for."""
        renderer = getattr(request, "accepted_renderer", None)
        if isinstance(response, DrfResponse) and renderer and renderer.format in ("csv", "xlsx"):
            request.accepted_renderer = renderers.JSONRenderer()
            request.accepted_media_type = request.accepted_renderer.media_type
        return super().finalize_response(request, response, *args, **kwargs)

    @extend_schema(
        operation_id="responses_list",
        summary="Responses with their answers; JSON pages, or a CSV/XLSX export",
        parameters=[
            FilterSerializer,
            OpenApiParameter(
                "format",
                OpenApiTypes.STR,
                enum=["json", "csv", "xlsx"],
                description="json (default, cursor pages) or a streamed csv/xlsx export.",
            ),
            *PAGE_PARAMETERS,
        ],
        responses={
            (200, "application/json"): ResponsePageSerializer,
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.BINARY, description="CSV export"),
            (200, XlsxRenderer.media_type): OpenApiResponse(
                OpenApiTypes.BINARY, description="XLSX export"
            ),
            **{(code, "application/json"): body for code, body in ERRORS.items()},
        },
    )
    def get(self, request):
        project = request.access.project
        query = self.FilterSerializer(data=request.query_params, context={"project": project})
        query.is_valid(raise_exception=True)
        values = query.validated_data
        filters = query.metric_filters()
        # Days are the project's, as on the dashboards and a survey's results page (the filter
        # fixes them when it is built, so a streamed export cuts them the same).
        with timezone.override(project_zone(project)):
            return self._respond(request, filters, values["include_partial"])

    def _respond(self, request, filters: MetricFilters, include_partial: bool):
        responses = responses_list(
            project=request.access.project, filters=filters, include_partial=include_partial
        )
        fmt = request.accepted_renderer.format
        if fmt in ("csv", "xlsx"):
            name = "vocsite-responses"
            if filters.since or filters.until:
                name += f"-{filters.since or 'start'}-{filters.until or 'now'}"
            return export(name, RESPONSE_HEADER, response_rows(responses), fmt)
        responses = responses.select_related("version", "touchpoint", "contact").prefetch_related(
            Prefetch(
                "answers",
                queryset=Answer.objects.select_related("question")
                .order_by("question__position")
                .prefetch_related(
                    Prefetch(
                        "tags",
                        queryset=Tag.objects.filter(suppressed=False)
                        .select_related("topic")
                        .order_by("span_start", "topic__name"),
                        to_attr="live_tags",
                    )
                ),
            )
        )
        return list_page(
            request, self, responses, ordering=("-created_at", "-id"), item=ResponseOutputSerializer
        )
