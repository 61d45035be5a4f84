"""Metrics API (DESIGN.md §6): scores with intervals, response rate, drop-off, decisions.

Every role of the project may read; secret keys too. Query parameters are validated here (a
bad one is a 400 error body, never a 5xx); the numbers come from `metrics.reports.selectors`, which
reads rollups only, scoped to the caller's project (`request.access.project`).

CSAT and CES questions may use different scales (1–3/5/7, 1–5/7), and a question may move
from one to another. Answers are counted on their own scale's threshold and the shares combine
as counts; means and histograms are given per scale (`by_scale`); `method` says which scales a
figure spans and how they were combined. Days, weeks and months are the project's local ones.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.utils import timezone
from django.utils.translation import gettext
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

from metrics.churn import services as lifecycle
from metrics.reports import selectors, wave_selectors
from metrics.reports.filter_params import (
    MetricFiltersQuery,
    dates_in_order,
    previous_period_problem,
)
from metrics.rollups.filters import MetricFilters
from surveys.design.models import Survey
from surveys.tenancy.roles import CASE_ROLES, READ_ROLES
from surveys.tenancy.timezones import local_day, project_zone
from vocsite.api_errors import ERROR_BODY
from vocsite.ids import IdField

ERRORS = {
    400: OpenApiResponse(ERROR_BODY, description="Invalid filter"),
    401: OpenApiResponse(ERROR_BODY, description="Not authenticated"),
    403: OpenApiResponse(ERROR_BODY, description="No access to this project"),
}
NOT_FOUND = {404: OpenApiResponse(ERROR_BODY, description="No such survey in this project")}


# ---- input ---------------------------------------------------------------------------------


class DateRange(serializers.Serializer):
    survey = IdField(required=False, help_text="Survey id.")
    since = serializers.DateField(
        required=False, help_text="First day (in the project's time zone), inclusive."
    )
    until = serializers.DateField(
        required=False, help_text="Last day (in the project's time zone), inclusive."
    )

    def validate(self, attrs):
        return dates_in_order(attrs)


class MetricsQuery(MetricFiltersQuery):
    """The filters (metrics.reports.filter_params, shared with the dashboards) and what to
    compute over them."""

    metric = serializers.ChoiceField(choices=selectors.METRICS)
    interval = serializers.ChoiceField(
        choices=selectors.INTERVALS,
        default="day",
        help_text="Days, weeks (Monday first) and months in the project's timezone.",
    )
    compare = serializers.ChoiceField(
        choices=["previous"],
        required=False,
        help_text="Compare with the period of the same length just before since…until.",
    )

    def validate(self, attrs):
        attrs = super().validate(attrs)
        if attrs.get("compare"):
            since, until = attrs.get("since"), attrs.get("until")
            if not (since and until):
                raise serializers.ValidationError(
                    {
                        "compare": [
                            gettext("Comparing with the previous period needs since and until.")
                        ]
                    }
                )
            if problem := previous_period_problem(since, until):
                raise serializers.ValidationError({"since": [problem]})
        return attrs


class WavesQuery(MetricFiltersQuery):
    """The metrics filters, with the survey required: waves are one recurring survey's."""

    def validate(self, attrs):
        attrs = super().validate(attrs)
        if attrs.get("survey") is None:
            raise serializers.ValidationError({"survey": [gettext("Name the recurring survey.")]})
        return attrs


class DropOffQuery(serializers.Serializer):
    survey = IdField(help_text="Survey id.")


def _params(serializer_class) -> list[OpenApiParameter]:
    """Query parameters for the schema, from the serializer that validates them."""
    params = []
    for name, field in serializer_class().fields.items():
        if isinstance(field, serializers.IntegerField):
            kind = OpenApiTypes.INT
        elif isinstance(field, serializers.DateField):
            kind = OpenApiTypes.DATE
        else:
            kind = OpenApiTypes.STR
        params.append(
            OpenApiParameter(
                name,
                kind,
                required=field.required,
                enum=list(field.choices) if isinstance(field, serializers.ChoiceField) else None,
                default=field.default if field.default is not serializers.empty else None,
                description=str(field.help_text or ""),
            )
        )
    return params


# ---- output (documentation only: selectors build plain dicts) --------------------------------


def _score_fields() -> dict:
    optional_int = {"required": False}
    return {
        "n": serializers.IntegerField(),
        "score": serializers.FloatField(allow_null=True),
        "ci_low": serializers.FloatField(allow_null=True),
        "ci_high": serializers.FloatField(allow_null=True),
        "low_sample": serializers.BooleanField(),
        "counts": serializers.DictField(
            child=serializers.IntegerField(), help_text="Score value → number of answers."
        ),
        "promoters": serializers.IntegerField(**optional_int, help_text="NPS only."),
        "passives": serializers.IntegerField(**optional_int, help_text="NPS only."),
        "detractors": serializers.IntegerField(**optional_int, help_text="NPS only."),
        **{
            f"{category}_share{suffix}": serializers.FloatField(
                allow_null=True,
                required=False,
                help_text=f"NPS only: {category} as a percent of n{words}.",
            )
            for category in ("promoters", "passives", "detractors")
            for suffix, words in (
                ("", ""),
                ("_ci_low", ", 95 % Wilson interval low"),
                ("_ci_high", ", 95 % Wilson interval high"),
            )
        },
        "satisfied": serializers.IntegerField(**optional_int, help_text="CSAT only."),
        "agree": serializers.IntegerField(**optional_int, help_text="CES only."),
        "mean": serializers.FloatField(
            allow_null=True,
            required=False,
            help_text="CSAT/CES, on one scale only: null when the answers span several scales.",
        ),
        "mean_ci_low": serializers.FloatField(
            allow_null=True, required=False, help_text="CSAT/CES: the mean's 95 % t interval."
        ),
        "mean_ci_high": serializers.FloatField(allow_null=True, required=False),
        "scale_max": serializers.IntegerField(
            allow_null=True,
            required=False,
            help_text="CSAT/CES: the scale's top; null when the answers span several scales.",
        ),
        "wording": serializers.CharField(
            allow_null=True,
            required=False,
            help_text="CSAT/CES: `effort` for a 1–5 CES asking how much effort it took (1–2 "
            "count as easy); null when the answers span several scales.",
        ),
        "by_scale": serializers.ListField(
            child=serializers.DictField(),
            required=False,
            help_text="CSAT/CES: one entry per scale the answers were given on — scale_max, "
            "wording, n, score, ci_low, ci_high, satisfied/agree, mean, mean_ci_low, "
            "mean_ci_high, low_sample, counts. The share above adds their counts.",
        ),
    }


SCORE = inline_serializer("MetricScore", _score_fields())
PREVIOUS = inline_serializer(
    "MetricPreviousPeriod",
    {"since": serializers.DateField(), "until": serializers.DateField(), **_score_fields()},
)
METRIC_REPORT = inline_serializer(
    "MetricReport",
    {
        "metric": serializers.CharField(),
        "method": serializers.CharField(),
        "interval": serializers.CharField(),
        "total": SCORE,
        "series": inline_serializer(
            "MetricPeriod",
            {
                "period_start": serializers.DateField(),
                "partial": serializers.BooleanField(
                    help_text="The period is cut by since/until, or is not over yet."
                ),
                **_score_fields(),
            },
            many=True,
        ),
        "low_sample": serializers.BooleanField(),
        "comparison": inline_serializer(
            "MetricComparison",
            {
                "previous": PREVIOUS,
                "diff": serializers.FloatField(allow_null=True),
                "z": serializers.FloatField(allow_null=True),
                "p_value": serializers.FloatField(
                    allow_null=True, help_text="Two-sided, normal approximation."
                ),
                "significant": serializers.BooleanField(
                    help_text="p < 0.05 with at least 30 answers on each side."
                ),
                "low_sample": serializers.BooleanField(),
                "method": serializers.CharField(
                    help_text="The test: NPS with adjusted-Wald standard errors, shares with "
                    "the pooled two-proportion z-test."
                ),
            },
            required=False,
        ),
    },
)
RESPONSE_RATE = inline_serializer(
    "ResponseRate",
    {
        "shown": serializers.IntegerField(),
        "finished": serializers.IntegerField(),
        "dismissed": serializers.IntegerField(),
        "response_rate": serializers.FloatField(allow_null=True, help_text="Percent."),
        "response_rate_ci_low": serializers.FloatField(
            allow_null=True, help_text="95 % Wilson interval."
        ),
        "response_rate_ci_high": serializers.FloatField(allow_null=True),
        "response_rate_n": serializers.IntegerField(help_text="Displays shown."),
    },
)
DROP_OFF = inline_serializer(
    "DropOff",
    {
        "survey": serializers.IntegerField(),
        "started": serializers.IntegerField(),
        "finished": serializers.IntegerField(),
        "questions": inline_serializer(
            "DropOffQuestion",
            {
                "position": serializers.IntegerField(),
                "type": serializers.CharField(),
                "text": serializers.CharField(help_text="In the project's default language."),
                "answered": serializers.IntegerField(),
                "share_of_started": serializers.FloatField(allow_null=True),
                "share_of_started_ci_low": serializers.FloatField(
                    allow_null=True, help_text="95 % Wilson interval."
                ),
                "share_of_started_ci_high": serializers.FloatField(allow_null=True),
                "share_of_started_n": serializers.IntegerField(help_text="Started responses."),
            },
            many=True,
        ),
    },
)
_CATEGORY_COUNTS = inline_serializer(
    "WaveCategoryCounts",
    {
        "detractor": serializers.IntegerField(),
        "passive": serializers.IntegerField(),
        "promoter": serializers.IntegerField(),
    },
)
WAVES = inline_serializer(
    "SurveyWaves",
    {
        "survey": serializers.IntegerField(),
        "metric": serializers.CharField(
            allow_null=True, help_text="nps, csat or ces: the question followed."
        ),
        "question": serializers.CharField(
            allow_null=True, help_text="The question's uid (stable across versions)."
        ),
        "method": serializers.CharField(allow_null=True),
        "recurrence_days": serializers.IntegerField(
            allow_null=True,
            help_text="The length of a wave, in days; null: the survey is asked once.",
        ),
        "first_day": serializers.DateField(
            allow_null=True,
            help_text="Wave 1's first day: the survey's first publish, in the project's timezone.",
        ),
        "waves": inline_serializer(
            "Wave",
            {
                "wave": serializers.IntegerField(),
                "start": serializers.DateField(),
                "end": serializers.DateField(help_text="The wave's last day, inclusive."),
                "partial": serializers.BooleanField(
                    help_text="The wave is cut by since/until, or is not over yet."
                ),
                **_score_fields(),
                "change": inline_serializer(
                    "WaveChange",
                    {
                        "diff": serializers.FloatField(allow_null=True),
                        "z": serializers.FloatField(allow_null=True),
                        "p_value": serializers.FloatField(allow_null=True),
                        "significant": serializers.BooleanField(),
                        "low_sample": serializers.BooleanField(),
                        "method": serializers.CharField(),
                    },
                    allow_null=True,
                    help_text="Against the wave before; null for the first.",
                ),
            },
            many=True,
        ),
        "movements": inline_serializer(
            "WaveMovement",
            {
                "from_wave": serializers.IntegerField(),
                "to_wave": serializers.IntegerField(),
                "contacts": serializers.IntegerField(help_text="People who answered in both."),
                "improved": serializers.IntegerField(),
                "unchanged": serializers.IntegerField(),
                "declined": serializers.IntegerField(),
                "matrix": serializers.DictField(
                    child=_CATEGORY_COUNTS,
                    help_text="Group in from_wave → group in to_wave → people.",
                ),
                "detractors_to_promoters": inline_serializer(
                    "WaveMover",
                    {
                        "contact": serializers.IntegerField(),
                        "user_id": serializers.CharField(allow_null=True),
                        "email": serializers.CharField(),
                    },
                    many=True,
                ),
            },
            many=True,
            help_text="NPS only: per-contact change between consecutive waves.",
        ),
    },
)
DECISIONS = inline_serializer(
    "DecisionsByReason",
    {
        "surveys": inline_serializer(
            "SurveyDecisions",
            {
                "survey": serializers.IntegerField(allow_null=True),
                "total": serializers.IntegerField(),
                "reasons": serializers.DictField(child=serializers.IntegerField()),
            },
            many=True,
        )
    },
)


# ---- views ---------------------------------------------------------------------------------


class ReadApi(APIView):
    allowed_roles = READ_ROLES  # every role of the project, and secret keys

    def query(self, serializer_class) -> dict:
        return self.query_serializer(serializer_class).validated_data

    def query_serializer(self, serializer_class) -> serializers.Serializer:
        query = serializer_class(
            data=self.request.query_params, context={"project": self.request.access.project}
        )
        query.is_valid(raise_exception=True)
        return query


class MetricsApi(ReadApi):
    @extend_schema(
        operation_id="metrics_report",
        summary="NPS, CSAT or CES with interval, series and period comparison",
        description=(
            "Computed from the rollup histograms (DESIGN.md §7): NPS with an adjusted-Wald 95 % "
            "interval, CSAT/CES as top-box share with a Wilson interval and the mean. "
            "`low_sample` when n < 30. With `compare=previous` (needs since and until) the "
            "same-length period before is compared: z, the two-sided `p_value` and the test's "
            "`method` (NPS with adjusted-Wald standard errors); `significant` at p < 0.05 with "
            "at least 30 answers on each side. "
            "CSAT/CES answers on different scales (a question moved from 1–5 to 1–7) are "
            "counted each on its own scale's threshold and added as counts; means are per "
            "scale (`by_scale`); `method` says which. Periods are the project's local days, "
            "weeks and months; a point is `partial` when since/until cuts it or it is not over."
        ),
        parameters=_params(MetricsQuery),
        responses={200: METRIC_REPORT, **ERRORS},
    )
    def get(self, request):
        query = self.query_serializer(MetricsQuery)
        q = query.validated_data
        report = selectors.metric_report(
            request.access.project,
            q["metric"],
            query.metric_filters(),
            interval=q["interval"],
            compare=bool(q.get("compare")),
        )
        return Response(report)


class ResponseRateApi(ReadApi):
    @extend_schema(
        operation_id="metrics_response_rate",
        summary="Finished responses / displays shown (shown, responded or dismissed)",
        parameters=_params(DateRange),
        responses={200: RESPONSE_RATE, **ERRORS},
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


class DropOffApi(ReadApi):
    @extend_schema(
        operation_id="metrics_drop_off",
        summary="How many started responses answered each question",
        parameters=_params(DropOffQuery),
        responses={200: DROP_OFF, **ERRORS, **NOT_FOUND},
    )
    def get(self, request):
        q = self.query(DropOffQuery)
        return Response(selectors.drop_off(request.access.project, survey_id=q["survey"]))


class WavesApi(ReadApi):
    allowed_roles = CASE_ROLES  # it names the people who moved, as the results page does

    @extend_schema(
        operation_id="metrics_waves",
        summary="A recurring survey's waves: score per wave and who moved between waves",
        description=(
            "A wave is `recurrence_days` days, counted from the survey's first publish; an "
            "answer belongs to the wave its person was asked in. Each wave carries its score "
            "with the 95 % interval, n and the test against the wave before (as two periods, "
            "DESIGN.md §7). For NPS, `movements` says how the people who answered in two "
            "consecutive waves moved between detractors, passives and promoters, and names "
            "those who went from detractor to promoter. The filters select the finished "
            "responses counted, as for the responses API. A survey that does not recur is a "
            "400 `not_recurring`."
        ),
        parameters=_params(WavesQuery),
        responses={200: WAVES, **ERRORS},
    )
    def get(self, request):
        query = self.query_serializer(WavesQuery)
        project = request.access.project
        filters = query.metric_filters()
        survey = Survey.objects.get(project=project, pk=filters.survey_id)
        report = wave_selectors.survey_waves(
            project=project,
            survey=survey,
            responses=selectors.responses_list(project=project, filters=filters),
            today=local_day(timezone.now(), project_zone(project)),
            since=filters.since,
            until=filters.until,
        )
        return Response(report or wave_selectors.no_waves(survey))


class DecisionsApi(ReadApi):
    @extend_schema(
        operation_id="metrics_decisions",
        summary="Throttle decisions by reason per survey (which rule held surveys back)",
        parameters=_params(DateRange),
        responses={200: DECISIONS, **ERRORS},
    )
    def get(self, request):
        q = self.query(DateRange)
        return Response(
            selectors.decisions_by_reason(
                request.access.project,
                MetricFilters(
                    survey_id=q.get("survey"), since=q.get("since"), until=q.get("until")
                ),
            )
        )


class ChurnQuery(serializers.Serializer):
    since = serializers.DateField(
        required=False, help_text="First day (in the project's time zone); default a year ago."
    )
    until = serializers.DateField(
        required=False, help_text="Last day (in the project's time zone); default today."
    )
    interval = serializers.ChoiceField(choices=["week", "month"], default="month")
    margin = serializers.FloatField(
        min_value=0.0, max_value=1.0, default=1.0, help_text="Gross margin for CLV (0–1)."
    )

    def validate(self, attrs):
        today = local_day(timezone.now(), project_zone(self.context["project"]))
        until = attrs.get("until") or today
        # A year back, but not before the first date there is (until=0001-07-24 was a 500).
        since = attrs.get("since") or until - timedelta(days=min(364, (until - date.min).days))
        dates_in_order({"since": since, "until": until})
        if (until - since).days > 3 * 366:
            raise serializers.ValidationError(
                {"since": [gettext("At most three years at a time.")]}
            )
        return {**attrs, "since": since, "until": until}


class _ChurnPoint(serializers.Serializer):
    period_start = serializers.DateField()
    partial = serializers.BooleanField(
        help_text="The period is cut by since/until or is not over yet."
    )
    active_at_start = serializers.IntegerField(help_text="Customers active at the period's start.")
    churned = serializers.IntegerField(
        help_text="Of those, how many churned in the period (each once per period)."
    )
    churn_events = serializers.IntegerField(
        help_text="Every churn in the period, including customers who joined or came back in it."
    )
    churn_rate = serializers.FloatField(
        allow_null=True, help_text="% churned of active at start (null: nobody active at start)."
    )
    churn_rate_ci_low = serializers.FloatField(allow_null=True, help_text="Wilson 95 %, low end.")
    churn_rate_ci_high = serializers.FloatField(allow_null=True, help_text="Wilson 95 %, high end.")
    churn_rate_n = serializers.IntegerField(help_text="= active_at_start.")
    active_in_period = serializers.IntegerField(
        help_text="Customers active at any moment of the period: revenue per customer's divisor."
    )
    revenue = serializers.DecimalField(
        max_digits=16, decimal_places=2, help_text="Revenue in the period of those customers."
    )
    revenue_per_contact = serializers.FloatField(
        allow_null=True, help_text="revenue / active_in_period."
    )


class _Outcome(serializers.Serializer):
    contacts = serializers.IntegerField(help_text="Customers in the group.")
    churned = serializers.IntegerField(help_text="Of those, churned now.")
    churn_share = serializers.FloatField(allow_null=True, help_text="% churned of the group.")
    churn_share_ci_low = serializers.FloatField(allow_null=True, help_text="Wilson 95 %, low end.")
    churn_share_ci_high = serializers.FloatField(
        allow_null=True, help_text="Wilson 95 %, high end."
    )
    churn_share_n = serializers.IntegerField(help_text="= contacts.")
    average_revenue = serializers.DecimalField(max_digits=16, decimal_places=2)


class _NpsOutcome(_Outcome):
    category = serializers.ChoiceField(choices=["promoter", "passive", "detractor"])


class _RecoveryOutcome(_Outcome):
    recovery = serializers.ChoiceField(choices=["recovered", "not recovered"])


class ChurnReportSerializer(serializers.Serializer):
    interval = serializers.CharField()
    margin = serializers.FloatField()
    method = serializers.CharField(
        help_text="Who counts as a customer and how each figure is made."
    )
    series = _ChurnPoint(many=True)
    clv = serializers.FloatField(
        allow_null=True,
        help_text="Average revenue per customer per period × margin / average churn rate per "
        "period, over every period with customers at its start. Null: see clv_reason.",
    )
    clv_reason = serializers.CharField(
        allow_null=True, help_text="Why there is no CLV (no churn, or no customers), else null."
    )
    clv_periods = serializers.IntegerField(help_text="Periods the two averages are taken over.")
    average_churn_rate = serializers.FloatField(allow_null=True, help_text="%, per period.")
    average_revenue_per_contact = serializers.FloatField(allow_null=True)
    by_last_nps = _NpsOutcome(many=True)
    by_recovery = _RecoveryOutcome(many=True)


class ChurnApi(ReadApi):
    @extend_schema(
        operation_id="metrics_churn",
        summary="Churn rate, revenue and CLV per period; churn and revenue by last NPS category "
        "and by whether a detractor's case was recovered",
        parameters=_params(ChurnQuery),
        responses={200: ChurnReportSerializer, **ERRORS},
    )
    def get(self, request):

        q = self.query(ChurnQuery)
        project = request.access.project
        report = lifecycle.churn_series(
            project, since=q["since"], until=q["until"], interval=q["interval"], margin=q["margin"]
        )
        report["by_last_nps"] = lifecycle.outcomes_by_nps(project)
        report["by_recovery"] = lifecycle.outcomes_by_recovery(project)
        return Response(report)
