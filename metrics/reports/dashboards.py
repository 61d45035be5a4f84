"""What the dashboards show, computed from rollups (never raw answers) so a page costs the same
at a thousand responses as at a million. Filters come from the URL, so a view can be shared."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

from django.db.models import Count, F, OuterRef, Q, Subquery
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy
from django.utils.translation import gettext_lazy as _

from feedback.answering.models import Answer
from feedback.cases.models import OPEN_CASE_STATUSES, Case, CaseStatus
from feedback.topics.models import Tag
from metrics import scores
from metrics.churn import services as lifecycle
from metrics.reports import selectors
from metrics.reports.filter_params import (
    MetricFiltersQuery,
    ResponseFiltersQuery,
    metric_filters_read,
    previous_period_problem,
)
from metrics.reports.selectors import METRICS
from metrics.rollups.filters import MetricFilters, rows_scope
from metrics.rollups.models import Rollup
from surveys.design.models import Survey
from surveys.journey.models import JourneyStage, Touchpoint
from surveys.tenancy.models import Channel, Project, Team
from vocsite.errors import ApplicationError
from vocsite.ids import id_parse

DEFAULT_DAYS = 90


@dataclass(frozen=True)
class DashboardQuery:
    filters: MetricFilters
    problems: tuple[str, ...]
    team_id: int | None = None  # narrows the case figures (backlog, ageing, causes, SLA)

    @property
    def days(self) -> int:
        return (self.filters.until - self.filters.since).days + 1

    def querystring(self, **overrides: Any) -> str:
        f = self.filters
        values = {
            "since": f.since.isoformat(),
            "until": f.until.isoformat(),
            "survey": f.survey_id or "",
            "touchpoint": f.touchpoint or "",
            "stage": f.stage or "",
            "channel": f.channel or "",
            "segment": f"{f.segment[0]}:{f.segment[1]}" if f.segment else "",
            "version": f.version or "",
            "score": str(f.score) if f.score else "",
            "team": self.team_id or "",
            **overrides,
        }
        return urlencode({k: v for k, v in values.items() if v not in ("", None)})


# The page's words for its filters, beside which a refused value is said.
FILTER_LABELS = {
    "since": gettext_lazy("From"),
    "until": gettext_lazy("To"),
    "survey": gettext_lazy("Survey"),
    "stage": gettext_lazy("Stage"),
    "touchpoint": gettext_lazy("Touchpoint"),
    "channel": gettext_lazy("Channel"),
    "segment": gettext_lazy("Segment"),
    "team": gettext_lazy("Team (cases)"),
    "version": gettext_lazy("Version"),
    "score": gettext_lazy("Score"),
}


def dashboard_query(params, project: Project, *, response_filters: bool = False) -> DashboardQuery:
    """Read the filters from the URL with the metrics API's parser
    (metrics.reports.filter_params): a refused value is left out and said, never a 500. The
    dates default to the last 90 days up to today (the project's day while its dashboards
    render, views). With `response_filters` also the survey version and a score range, which
    only pages reading responses (a survey's results) can apply: the rollups know neither."""
    read = metric_filters_read(
        params, project, ResponseFiltersQuery if response_filters else MetricFiltersQuery
    )
    errors = dict(read.errors)
    team = params.get("team", "")
    team_id = id_parse(team)
    if team_id is not None and not Team.objects.filter(project=project, pk=team_id).exists():
        team_id = None
    if team and team_id is None:
        errors["team"] = [gettext("Unknown team.")]
    filters = read.filters
    until = filters.until or max(timezone.localdate(), filters.since or date.min)
    since = filters.since or until - timedelta(days=min(DEFAULT_DAYS - 1, (until - date.min).days))
    if problem := previous_period_problem(since, until):
        # Every figure is compared with the period before; without one, the default dates.
        errors["since"] = [*errors.get("since", ()), problem]
        until = timezone.localdate()
        since = until - timedelta(days=DEFAULT_DAYS - 1)
    return DashboardQuery(
        team_id=team_id,
        filters=replace(filters, since=since, until=until),
        problems=tuple(
            f"{FILTER_LABELS[name]}: {message}"
            for name in FILTER_LABELS
            for message in errors.get(name, ())
        ),
    )


def response_scope(query: DashboardQuery, prefix: str = "", day: str | None = None) -> Q:
    """The URL's survey, touchpoint, stage, channel and segment (and, with `day`, its dates) as
    a filter on responses, or through `prefix` on rows reaching them (metrics.rollups.filters),
    for the panels that list rows rather than read rollups."""
    return rows_scope(query.filters, prefix=prefix, day=day)


def delivery_scope(query: DashboardQuery) -> Q:
    """The page's touchpoint, stage and channel on displays or decide decisions (the survey and
    the dates are their selectors' own arguments; they carry no segment)."""
    return rows_scope(query.filters, survey=False, segment=False)


# What each panel can honour of the page's filters (one home for it): a panel that leaves an
# active filter out says so on the page (`panel_notes`), never silently.
# A channel split's rows say the channel in words (the filter's own names).
CHANNEL_NAMES = dict(Channel.choices)
ANSWER_FILTERS = frozenset({"dates", "survey", "touchpoint", "stage", "channel", "segment"})
CASE_FILTERS = ANSWER_FILTERS | {"team"}
PANEL_FILTERS: dict[str, frozenset[str]] = {
    "kpis": ANSWER_FILTERS,
    "journey": ANSWER_FILTERS,
    "breakdowns": ANSWER_FILTERS,
    "drivers": ANSWER_FILTERS,
    "topic_trends": ANSWER_FILTERS,
    "drop_off": ANSWER_FILTERS,
    # Displays and decide's decisions carry no segment (it is frozen on answers only).
    "response_rate": ANSWER_FILTERS - {"segment"},
    "decisions": ANSWER_FILTERS - {"segment"},
    "recovery": CASE_FILTERS,
    "root_causes": CASE_FILTERS,
    # Open cases now: the page's dates do not apply, and the panel says so in its own words.
    "backlog": CASE_FILTERS,
    "sla": frozenset({"dates", "team"}),
    # Customers and their months up to the end date: not answers, so no answer filter applies.
    "churn": frozenset({"dates"}),
}
FILTER_WORDS = {
    "dates": _("the dates"),
    "survey": _("the survey"),
    "touchpoint": _("the touchpoint"),
    "stage": _("the stage"),
    "channel": _("the channel"),
    "segment": _("the segment"),
    "team": _("the team"),
}


def active_filters(query: DashboardQuery) -> set[str]:
    f = query.filters
    active = {"dates"}  # a dashboard always shows a date range
    for name, value in (
        ("survey", f.survey_id),
        ("touchpoint", f.touchpoint),
        ("stage", f.stage),
        ("channel", f.channel),
        ("segment", f.segment),
        ("team", query.team_id),
    ):
        if value:
            active.add(name)
    return active


def panel_notes(query: DashboardQuery) -> dict[str, str]:
    """{panel: "Not filtered by the segment and the team."} for every panel that leaves out
    a filter active on the page; "" for a panel that applies them all."""
    active = active_filters(query)
    notes = {}
    for panel, honoured in PANEL_FILTERS.items():
        left_out = [FILTER_WORDS[name] for name in FILTER_WORDS if name in active - honoured]
        if not left_out:
            notes[panel] = ""
        elif len(left_out) == 1:
            notes[panel] = gettext("Not filtered by %(filter)s.") % {"filter": left_out[0]}
        else:
            notes[panel] = gettext("Not filtered by %(filters)s and %(last)s.") % {
                "filters": gettext(", ").join(str(word) for word in left_out[:-1]),
                "last": left_out[-1],
            }
    return notes


def case_scope(query: DashboardQuery) -> Q:
    """The page's team and answer filters as a filter on cases: a case counts when the answer
    it was opened from matches (a case from a Feedback-tab message has no answer, so any
    answer filter leaves it out)."""
    scope = Q(team_id=query.team_id) if query.team_id else Q()
    answer_scope = response_scope(query, prefix="response__")
    if answer_scope:
        scope &= answer_scope
    return scope


def recovery(project: Project, query: DashboardQuery) -> dict[str, Any]:
    """Of the cases opened from answers and resolved or closed within the dates (and the page's
    filters), the share whose customer later answered happily, with its Wilson interval."""

    cases = Case.objects.filter(
        case_scope(query),
        project=project,
        response__isnull=False,
        status__in=(CaseStatus.RESOLVED, CaseStatus.CLOSED),
        resolved_at__date__gte=query.filters.since,
        resolved_at__date__lte=query.filters.until,
    )
    counts = cases.aggregate(closed=Count("pk"), recovered=Count("pk", filter=Q(recovered=True)))
    return {
        "closed": counts["closed"],
        "recovered": counts["recovered"],
        **scores.proportion(counts["recovered"], counts["closed"]).to_dict("rate"),
    }


def filter_choices(project: Project) -> dict[str, Any]:
    return {
        "surveys": Survey.objects.filter(project=project)
        .order_by("name")
        .values_list("pk", "name"),
        "touchpoints": Touchpoint.objects.filter(project=project)
        .order_by("position", "name")
        .values_list("key", "name"),
        "teams": Team.objects.filter(project=project).order_by("name").values_list("pk", "name"),
        "stages": JourneyStage.objects.filter(project=project)
        .order_by("position")
        .values_list("key", "name"),
        "segments": [
            (f"{attribute}:{value}", f"{attribute} = {value}")
            for attribute, value in Rollup.objects.filter(
                project=project, breakdown_attribute__in=project.breakdown_attributes or []
            )
            .values_list("breakdown_attribute", "breakdown_value")
            .distinct()
            .order_by("breakdown_attribute", "breakdown_value")
        ],
    }


# The comparisons' methods in the staff's language (the API gives them in English).
METHOD_WORDS = {
    scores.NPS_DIFFERENCE_METHOD: _(
        "z-test of the NPS difference with adjusted-Wald standard errors (√(var′/n′) per side); "
        "two-sided p-value"
    ),
    scores.SHARE_DIFFERENCE_METHOD: _(
        "two-proportion z-test with the pooled proportion; two-sided p-value"
    ),
}


def metric_reports(project: Project, query: DashboardQuery, interval: str) -> dict[str, Any]:
    """NPS, CSAT and CES over the period with the previous period compared (z, significant);
    a metric whose filters cannot be applied comes back as {"problem": ...} instead (answers
    on several scales are scored scale by scale, metrics.reports.selectors)."""
    out = {}
    for metric in METRICS:
        try:
            out[metric] = selectors.metric_report(
                project, metric, query.filters, interval=interval, compare=True
            )
            comparison = out[metric].get("comparison")
            if comparison and comparison.get("method") in METHOD_WORDS:
                comparison["method"] = METHOD_WORDS[comparison["method"]]
        except ApplicationError as error:
            out[metric] = {"problem": error.message}
    return out


def _touchpoint_hists(project: Project, filters: MetricFilters) -> dict[str, dict]:
    """{metric: {touchpoint key: histograms by scale}}: one grouped query per metric."""
    return {
        metric: selectors.grouped_histograms(project, metric, filters, "touchpoint_key")
        for metric in METRICS
    }


def journey_table(project: Project, query: DashboardQuery) -> list[dict[str, Any]]:
    """Stage by stage, touchpoint by touchpoint: each metric with n, interval, and the change
    against the previous period of the same length. The table makes many comparisons at once,
    so their significance is controlled with Benjamini–Hochberg (DESIGN.md §7)."""
    now_hists = _touchpoint_hists(project, query.filters)
    before_hists = _touchpoint_hists(project, query.filters.shifted(query.days))
    stages = list(JourneyStage.objects.filter(project=project).order_by("position"))
    touchpoints = Touchpoint.objects.filter(project=project).order_by("position", "name")
    if query.filters.touchpoint:
        touchpoints = touchpoints.filter(key=query.filters.touchpoint)
    if query.filters.stage:
        touchpoints = touchpoints.filter(stage__key=query.filters.stage)
    touchpoints = list(touchpoints)
    rows, cells, comparisons = [], [], []
    for stage in [*stages, None]:
        members = [t for t in touchpoints if t.stage_id == (stage.pk if stage else None)]
        if not members:
            continue
        items = []
        for touchpoint in members:
            metrics = {}
            for metric in METRICS:
                hists = now_hists[metric].get(touchpoint.key)
                if not hists:
                    continue
                result = selectors.score_dict(metric, hists)
                comparison = selectors.compare_histograms(
                    metric, before_hists[metric].get(touchpoint.key, {}), hists
                )
                if comparison is not None:
                    cells.append(result)
                    comparisons.append(comparison)
                result["change"] = None
                metrics[metric] = result
            items.append(
                {
                    "touchpoint": touchpoint,
                    "metrics": metrics,
                    "lead_querystring": query.querystring(touchpoint=touchpoint.key),
                }
            )
        rows.append({"stage": stage, "touchpoints": items})
    for result, comparison in zip(
        cells, scores.control_false_discoveries(comparisons), strict=True
    ):
        result["change"] = comparison.to_dict()
    return rows


def breakdowns(project: Project, query: DashboardQuery, metric: str) -> dict[str, dict]:
    """The metric split by channel and by each breakdown attribute's values (one query each),
    under every filter of the page. A segment filter on one attribute leaves the split by
    another attribute impossible (a rollup row carries one attribute): that split says so."""
    f = query.filters
    out: dict[str, dict] = {}
    splits: list[tuple[str, str, str | None]] = [("channel", "channel", None)]
    splits += [
        (attribute, "breakdown_value", attribute)
        for attribute in project.breakdown_attributes or []
    ]
    for label, column, split_by in splits:
        try:
            groups = selectors.grouped_histograms(project, metric, f, column, split_by=split_by)
        except ApplicationError as error:
            out[label] = {"rows": [], "note": error.message}
            continue
        names = CHANNEL_NAMES if column == "channel" else {}
        out[label] = {
            "rows": [
                {
                    "value": value or "—",
                    "label": str(names.get(value, value or "—")),
                    **selectors.score_dict(metric, hists),
                }
                for value, hists in sorted(groups.items())
            ],
            "note": "",
        }
    return out


def case_overview(project: Project, query: DashboardQuery) -> dict[str, Any]:
    """Backlog (open now) and ageing, root causes of the cases resolved within the dates — from
    the cases table (the follow-up work itself), under the page's team and answer filters."""

    now = timezone.now()
    since, until = query.filters.since, query.filters.until
    cases = Case.objects.filter(case_scope(query), project=project)
    open_cases = cases.filter(status__in=OPEN_CASE_STATUSES)
    ages = open_cases.aggregate(
        under_1d=Count("pk", filter=Q(created_at__gte=now - timedelta(days=1))),
        d1_3=Count(
            "pk",
            filter=Q(
                created_at__lt=now - timedelta(days=1), created_at__gte=now - timedelta(days=3)
            ),
        ),
        d3_7=Count(
            "pk",
            filter=Q(
                created_at__lt=now - timedelta(days=3), created_at__gte=now - timedelta(days=7)
            ),
        ),
        over_7d=Count("pk", filter=Q(created_at__lt=now - timedelta(days=7))),
        overdue=Count("pk", filter=Q(due_at__lt=now)),
        total=Count("pk"),
    )
    root_causes = list(
        cases.filter(
            status__in=(CaseStatus.RESOLVED, CaseStatus.CLOSED),
            resolved_at__date__gte=since,
            resolved_at__date__lte=until,
        )
        .exclude(root_cause=None)
        .values(name=F("root_cause__name"))
        .annotate(n=Count("pk"))
        .order_by("-n", "name")[:10]
    )
    return {"ages": ages, "root_causes": root_causes}


def topic_drivers(project: Project, query: DashboardQuery, limit: int = 10) -> dict[str, Any]:
    """Which topics move NPS, what to fix first: for each topic, the NPS of the answers whose
    comment has it against the NPS of every other answer of the slice (the difference with its
    95 % interval and the n of each side, DESIGN.md §7), largest drop first, with how the
    topic's own clauses read (positive / neutral / negative / mixed). Reads answers and tags of
    the period (three grouped queries), since topics are not in the rollups."""
    answers = Answer.objects.filter(
        response_scope(query, prefix="response__", day="finished_at"),
        response__project=project,
        question_type="nps",
        value_int__isnull=False,
    )
    overall: dict[int, int] = {
        row["value_int"]: row["n"]
        for row in answers.values("value_int").annotate(n=Count("response_id", distinct=True))
    }
    score = Answer.objects.filter(
        response_id=OuterRef("answer__response_id"), question_type="nps"
    ).values("value_int")[:1]
    tags = Tag.objects.filter(
        response_scope(query, prefix="answer__response__", day="finished_at"),
        suppressed=False,
        answer__response__project=project,
    )
    with_topic: dict[str, dict[int, int]] = {}
    for row in (
        tags.annotate(nps=Subquery(score))
        .exclude(nps=None)
        .values("topic__name", "nps")
        .annotate(n=Count("answer__response_id", distinct=True))
    ):
        with_topic.setdefault(row["topic__name"], {})[row["nps"]] = row["n"]
    feelings: dict[str, dict[str, int]] = {}
    for row in (
        tags.exclude(sentiment="").values("topic__name", "sentiment").annotate(n=Count("pk"))
    ):
        feelings.setdefault(row["topic__name"], {})[row["sentiment"]] = row["n"]
    rows = []
    for name in sorted(set(with_topic) | set(feelings)):
        hist = with_topic.get(name, {})
        rest = {s: n - hist.get(s, 0) for s, n in overall.items() if n - hist.get(s, 0) > 0}
        rows.append(
            {
                "topic": name,
                **scores.nps_impact(hist, rest).to_dict(),
                "sentiment": feelings.get(name, {}),
            }
        )
    rows.sort(key=lambda r: (r["impact"] is None, r["impact"] or 0, r["topic"]))
    return {"rows": rows[:limit], "answers": sum(overall.values())}


def churn_beside_nps(project: Project, query: DashboardQuery) -> dict[str, Any]:
    """Monthly churn rate of customers (their lifecycle history, metrics.churn.services) beside
    monthly NPS (rollups), over the chosen period or the last six months if that is longer,
    with simple CLV (or why there is none), and churn and revenue by last NPS category and by
    recovery (customers and cases). No raw responses are read."""

    until = query.filters.until
    since = min(query.filters.since, until - timedelta(days=182)).replace(day=1)
    churn = lifecycle.churn_series(project, since=since, until=until, interval="month")
    has_data = any(p["active_in_period"] for p in churn["series"])
    # The whole project's NPS, as churn is the whole project's customers (the panel says so).
    nps = selectors.metric_report(
        project, "nps", MetricFilters(since=since, until=until), interval="month"
    )
    nps_by_month = {p["period_start"][:7]: p for p in nps.get("series", [])}
    by_month = {month: p["score"] for month, p in nps_by_month.items()}
    return {
        "has_data": has_data,
        "clv": churn["clv"],
        "clv_reason": churn["clv_reason"],
        "method": churn["method"],
        "chart": {
            "labels": [p["period_start"][:7] for p in churn["series"]],
            "churn": [p["churn_rate"] for p in churn["series"]],
            "nps": [by_month.get(p["period_start"][:7]) for p in churn["series"]],
        },
        "series": churn["series"],
        "months": [
            {
                "month": p["period_start"][:7],
                "partial": p.get("partial", False),
                "churn_rate": p["churn_rate"],
                "churn_rate_ci_low": p.get("churn_rate_ci_low"),
                "churn_rate_ci_high": p.get("churn_rate_ci_high"),
                "churn_rate_n": p.get("churn_rate_n"),
                "nps": nps_by_month.get(p["period_start"][:7]),
            }
            for p in churn["series"]
        ],
        "by_last_nps": lifecycle.outcomes_by_nps(project),
        "by_recovery": lifecycle.outcomes_by_recovery(project),
    }
