"""Reads for metrics: histograms from the rollups (never raw answers), scored by
`metrics.scores`; plus response rate, drop-off and throttle decisions per survey.

The metrics API and the dashboards both call these, so a number means the same everywhere.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import TruncMonth, TruncWeek
from django.utils import timezone
from django.utils.translation import gettext

from feedback.answering.models import Answer, Response
from metrics import scores
from metrics.rollups.filters import MetricFilters, cells_scope, rows_scope
from metrics.rollups.models import Rollup
from surveys.delivery.models import DecisionCount, Display, DisplayStatus
from surveys.design.models import Survey
from surveys.design.payload import resolve_language, text_in
from surveys.tenancy.models import Project
from surveys.tenancy.timezones import local_day, project_zone
from vocsite.errors import ApplicationError

METRICS = ("nps", "csat", "ces")
NPS_METHOD = "NPS = 100 × (promoters − detractors) / n; 95 % adjusted-Wald interval"
INTERVALS = ("day", "week", "month")


def method_of(metric: str, scales) -> str:
    """The API's `method`: how the figure was made, including which scales it spans and how
    they were combined (metrics.scores.share_method)."""
    return NPS_METHOD if metric == "nps" else scores.share_method(metric, list(scales))


def rollup_cells(
    project: Project,
    metric: str | Sequence[str],
    filters: MetricFilters,
    *,
    split_by: str | None = None,
):
    """The rollup rows that answer a question (of one metric, or of several): one breakdown
    slice, the filters applied (metrics.rollups.filters) — the one place every figure of the
    API, the dashboards and the journey map is filtered.

    `split_by` names a breakdown attribute whose rows are wanted instead (to split the figure
    by its values); a segment filter on that same attribute keeps its one value, and one on
    another attribute cannot be applied to them (the rollups keep one attribute per row), so
    that is refused with `segment_not_splittable`."""
    metrics = [metric] if isinstance(metric, str) else list(metric)
    cells = Rollup.objects.filter(cells_scope(filters), project=project, question_type__in=metrics)
    if split_by is not None:
        if filters.segment and filters.segment[0] != split_by:
            raise ApplicationError(
                "segment_not_splittable",
                gettext(
                    "Answers cannot be split by %(split_by)s within the segment "
                    "%(attribute)s = %(value)s."
                )
                % {
                    "split_by": split_by,
                    "attribute": filters.segment[0],
                    "value": filters.segment[1],
                },
                {
                    "segment": [
                        gettext("Remove the segment filter to split by %(split_by)s.")
                        % {"split_by": split_by}
                    ]
                },
            )
        cells = cells.filter(breakdown_attribute=split_by)
        if filters.segment:
            cells = cells.filter(breakdown_value=filters.segment[1])
    elif filters.segment:
        # The parser let only a breakdown attribute through (metrics.reports.filter_params).
        attribute, value = filters.segment
        cells = cells.filter(breakdown_attribute=attribute, breakdown_value=value)
    else:
        cells = cells.filter(breakdown_attribute="")
    return cells


Hists = dict[scores.Scale, dict[int, int]]  # (scale_max, wording) → score → count


def _histograms_by(cells, *keys: str) -> dict[Any, Hists]:
    """Sum the cells into histograms kept apart by scale, per value of `keys` (one query).

    The one place rollup rows become histograms: answers on different scales are never added
    together as if they were one (DESIGN.md §7); `metrics.scores` scores each scale on its own
    threshold."""
    rows = cells.values(*keys, "scale_max", "scale_wording", "score").annotate(n=Sum("count"))
    groups: dict[Any, Hists] = defaultdict(lambda: defaultdict(dict))
    for row in rows:
        group = tuple(row[key] for key in keys) if len(keys) != 1 else row[keys[0]]
        hist = groups[group][(row["scale_max"], row["scale_wording"])]
        hist[row["score"]] = hist.get(row["score"], 0) + row["n"]
    return {key: dict(value) for key, value in groups.items()}


def histogram(project: Project, metric: str, filters: MetricFilters) -> Hists:
    """The filtered answers' histograms, one per scale the question was asked on: answers on
    different scales are never added together as if they were one (DESIGN.md §7)."""
    return _histograms_by(rollup_cells(project, metric, filters)).get((), {})


def grouped_histograms(
    project: Project,
    metric: str,
    filters: MetricFilters,
    by: str,
    *,
    split_by: str | None = None,
) -> dict[str, Hists]:
    """The filtered answers' histograms per value of one column (`touchpoint_key`, `channel`,
    or `breakdown_value` with `split_by`), one query, every filter applied by `rollup_cells`."""
    return _histograms_by(rollup_cells(project, metric, filters, split_by=split_by), by)


def compare_histograms(metric: str, before: Hists, after: Hists) -> scores.Comparison | None:
    """After against before: NPS with adjusted-Wald errors, shares each on its own scale."""
    if not before or not after:
        return None
    if metric == "nps":
        return scores.compare_nps(_merged(before), _merged(after))
    return scores.compare_share(
        scores.share_by_scale(metric, before), scores.share_by_scale(metric, after)
    )


def _merged(hists_by_scale: Hists) -> dict[int, int]:
    return scores.merge(*hists_by_scale.values())


def score_dict(metric: str, hists: Hists) -> dict[str, Any]:
    """A figure as the API shows it: the score with its interval and counts; for CSAT/CES the
    share counted on each answer's own scale and `by_scale` with each scale's share, mean and
    counts (a histogram only means something within its scale)."""
    data = scores.score_by_scale(metric, hists).to_dict()
    if metric == "nps":
        data["counts"] = {str(k): v for k, v in sorted(_merged(hists).items())}
        return data
    by_scale = data.setdefault("by_scale", [])
    for part in by_scale:
        hist = hists.get((part["scale_max"], part["wording"]), {})
        part["counts"] = {str(k): v for k, v in sorted(hist.items())}
    # One scale: its counts, as before scales were kept apart; several: per scale only.
    data["counts"] = by_scale[0]["counts"] if len(by_scale) == 1 else ({} if not by_scale else None)
    return data


def period_last_day(start: date, interval: str) -> date:
    """The last day of the day, week (Monday to Sunday) or calendar month starting at `start`."""
    if interval == "week":
        return start + timedelta(days=6)
    if interval == "month":
        following = date(start.year + start.month // 12, start.month % 12 + 1, 1)
        return following - timedelta(days=1)
    return start


def period_partial(start: date, interval: str, filters: MetricFilters, today: date) -> bool:
    """A period is partial when `since` or `until` cuts it, or when it is not over yet where
    the project is (today is in it, or it lies ahead)."""
    last = period_last_day(start, interval)
    return (
        (filters.since is not None and filters.since > start)
        or (filters.until is not None and filters.until < last)
        or today <= last
    )


def metric_report(
    project: Project,
    metric: str,
    filters: MetricFilters,
    interval: str = "day",
    compare: bool = False,
) -> dict[str, Any]:
    """`{metric, method, total, series, low_sample, comparison?}` as the metrics API returns.

    Days, weeks (Monday first) and months are the project's local ones: the rollups count each
    answer on its local date. Each series point says whether its period is `partial`."""
    if metric not in METRICS:
        raise ApplicationError(
            "invalid",
            gettext("Unknown metric."),
            {"metric": [gettext("One of %(names)s.") % {"names": ", ".join(METRICS)}]},
        )
    if interval not in INTERVALS:
        raise ApplicationError(
            "invalid",
            gettext("Unknown interval."),
            {"interval": [gettext("One of %(names)s.") % {"names": ", ".join(INTERVALS)}]},
        )
    base = rollup_cells(project, metric, filters)
    group_key = "day"
    if interval in ("week", "month"):
        group_key = "period"
        base = base.annotate(period=TruncWeek("day") if interval == "week" else TruncMonth("day"))
    periods: dict[date, Hists] = {}
    for start, hists in _histograms_by(base, group_key).items():
        if isinstance(start, datetime):  # TruncWeek/TruncMonth of a date on some backends
            start = start.date()
        periods[start] = hists
    total_hists: Hists = {}
    for hists in periods.values():
        for scale, hist in hists.items():
            total_hists[scale] = scores.merge(total_hists.get(scale, {}), hist)
    today = local_day(timezone.now(), project_zone(project))
    total = score_dict(metric, total_hists)
    series = []
    for start in sorted(periods):
        entry = score_dict(metric, periods[start])
        entry["period_start"] = start.isoformat()
        entry["partial"] = period_partial(start, interval, filters, today)
        series.append(entry)
    report: dict[str, Any] = {
        "metric": metric,
        "method": method_of(metric, total_hists),
        "interval": interval,
        "total": total,
        "series": series,
        "low_sample": total["low_sample"],
    }
    if compare and filters.since and filters.until:
        days = (filters.until - filters.since).days + 1
        previous_filters = filters.shifted(days)
        previous_hists = histogram(project, metric, previous_filters)
        # Shares counted each on its own scale compare as shares, whatever the scales.
        comparison = compare_histograms(metric, previous_hists, total_hists) or (
            scores.Comparison(None, None, False)
        )
        report["comparison"] = {
            "previous": {
                "since": previous_filters.since.isoformat(),
                "until": previous_filters.until.isoformat(),
                **score_dict(metric, previous_hists),
            },
            **comparison.to_dict(),
        }
    return report


def responses_list(
    *, project: Project, filters: MetricFilters, include_partial: bool = False
) -> QuerySet[Response]:
    """Responses of one project for the responses API and its exports: finished ones by
    default, dated by when they finished (partial ones on request, dated by when they were
    started), newest first."""
    day = "created_at" if include_partial else "finished_at"
    responses = Response.objects.filter(rows_scope(filters, day=day), project=project)
    return responses if include_partial else responses.filter(finished=True)


def response_rate(
    project: Project,
    *,
    survey_id: int | None,
    since: date | None,
    until: date | None,
    scope: Q | None = None,
) -> dict[str, Any]:
    """Finished responses / displays the customer actually saw (shown, responded, dismissed),
    with its Wilson interval; `scope` narrows the displays further (a dashboard's filters)."""
    dates = MetricFilters(survey_id=survey_id, since=since, until=until)
    displays = Display.objects.filter(
        scope or Q(), rows_scope(dates, day="claimed_at", segment=False), project=project
    )
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
    return {
        "shown": counts["shown"],
        "finished": counts["finished"],
        "dismissed": counts["dismissed"],
        **scores.proportion(counts["finished"], counts["shown"]).to_dict("response_rate"),
    }


def drop_off(
    project: Project,
    *,
    survey_id: int,
    since: date | None = None,
    until: date | None = None,
    scope: Q | None = None,
    language: str | None = None,
) -> dict[str, Any]:
    """How many started responses answered each question (named by its text in the latest
    version, in `language` — the viewer's — or else the project's default), each with the
    share of started and its Wilson interval; responses started within the dates, `scope`
    narrowing them further (a dashboard's filters)."""

    survey = (
        Survey.objects.filter(project=project, pk=survey_id)
        .select_related("current_version")
        .first()
    )
    if survey is None:
        raise ApplicationError("not_found", gettext("Unknown survey."), status_code=404)
    dates = MetricFilters(since=since, until=until)
    responses = Response.objects.filter(
        scope or Q(), rows_scope(dates, day="created_at"), survey=survey
    )
    counts = responses.aggregate(started=Count("pk"), finished=Count("pk", filter=Q(finished=True)))
    started = counts["started"]
    answered = dict(
        Answer.objects.filter(response__in=responses)
        .values_list("question__position")
        .annotate(n=Count("id"))
        .order_by()
    )
    questions = survey.current_version.snapshot["questions"] if survey.current_version else []
    wanted = resolve_language(project, language)
    rows = []
    for q in questions:
        share = scores.proportion(answered.get(q["position"], 0), started)
        rows.append(
            {
                "position": q["position"],
                "type": q["type"],
                "text": text_in(q.get("text") or {}, wanted, project.default_language),
                "answered": share.successes,
                **share.to_dict("share_of_started"),
            }
        )
    return {
        "survey": survey.pk,
        "started": started,
        "finished": counts["finished"],
        "questions": rows,
    }


def decisions_by_reason(project: Project, filters: MetricFilters) -> dict[str, Any]:
    """How often each anti-nagging rule held a survey back (fatigue analytics), from decide's
    daily counters under the filters (survey, touchpoint, stage, channel, dates; counters carry
    no segment)."""
    rows = (
        DecisionCount.objects.filter(cells_scope(filters), project=project)
        .values("survey_id", "reason")
        .annotate(n=Sum("count"))
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

    CSAT/CES answers on several scales are counted each on its own scale (`score_dict`)."""
    cells = rollup_cells(project, METRICS, MetricFilters(since=since, until=until))
    hists = _histograms_by(cells.exclude(touchpoint_key=""), "touchpoint_key", "question_type")
    out: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
    for (touchpoint, metric), by_scale in hists.items():
        out[touchpoint][metric] = score_dict(metric, by_scale)
    return dict(out)
