"""What the dashboards show, computed from rollups (never raw answers) so a page costs the same
at a thousand responses as at a million. Filters come from the URL, so a view can be shared."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

from django.db.models import Count, Q, Sum
from django.utils import timezone

from feedback.models import Team
from metrics import scores, selectors
from metrics.models import Rollup
from metrics.selectors import METRICS, MetricFilters
from surveys.models import JourneyStage, Project, Survey, Touchpoint
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
    today = timezone.now().date()
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


def response_scope(query: DashboardQuery, prefix: str = "") -> Q:
    """The URL's survey, touchpoint, stage, channel and segment as a filter on responses (for
    the frontline, which lists individual answers rather than reading rollups)."""
    f = query.filters
    scope = Q()
    for name, value in (
        ("survey_id", f.survey_id),
        ("touchpoint__key", f.touchpoint),
        ("touchpoint__stage__key", f.stage),
        ("channel", f.channel),
    ):
        if value:
            scope &= Q(**{prefix + name: value})
    if f.segment:
        scope &= Q(**{f"{prefix}segment__{f.segment[0]}": f.segment[1]})
    return scope


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
    a metric whose answers mix scales comes back as {"problem": ...} instead."""
    out = {}
    for metric in METRICS:
        try:
            out[metric] = selectors.metric_report(
                project, metric, query.filters, interval=interval, compare=True
            )
        except ApplicationError as error:
            out[metric] = {"problem": error.message}
    return out


def _compare(metric: str, before: dict[int, int], after: dict[int, int], scale: int | None):
    if not before or not after:
        return None
    if metric == "nps":
        return scores.compare_nps(before, after).to_dict()
    return scores.compare_share(
        scores.score_histogram(metric, before, scale), scores.score_histogram(metric, after, scale)
    ).to_dict()


def _touchpoint_hists(project: Project, filters: MetricFilters):
    cells = Rollup.objects.filter(
        project=project, question_type__in=METRICS, day__gte=filters.since, day__lte=filters.until
    ).exclude(touchpoint_key="")
    if filters.segment:
        cells = cells.filter(
            breakdown_attribute=filters.segment[0], breakdown_value=filters.segment[1]
        )
    else:
        cells = cells.filter(breakdown_attribute="")
    for name, value in (
        ("survey_id", filters.survey_id),
        ("stage_key", filters.stage),
        ("channel", filters.channel),
        ("touchpoint_key", filters.touchpoint),
    ):
        if value:
            cells = cells.filter(**{name: value})
    hists: dict[tuple[str, str], dict[int, int]] = {}
    scales: dict[tuple[str, str], set[int]] = {}
    for row in cells.values("touchpoint_key", "question_type", "scale_max", "score").annotate(
        n=Sum("count")
    ):
        key = (row["touchpoint_key"], row["question_type"])
        hist = hists.setdefault(key, {})
        hist[row["score"]] = hist.get(row["score"], 0) + row["n"]
        scales.setdefault(key, set()).add(row["scale_max"])
    return hists, scales


def journey_table(project: Project, query: DashboardQuery) -> list[dict[str, Any]]:
    """Stage by stage, touchpoint by touchpoint: each metric with n, interval, and the change
    against the previous period of the same length with its significance (two queries)."""
    now_hists, now_scales = _touchpoint_hists(project, query.filters)
    before_hists, _ = _touchpoint_hists(project, query.filters.shifted(query.days))
    stages = list(JourneyStage.objects.filter(project=project).order_by("position"))
    touchpoints = Touchpoint.objects.filter(project=project).order_by("position", "name")
    if query.filters.touchpoint:
        touchpoints = touchpoints.filter(key=query.filters.touchpoint)
    if query.filters.stage:
        touchpoints = touchpoints.filter(stage__key=query.filters.stage)
    touchpoints = list(touchpoints)
    rows = []
    for stage in [*stages, None]:
        members = [t for t in touchpoints if t.stage_id == (stage.pk if stage else None)]
        if not members:
            continue
        items = []
        for touchpoint in members:
            metrics = {}
            for metric in METRICS:
                key = (touchpoint.key, metric)
                if key not in now_hists or len(now_scales[key]) > 1:
                    continue
                scale = None if metric == "nps" else next(iter(now_scales[key]))
                result = scores.score_histogram(metric, now_hists[key], scale).to_dict()
                result["change"] = _compare(
                    metric, before_hists.get(key, {}), now_hists[key], scale
                )
                metrics[metric] = result
            items.append(
                {
                    "touchpoint": touchpoint,
                    "metrics": metrics,
                    "lead_querystring": query.querystring(touchpoint=touchpoint.key),
                }
            )
        rows.append({"stage": stage, "touchpoints": items})
    return rows


def breakdowns(project: Project, query: DashboardQuery, metric: str) -> dict[str, list[dict]]:
    """The metric split by channel and by each breakdown attribute's values (one query each)."""
    f = query.filters
    base = Rollup.objects.filter(
        project=project, question_type=metric, day__gte=f.since, day__lte=f.until
    )
    for name, value in (
        ("survey_id", f.survey_id),
        ("stage_key", f.stage),
        ("touchpoint_key", f.touchpoint),
    ):
        if value:
            base = base.filter(**{name: value})
    out: dict[str, list[dict]] = {}
    splits = [("channel", base.filter(breakdown_attribute=""), "channel")]
    for attribute in project.breakdown_attributes or []:
        splits.append((attribute, base.filter(breakdown_attribute=attribute), "breakdown_value"))
    for label, cells, column in splits:
        groups: dict[str, dict[int, int]] = {}
        scales: dict[str, set[int]] = {}
        for row in cells.values(column, "scale_max", "score").annotate(n=Sum("count")):
            hist = groups.setdefault(row[column] or "—", {})
            hist[row["score"]] = hist.get(row["score"], 0) + row["n"]
            scales.setdefault(row[column] or "—", set()).add(row["scale_max"])
        results = []
        for value, hist in sorted(groups.items()):
            if metric != "nps" and len(scales[value]) > 1:
                continue
            scale = None if metric == "nps" else next(iter(scales[value]))
            results.append(
                {"value": value, **scores.score_histogram(metric, hist, scale).to_dict()}
            )
        out[label] = results
    return out


def case_overview(
    project: Project, *, since: date, until: date, team_id: int | None = None
) -> dict[str, Any]:
    """Backlog, ageing, root causes — from the cases table (the follow-up work itself), for
    one team when `team_id` is given."""
    from feedback.models import OPEN_CASE_STATUSES, Case, CaseStatus

    now = timezone.now()
    cases = Case.objects.filter(project=project)
    if team_id is not None:
        cases = cases.filter(team_id=team_id)
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
        .exclude(root_cause="")
        .values("root_cause")
        .annotate(n=Count("pk"))
        .order_by("-n", "root_cause")[:10]
    )
    return {"ages": ages, "root_causes": root_causes}


def topic_drivers(project: Project, query: DashboardQuery, limit: int = 10) -> dict[str, Any]:
    """What detractors write about that promoters don't: for each topic, the share of
    commenting detractors (NPS 0–6) and of commenting promoters (9–10) whose comment has it,
    largest gap first. Reads tags and answers of the period (two grouped queries), since topics
    are not in the rollups."""
    from django.db.models import Case, CharField, OuterRef, Subquery, Value, When

    from feedback.models import Answer, Tag

    f = query.filters

    def with_bucket(queryset, response_ref: str):
        score = Answer.objects.filter(response_id=OuterRef(response_ref), question_type="nps")
        return (
            queryset.annotate(nps=Subquery(score.values("value_int")[:1]))
            .exclude(nps=None)
            .annotate(
                bucket=Case(
                    When(nps__lte=6, then=Value("detractors")),
                    When(nps__gte=9, then=Value("promoters")),
                    default=Value("passives"),
                    output_field=CharField(),
                )
            )
        )

    comments = with_bucket(
        Answer.objects.filter(
            response_scope(query, prefix="response__"),
            response__project=project,
            question_type="text",
            response__finished_at__date__gte=f.since,
            response__finished_at__date__lte=f.until,
        ).exclude(value_text=""),
        "response_id",
    )
    totals = {
        row["bucket"]: row["n"]
        for row in comments.values("bucket").annotate(n=Count("response_id", distinct=True))
    }
    tags = with_bucket(
        Tag.objects.filter(
            response_scope(query, prefix="answer__response__"),
            suppressed=False,
            answer__response__project=project,
            answer__response__finished_at__date__gte=f.since,
            answer__response__finished_at__date__lte=f.until,
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
        detractors, promoters = by_bucket.get("detractors", 0), by_bucket.get("promoters", 0)
        d_share, p_share = share(detractors, "detractors"), share(promoters, "promoters")
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
        "detractor_comments": totals.get("detractors", 0),
        "promoter_comments": totals.get("promoters", 0),
    }


def churn_beside_nps(project: Project, query: DashboardQuery) -> dict[str, Any]:
    """Monthly churn rate of customers (their lifecycle history, metrics.lifecycle) beside
    monthly NPS (rollups), over the chosen period or the last six months if that is longer,
    with simple CLV (or why there is none), and churn and revenue by last NPS category and by
    recovery (customers and cases). No raw responses are read."""
    from dataclasses import replace

    from metrics import lifecycle

    until = query.filters.until
    since = min(query.filters.since, until - timedelta(days=182)).replace(day=1)
    churn = lifecycle.churn_series(project, since=since, until=until, interval="month")
    has_data = any(p["active_in_period"] for p in churn["series"])
    nps = selectors.metric_report(
        project, "nps", replace(query.filters, since=since), interval="month"
    )
    by_month = {p["period_start"][:7]: p["score"] for p in nps.get("series", [])}
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
        "by_last_nps": lifecycle.outcomes_by_nps(project),
        "by_recovery": lifecycle.outcomes_by_recovery(project),
    }
