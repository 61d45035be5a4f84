"""Metrics API (DESIGN.md §6): scores with intervals, response rate, drop-off, decisions.

Every role of the project may read; secret keys too. Filters are validated here; the numbers
come from `metrics.selectors`, which reads rollups only.
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from metrics import selectors
from surveys.api import ERROR_BODY
from vocsite.api_auth import READ_ROLES

ERRORS = {
    400: OpenApiResponse(ERROR_BODY, description="Invalid filter"),
    401: OpenApiResponse(ERROR_BODY, description="Not authenticated"),
    403: OpenApiResponse(ERROR_BODY, description="No access to this project"),
    404: OpenApiResponse(ERROR_BODY, description="Unknown survey"),
}


class DateRange(serializers.Serializer):
    survey = serializers.IntegerField(min_value=1, required=False)
    since = serializers.DateField(required=False)
    until = serializers.DateField(required=False)

    def validate(self, attrs):
        if attrs.get("since") and attrs.get("until") and attrs["until"] < attrs["since"]:
            raise serializers.ValidationError({"until": ["Must not be before since."]})
        return attrs


class MetricsQuery(DateRange):
    metric = serializers.ChoiceField(choices=selectors.METRICS)
    touchpoint = serializers.SlugField(max_length=100, required=False)
    stage = serializers.SlugField(max_length=64, required=False)
    channel = serializers.CharField(max_length=16, required=False)
    segment = serializers.RegexField(r"^[^:]{1,64}:.{1,200}$", required=False)
    interval = serializers.ChoiceField(choices=["day", "week", "month"], default="day")
    compare = serializers.ChoiceField(choices=["previous"], required=False)


class ReadApi(APIView):
    allowed_roles = READ_ROLES

    def query(self, serializer_class):
        data = serializer_class(data=self.request.query_params)
        data.is_valid(raise_exception=True)
        return data.validated_data


def _params(serializer_class) -> list[OpenApiParameter]:
    return [
        OpenApiParameter(
            name,
            str if not isinstance(field, serializers.IntegerField) else int,
            required=field.required,
        )
        for name, field in serializer_class().fields.items()
    ]


class MetricsApi(ReadApi):
    @extend_schema(
        operation_id="metrics_report",
        parameters=_params(MetricsQuery),
        responses={
            200: inline_serializer(
                "MetricReport",
                {
                    "metric": serializers.CharField(),
                    "method": serializers.CharField(),
                    "interval": serializers.CharField(),
                    "total": serializers.DictField(),
                    "series": serializers.ListField(child=serializers.DictField()),
                    "low_sample": serializers.BooleanField(),
                    "comparison": serializers.DictField(required=False),
                },
            ),
            **ERRORS,
        },
    )
    def get(self, request):
        q = self.query(MetricsQuery)
        segment = tuple(q["segment"].split(":", 1)) if q.get("segment") else None
        filters = selectors.MetricFilters(
            survey_id=q.get("survey"),
            touchpoint=q.get("touchpoint"),
            stage=q.get("stage"),
            channel=q.get("channel"),
            segment=segment,
            since=q.get("since"),
            until=q.get("until"),
        )
        report = selectors.metric_report(
            request.access.project,
            q["metric"],
            filters,
            interval=q["interval"],
            compare=bool(q.get("compare")),
        )
        return Response(report)


class ResponseRateApi(ReadApi):
    @extend_schema(
        operation_id="metrics_response_rate",
        parameters=_params(DateRange),
        responses={200: OpenApiTypes.OBJECT, **ERRORS},
    )
    def get(self, request):
        q = self.query(DateRange)
        return Response(
            selectors.response_rate(
                request.access.project,
                survey_id=q.get("survey"),
                since=q.get("since"),
                until=q.get("until"),
            )
        )


class DropOffQuery(serializers.Serializer):
    survey = serializers.IntegerField(min_value=1)


class DropOffApi(ReadApi):
    @extend_schema(
        operation_id="metrics_drop_off",
        parameters=_params(DropOffQuery),
        responses={200: OpenApiTypes.OBJECT, **ERRORS},
    )
    def get(self, request):
        q = self.query(DropOffQuery)
        return Response(selectors.drop_off(request.access.project, survey_id=q["survey"]))


class DecisionsApi(ReadApi):
    @extend_schema(
        operation_id="metrics_decisions",
        parameters=_params(DateRange),
        responses={200: OpenApiTypes.OBJECT, **ERRORS},
    )
    def get(self, request):
        q = self.query(DateRange)
        return Response(
            selectors.decisions_by_reason(
                request.access.project,
                survey_id=q.get("survey"),
                since=q.get("since"),
                until=q.get("until"),
            )
        )
