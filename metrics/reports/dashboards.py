"""What the dashboards show, computed from rollups (never raw answers) so a page costs the same
at a thousand responses as at a million. Filters come from the URL, so a view can be shared."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

from django.db.models import Count, F, OuterRef, Q, Subquery
from django.utils import timezone

from feedback.answering.models import Answer
from feedback.cases.models import OPEN_CASE_STATUSES, Case, CaseStatus
from feedback.topics.models import Tag
from metrics import scores
from metrics.churn import services as lifecycle
from metrics.reports import selectors
from metrics.reports.selectors import METRICS
from metrics.rollups.filters import MetricFilters, rows_scope
from metrics.rollups.models import Rollup
from surveys.design.models import Survey
from surveys.design.scales import nps_category_sql
from surveys.journey.models import JourneyStage, Touchpoint
from surveys.tenancy.models import Project, Team
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
            "team": self.team_id or "",
            **overrides,
        }
        return urlencode({k: v for k, v in values.items() if v not in ("", None)})


def _date(raw: str | None) -> date | None:
    try:
        return date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


def dashboard_query(params, project: Project) -> DashboardQuery:
    """Read the filters from the URL; a bad value is dropped and said, never a 500."""
    problems = []
    today = timezone.localdate()  # the project's day while its dashboards render (views)
    until = _date(params.get("until")) or today
    since = _date(params.get("since")) or until - timedelta(days=DEFAULT_DAYS - 1)
    if since > until:
        problems.append("The start was after the end; showing the last 90 days.")
        until, since = today, today - timedelta(days=DEFAULT_DAYS - 1)
    survey = params.get("survey", "")
    survey_id = id_parse(survey)
    if survey_id is not None and not Survey.objects.filter(project=project, pk=survey_id).exists():
        survey_id = None  # another project's survey is as unknown as one that never existed
    if survey and survey_id is None:
        problems.append("Unknown survey.")
    segment = None
    raw_segment = params.get("segment", "")
    if raw_segment:
        attribute, sep, value = raw_segment.partition(":")
        if sep and attribute in (project.breakdown_attributes or []) and value:
            segment = (attribute, value[:200])
        else:
            problems.append(
                "Segments are attribute:value with a breakdown attribute "
                f"({', '.join(project.breakdown_attributes or []) or 'none set'})."
            )
    team = params.get("team", "")
    team_id = id_parse(team)
    if team_id is not None and not Team.objects.filter(project=project, pk=team_id).exists():
        team_id = None
    if team and team_id is None:
        problems.append("Unknown team.")
    return DashboardQuery(
        team_id=team_id,
        filters=MetricFilters(
            survey_id=survey_id,
            touchpoint=params.get("touchpoint", "")[:100] or None,
            stage=params.get("stage", "")[:64] or None,
            channel=params.get("channel", "")[:16] or None,
            segment=segment,
            since=since,
            until=until,
        ),
        problems=tuple(problems),
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
    "dates": "the dates",
    "survey": "the survey",
    "touchpoint": "the touchpoint",
    "stage": "the stage",
    "channel": "the channel",
    "segment": "the segment",
    "team": "the team",
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
            notes[panel] = f"Not filtered by {left_out[0]}."
        else:
            notes[panel] = f"Not filtered by {', '.join(left_out[:-1])} and {left_out[-1]}."
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
        out[label] = {
            "rows": [
                {"value": value or "—", **selectors.score_dict(metric, hists)}
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
    """What detractors write about that promoters don't: for each topic, the share of
    commenting detractors (NPS 0–6) and of commenting promoters (9–10) whose comment has it,
    largest gap first. Reads tags and answers of the period (two grouped queries), since topics
    are not in the rollups."""

    def with_bucket(queryset, response_ref: str):
        score = Answer.objects.filter(response_id=OuterRef(response_ref), question_type="nps")
        return (
            queryset.annotate(nps=Subquery(score.values("value_int")[:1]))
            .exclude(nps=None)
            .annotate(bucket=nps_category_sql("nps"))
        )

    comments = with_bucket(
        Answer.objects.filter(
            response_scope(query, prefix="response__", day="finished_at"),
            response__project=project,
            question_type="text",
        ).exclude(value_text=""),
        "response_id",
    )
    totals = {
        row["bucket"]: row["n"]
        for row in comments.values("bucket").annotate(n=Count("response_id", distinct=True))
    }
    tags = with_bucket(
        Tag.objects.filter(
            response_scope(query, prefix="answer__response__", day="finished_at"),
            suppressed=False,
            answer__response__project=project,
        ),
        "answer__response_id",
    )
    counts: dict[str, dict[str, int]] = {}
    for row in tags.values("topic__name", "bucket").annotate(
        n=Count("answer__response_id", distinct=True)
    ):
        counts.setdefault(row["topic__name"], {})[row["bucket"]] = row["n"]

    def share(n: int, bucket: str) -> float | None:
        total = totals.get(bucket, 0)
        return round(100 * n / total, 1) if total else None

    rows = []
    for name, by_bucket in counts.items():
        detractors, promoters = by_bucket.get("detractor", 0), by_bucket.get("promoter", 0)
        d_share, p_share = share(detractors, "detractor"), share(promoters, "promoter")
        rows.append(
            {
                "topic": name,
                "detractors": detractors,
                "promoters": promoters,
                "detractor_share": d_share,
                "promoter_share": p_share,
                "gap": round((d_share or 0) - (p_share or 0), 1),
            }
        )
    rows.sort(key=lambda r: (-r["gap"], r["topic"]))
    return {
        "rows": rows[:limit],
        "detractor_comments": totals.get("detractor", 0),
        "promoter_comments": totals.get("promoter", 0),
    }


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
