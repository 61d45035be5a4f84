"""Reads for metrics: histograms from the rollups (never raw answers), scored by
`metrics.scores`; plus response rate, drop-off and throttle decisions per survey.

The metrics API and the dashboards both call these, so a number means the same everywhere.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncMonth, TruncWeek

from metrics import scores
from metrics.models import Rollup
from surveys.models import Decision, Display, DisplayStatus, Project
from vocsite.errors import ApplicationError

METRICS = ("nps", "csat", "ces")
METHODS = {
    "nps": "NPS = 100 × (promoters − detractors) / n; 95 % adjusted-Wald interval",
    "csat": "CSAT = % satisfied (top box); 95 % Wilson interval",
    "ces": "CES = % agree it was easy; 95 % Wilson interval",
}


@dataclass(frozen=True)
class MetricFilters:
    survey_id: int | None = None
    touchpoint: str | None = None
    stage: str | None = None
    channel: str | None = None
    segment: tuple[str, str] | None = None
    since: date | None = None
    until: date | None = None

    def shifted(self, days: int) -> MetricFilters:
        return MetricFilters(
            self.survey_id,
            self.touchpoint,
            self.stage,
            self.channel,
            self.segment,
            self.since - timedelta(days=days) if self.since else None,
            self.until - timedelta(days=days) if self.until else None,
        )


def rollup_cells(project: Project, metric: str, filters: MetricFilters):
    """The rollup rows that answer a question: one breakdown slice, the filters applied."""
    cells = Rollup.objects.filter(project=project, question_type=metric)
    if filters.segment:
        attribute, value = filters.segment
        if attribute not in (project.breakdown_attributes or []):
            raise ApplicationError(
                "invalid",
                "Metrics can be split only by the project's breakdown attributes.",
                {
                    "segment": [
                        f"Breakdown attributes: {', '.join(project.breakdown_attributes or []) or 'none'}."
                    ]
                },
            )
        cells = cells.filter(breakdown_attribute=attribute, breakdown_value=value)
    else:
        cells = cells.filter(breakdown_attribute="")
    if filters.survey_id:
        cells = cells.filter(survey_id=filters.survey_id)
    if filters.touchpoint:
        cells = cells.filter(touchpoint_key=filters.touchpoint)
    if filters.stage:
        cells = cells.filter(stage_key=filters.stage)
    if filters.channel:
        cells = cells.filter(channel=filters.channel)
    if filters.since:
        cells = cells.filter(day__gte=filters.since)
    if filters.until:
        cells = cells.filter(day__lte=filters.until)
    return cells


def _scale_of(metric: str, scales: set[int]) -> int | None:
    if metric == "nps" or not scales:
        return None
    if len(scales) > 1:
        raise ApplicationError(
            "mixed_scales",
            f"These {metric.upper()} answers use different scales ({', '.join(f'1–{s}' for s in sorted(scales))}); "
            "filter by survey to compare like with like.",
            {"survey": ["Choose one survey."]},
        )
    return next(iter(scales))


def histogram(
    project: Project, metric: str, filters: MetricFilters
) -> tuple[dict[int, int], int | None]:
    rows = (
        rollup_cells(project, metric, filters).values("scale_max", "score").annotate(n=Sum("count"))
    )
    hist: dict[int, int] = defaultdict(int)
    scales = set()
    for row in rows:
        hist[row["score"]] += row["n"]
        scales.add(row["scale_max"])
    return dict(hist), _scale_of(metric, scales)


def _result_dict(metric: str, hist: dict[int, int], scale: int | None) -> dict[str, Any]:
    result = scores.score_histogram(metric, hist, scale)
    data = result.to_dict()
    data["counts"] = {str(k): v for k, v in sorted(hist.items())}
    return data


def metric_report(
    project: Project,
    metric: str,
    filters: MetricFilters,
    interval: str = "day",
    compare: bool = False,
) -> dict[str, Any]:
    """`{metric, method, total, series, low_sample, comparison?}` as the metrics API returns."""
    if metric not in METRICS:
        raise ApplicationError(
            "invalid", "Unknown metric.", {"metric": [f"One of {', '.join(METRICS)}."]}
        )
    periods: dict[Any, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    scales = set()
    base = rollup_cells(project, metric, filters)
    group_key = "day"
    if interval in ("week", "month"):
        group_key = "period"
        base = base.annotate(period=TruncWeek("day") if interval == "week" else TruncMonth("day"))
    for row in (
        base.values(group_key, "scale_max", "score").annotate(n=Sum("count")).order_by(group_key)
    ):
        start = row[group_key]
        periods[start][row["score"]] += row["n"]
        scales.add(row["scale_max"])
    scale = _scale_of(metric, scales)
    total_hist = scores.merge(*periods.values()) if periods else {}
    total = _result_dict(metric, total_hist, scale)
    series = []
    for start in sorted(periods):
        entry = _result_dict(metric, dict(periods[start]), scale)
        entry["period_start"] = start.isoformat() if hasattr(start, "isoformat") else str(start)
        series.append(entry)
    report: dict[str, Any] = {
        "metric": metric,
        "method": METHODS[metric],
        "interval": interval,
        "total": total,
        "series": series,
        "low_sample": total["low_sample"],
    }
    if compare and filters.since and filters.until:
        days = (filters.until - filters.since).days + 1
        previous_filters = filters.shifted(days)
        previous_hist, previous_scale = histogram(project, metric, previous_filters)
        previous = _result_dict(metric, previous_hist, previous_scale if metric != "nps" else None)
        if metric == "nps":
            comparison = scores.compare_nps(previous_hist, total_hist)
        else:
            comparison = scores.compare_share(
                scores.score_histogram(metric, previous_hist, previous_scale or scale),
                scores.score_histogram(metric, total_hist, scale),
            )
        report["comparison"] = {
            "previous": {
                "since": previous_filters.since.isoformat(),
                "until": previous_filters.until.isoformat(),
                **previous,
            },
            **comparison.to_dict(),
        }
    return report


def response_rate(
    project: Project, *, survey_id: int | None, since: date | None, until: date | None
) -> dict[str, Any]:
    """Finished responses / displays the customer actually saw (shown, responded, dismissed)."""
    displays = Display.objects.filter(project=project)
    if survey_id:
        displays = displays.filter(survey_id=survey_id)
    if since:
        displays = displays.filter(claimed_at__date__gte=since)
    if until:
        displays = displays.filter(claimed_at__date__lte=until)
    counts = displays.aggregate(
        shown=Count(
            "pk",
            filter=Q(
                status__in=[DisplayStatus.SHOWN, DisplayStatus.RESPONDED, DisplayStatus.DISMISSED]
            ),
        ),
        finished=Count("pk", filter=Q(response__finished=True)),
        dismissed=Count("pk", filter=Q(status=DisplayStatus.DISMISSED)),
    )
    shown = counts["shown"]
    return {
        "shown": shown,
        "finished": counts["finished"],
        "dismissed": counts["dismissed"],
        "response_rate": round(100 * counts["finished"] / shown, 2) if shown else None,
    }


def drop_off(project: Project, *, survey_id: int) -> dict[str, Any]:
    """How many started responses answered each question position (latest version's texts)."""
    from feedback.models import Answer, Response
    from surveys.models import Survey

    survey = (
        Survey.objects.filter(project=project, pk=survey_id)
        .select_related("current_version")
        .first()
    )
    if survey is None:
        raise ApplicationError("not_found", "Unknown survey.", status_code=404)
    started = Response.objects.filter(survey=survey).count()
    finished = Response.objects.filter(survey=survey, finished=True).count()
    answered = dict(
        Answer.objects.filter(response__survey=survey)
        .values_list("question__position")
        .annotate(n=Count("id"))
        .order_by()
    )
    questions = survey.current_version.snapshot["questions"] if survey.current_version else []
    return {
        "survey": survey.pk,
        "started": started,
        "finished": finished,
        "questions": [
            {
                "position": q["position"],
                "type": q["type"],
                "answered": answered.get(q["position"], 0),
                "share_of_started": round(100 * answered.get(q["position"], 0) / started, 2)
                if started
                else None,
            }
            for q in questions
        ],
    }


def decisions_by_reason(
    project: Project, *, survey_id: int | None, since: date | None, until: date | None
) -> dict[str, Any]:
    """How often each anti-nagging rule held a survey back (fatigue analytics)."""
    decisions = Decision.objects.filter(project=project)
    if survey_id:
        decisions = decisions.filter(survey_id=survey_id)
    if since:
        decisions = decisions.filter(created_at__date__gte=since)
    if until:
        decisions = decisions.filter(created_at__date__lte=until)
    rows = (
        decisions.values("survey_id", "reason")
        .annotate(n=Count("id"))
        .order_by("survey_id", "reason")
    )
    by_survey: dict[Any, dict[str, int]] = defaultdict(dict)
    for row in rows:
        by_survey[row["survey_id"]][row["reason"]] = row["n"]
    return {
        "surveys": [
            {"survey": survey, "total": sum(reasons.values()), "reasons": reasons}
            for survey, reasons in by_survey.items()
        ]
    }


def touchpoint_scores(
    project: Project, *, since: date | None = None, until: date | None = None
) -> dict[str, dict[str, dict[str, Any]]]:
    """{touchpoint key: {metric: score dict}} for the journey map — one grouped rollup query.

    A touchpoint whose CSAT (or CES) answers mix scales gets that metric left out rather than
    a share that means nothing; the metrics API explains why when asked for it."""
    cells = Rollup.objects.filter(
        project=project, breakdown_attribute="", question_type__in=METRICS
    ).exclude(touchpoint_key="")
    if since:
        cells = cells.filter(day__gte=since)
    if until:
        cells = cells.filter(day__lte=until)
    rows = cells.values("touchpoint_key", "question_type", "scale_max", "score").annotate(
        n=Sum("count")
    )
    hists: dict[tuple[str, str], dict[int, int]] = defaultdict(lambda: defaultdict(int))
    scale_sets: dict[tuple[str, str], set[int]] = defaultdict(set)
    for row in rows:
        key = (row["touchpoint_key"], row["question_type"])
        hists[key][row["score"]] += row["n"]
        scale_sets[key].add(row["scale_max"])
    out: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
    for (touchpoint, metric), hist in hists.items():
        scales = scale_sets[(touchpoint, metric)]
        if metric != "nps" and len(scales) > 1:
            continue
        scale = None if metric == "nps" else next(iter(scales))
        out[touchpoint][metric] = scores.score_histogram(metric, dict(hist), scale).to_dict()
    return dict(out)
