"""Which answers a figure counts under a filter: the one home of the metrics filters (survey,
touchpoint, stage, channel, segment, dates; and, on rows only, the survey version and a score
range); the channel a row is counted under is `surveys.journey.channels`.

The rollups count an answer into a cell by these rules (`response_channel` as each answer is
counted, `channel_expression` in the rebuild's GROUP BY); the metrics API and the dashboards
read the cells through `cells_scope`; the panels that read rows instead of cells (frontline,
topic drivers, cases, response rate, drop-off, decisions, the responses API and its exports)
filter them through `rows_scope`, so a filter means the same on every surface.

The version and the score range are properties of a response, not dimensions of a rollup cell:
only `rows_scope` applies them (a survey's results page reads rows), and `cells_scope` refuses
them rather than count answers they would have left out."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta

from django.db.models import Exists, OuterRef, Q
from django.db.models.lookups import Exact
from django.utils import timezone
from django.utils.translation import gettext

from feedback.answering.models import Answer
from surveys.journey.channels import channel_expression
from vocsite.errors import ApplicationError


@dataclass(frozen=True)
class ScoreRange:
    """Responses with an answer of `question_type` scored from `low` to `high` (inclusive),
    e.g. the NPS detractors: ScoreRange("nps", 0, 6); written `nps:0-6` in URLs."""

    question_type: str
    low: int
    high: int

    def __str__(self) -> str:
        return f"{self.question_type}:{self.low}-{self.high}"


@dataclass(frozen=True)
class MetricFilters:
    survey_id: int | None = None
    touchpoint: str | None = None  # touchpoint key
    stage: str | None = None  # journey stage key
    channel: str | None = None  # web | ios | android | email …
    segment: tuple[str, str] | None = None  # (breakdown attribute, value)
    since: date | None = None  # first day, inclusive
    until: date | None = None  # last day, inclusive
    version: int | None = None  # the survey version's number (with a survey)
    score: ScoreRange | None = None  # responses whose answer of a scored type lies in a range

    def shifted(self, days: int) -> MetricFilters:
        """The same filters over the dates `days` earlier (the period compared with)."""
        return replace(
            self,
            since=self.since - timedelta(days=days) if self.since else None,
            until=self.until - timedelta(days=days) if self.until else None,
        )


def cells_scope(filters: MetricFilters) -> Q:
    """The filters on rollup cells, except the segment: a cell row holds one breakdown slice,
    so the caller picks the slice (metrics.reports.selectors.rollup_cells). Cells know no
    version and no other answer of the response, so those filters are refused here."""
    if filters.version is not None or filters.score is not None:
        raise ApplicationError(
            "not_filterable",
            gettext("Rollups cannot be filtered by survey version or score range."),
            {"version": [gettext("Read the responses instead (the survey's results).")]},
        )
    scope = Q()
    for field, value in (
        ("survey_id", filters.survey_id),
        ("touchpoint_key", filters.touchpoint),
        ("stage_key", filters.stage),
        ("channel", filters.channel),
        ("day__gte", filters.since),
        ("day__lte", filters.until),
    ):
        if value:
            scope &= Q(**{field: value})
    return scope


def rows_scope(
    filters: MetricFilters,
    *,
    prefix: str = "",
    day: str | None = None,
    survey: bool = True,
    segment: bool = True,
) -> Q:
    """The filters on rows that carry a survey, a touchpoint and a delivery channel — responses
    (and, through `prefix`, answers, tags, cases), displays and decide's decisions.

    `day` names the moment the dates apply to (`finished_at` for finished answers, `created_at`
    for started ones, `claimed_at` for displays); None leaves the dates to the caller. Displays
    and decisions are not responses (`segment=False` leaves out what only a response carries:
    the segment, the version and the score range); `survey=False` leaves the survey to the caller's own argument."""
    scope = Q()
    if survey and filters.survey_id:
        scope &= Q(**{f"{prefix}survey_id": filters.survey_id})
    if filters.touchpoint:
        scope &= Q(**{f"{prefix}touchpoint__key": filters.touchpoint})
    if filters.stage:
        scope &= Q(**{f"{prefix}touchpoint__stage__key": filters.stage})
    if filters.channel:
        scope &= Q(Exact(channel_expression(prefix), filters.channel))
    if segment and filters.segment:
        attribute, value = filters.segment
        scope &= Q(**{f"{prefix}segment__{attribute}": value})
    if segment and filters.version is not None:
        scope &= Q(**{f"{prefix}version__number": filters.version})
    if segment and filters.score is not None:
        score = filters.score
        scope &= Q(
            Exists(
                Answer.objects.filter(
                    response_id=OuterRef(f"{prefix}pk"),
                    question_type=score.question_type,
                    value_int__gte=score.low,
                    value_int__lte=score.high,
                )
            )
        )
    if day and filters.since:
        scope &= Q(**{f"{prefix}{day}__gte": day_start(filters.since)})
    if day and filters.until and filters.until < date.max:
        scope &= Q(**{f"{prefix}{day}__lt": day_start(filters.until + timedelta(days=1))})
    return scope


def day_start(day: date) -> datetime:
    """The first moment of `day` in the current timezone (the project's, where pages and the
    API activate it), fixed when the filter is built: a query evaluated later — a streamed
    export — still cuts days where the project does."""
    return datetime.combine(day, time.min, tzinfo=timezone.get_current_timezone())
