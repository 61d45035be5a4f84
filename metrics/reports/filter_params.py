"""The metrics filters as a query string carries them: the one parser the metrics API and the
dashboards share, so a value is read the same way and refused with the same words on both.

The API answers a refused value with a 400 naming the field; a dashboard leaves the value out,
shows the words beside its filters and draws the rest (`metric_filters_read`). What the
filters then mean on rollup cells and on rows is `metrics.rollups.filters`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date

from django.utils.text import format_lazy
from django.utils.translation import gettext, gettext_lazy
from rest_framework import serializers

from metrics.rollups.filters import MetricFilters, ScoreRange
from surveys.design.models import SCORED_TYPES, Survey, SurveyVersion
from surveys.tenancy.models import Project
from vocsite.ids import IdField

UNKNOWN_SURVEY = gettext_lazy("Unknown survey.")
UNKNOWN_VERSION = gettext_lazy("Unknown version of this survey.")
SCORE_FORMAT = format_lazy(
    gettext_lazy("Score ranges are type:low-high with a scored type ({types}), e.g. nps:0-6."),
    types=", ".join(SCORED_TYPES),
)


def dates_in_order(attrs: dict) -> dict:
    """A serializer's `since`…`until` (either may be absent): the last day is not before the
    first. Every metrics query checks its dates here."""
    since, until = attrs.get("since"), attrs.get("until")
    if since and until and until < since:
        raise serializers.ValidationError(
            {"until": [gettext("The last day must not be before the first day.")]}
        )
    return attrs


def previous_period_problem(since: date, until: date) -> str | None:
    """Why since…until cannot be compared with the same-length period that ends the day before
    `since` (the API's `compare=previous`, every dashboard), or None."""
    if (since - date.min).days < (until - since).days + 1:
        return gettext("Too early to have a previous period.")
    return None


class MetricFiltersQuery(serializers.Serializer):
    """survey, touchpoint, stage, channel, segment, since and until; the project whose surveys
    and breakdown attributes they may name is `context["project"]`."""

    survey = IdField(
        required=False,
        help_text="Survey id.",
        # An id that is no id names no survey of the project either.
        error_messages={
            key: UNKNOWN_SURVEY
            for key in ("invalid", "min_value", "max_value", "max_string_length")
        },
    )
    touchpoint = serializers.SlugField(max_length=100, required=False, help_text="Touchpoint key.")
    stage = serializers.SlugField(max_length=64, required=False, help_text="Journey stage key.")
    channel = serializers.CharField(
        max_length=16, required=False, help_text="web, app, email, phone, chat, store."
    )
    segment = serializers.CharField(
        max_length=64 + 1 + 200,  # a breakdown attribute, the colon, a value
        required=False,
        help_text="`attribute:value` of one of the project's breakdown attributes, e.g. plan:pro.",
    )
    since = serializers.DateField(
        required=False, help_text="First day, inclusive, in the project's timezone."
    )
    until = serializers.DateField(
        required=False, help_text="Last day, inclusive, in the project's timezone."
    )

    @property
    def project(self) -> Project:
        return self.context["project"]

    def validate_survey(self, value: int) -> int:
        # Another project's survey is as unknown as one that never existed.
        if not Survey.objects.filter(project=self.project, pk=value).exists():
            raise serializers.ValidationError(str(UNKNOWN_SURVEY))
        return value

    def validate_segment(self, value: str) -> tuple[str, str]:
        attribute, sep, wanted = value.partition(":")
        attributes = self.project.breakdown_attributes or []
        if not (sep and attribute in attributes and 0 < len(wanted) <= 200):
            raise serializers.ValidationError(
                gettext(
                    "Segments are attribute:value with a breakdown attribute ({attributes})."
                ).format(attributes=", ".join(attributes) or gettext("none set"))
            )
        return attribute, wanted

    def validate(self, attrs: dict) -> dict:
        return dates_in_order(attrs)

    def metric_filters(self) -> MetricFilters:
        values = self.validated_data
        return MetricFilters(
            survey_id=values.get("survey"),
            touchpoint=values.get("touchpoint"),
            stage=values.get("stage"),
            channel=values.get("channel"),
            segment=values.get("segment"),
            since=values.get("since"),
            until=values.get("until"),
        )


class ResponseFiltersQuery(MetricFiltersQuery):
    """The metrics filters plus what only readers of responses can apply (a survey's results
    page, the responses API): the survey's version and a score range. The rollups know
    neither."""

    version = serializers.IntegerField(
        min_value=1,
        required=False,
        help_text="The survey's version number (with survey).",
        error_messages={
            key: UNKNOWN_VERSION for key in ("invalid", "min_value", "max_string_length")
        },
    )
    score = serializers.RegexField(
        rf"^({'|'.join(SCORED_TYPES)}):(10|[0-9])-(10|[0-9])$",
        max_length=20,
        required=False,
        help_text="Responses whose answer of a scored type lies in low-high, e.g. nps:0-6.",
        error_messages={"invalid": SCORE_FORMAT, "max_length": SCORE_FORMAT},
    )

    def validate_score(self, value: str) -> ScoreRange:
        question_type, bounds = value.split(":")
        low, high = (int(bound) for bound in bounds.split("-"))
        if low > high:
            raise serializers.ValidationError(str(SCORE_FORMAT))
        return ScoreRange(question_type, low, high)

    def validate(self, attrs: dict) -> dict:
        attrs = super().validate(attrs)
        version = attrs.get("version")
        if (
            version is not None
            and not SurveyVersion.objects.filter(
                survey_id=attrs.get("survey"), number=version
            ).exists()
        ):
            raise serializers.ValidationError({"version": [str(UNKNOWN_VERSION)]})
        return attrs

    def metric_filters(self) -> MetricFilters:
        values = self.validated_data
        return replace(
            super().metric_filters(), version=values.get("version"), score=values.get("score")
        )


@dataclass(frozen=True)
class FiltersRead:
    filters: MetricFilters
    errors: dict[str, list[str]]  # filter name → why its value was left out


def metric_filters_read(
    params: Mapping[str, str],
    project: Project,
    query_class: type[MetricFiltersQuery] = MetricFiltersQuery,
) -> FiltersRead:
    """The filters of a page's URL: each refused value left out and said under its name, the
    others kept — a page is drawn whatever the URL holds."""
    names = tuple(query_class().fields)
    kept = {name: params[name] for name in names if params.get(name)}
    errors: dict[str, list[str]] = {}
    # Values refused on their own go first; the checks across values (since ≤ until, a version
    # of the survey) run once those are gone and refuse `until` or `version` in turn, so at
    # most two rounds drop anything and the last one passes.
    for _round in range(3):
        query = query_class(data=kept, context={"project": project})
        if query.is_valid():
            break
        for name, messages in query.errors.items():
            errors[name] = [str(message) for message in messages]
            kept.pop(name, None)
    else:
        query.is_valid(raise_exception=True)
    return FiltersRead(query.metric_filters(), errors)
