"""Which answers a figure counts under a filter: the one home of the metrics filters (survey,
touchpoint, stage, channel, segment, dates); the channel a row is counted under is
`surveys.journey.channels`.

The rollups count an answer into a cell by these rules (`response_channel` as each answer is
counted, `channel_expression` in the rebuild's GROUP BY); the metrics API and the dashboards
read the cells through `cells_scope`; the panels that read rows instead of cells (frontline,
topic drivers, cases, response rate, drop-off, decisions, the responses API and its exports)
filter them through `rows_scope`, so a filter means the same on every surface."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta

from django.db.models import Q
from django.db.models.lookups import Exact

from surveys.journey.channels import channel_expression


@dataclass(frozen=True)
class MetricFilters:
    survey_id: int | None = None
    touchpoint: str | None = None  # touchpoint key
    stage: str | None = None  # journey stage key
    channel: str | None = None  # web | ios | android | email …
    segment: tuple[str, str] | None = None  # (breakdown attribute, value)
    since: date | None = None  # first day, inclusive
    until: date | None = None  # last day, inclusive

    def shifted(self, days: int) -> MetricFilters:
        """The same filters over the dates `days` earlier (the period compared with)."""
        return replace(
            self,
            since=self.since - timedelta(days=days) if self.since else None,
            until=self.until - timedelta(days=days) if self.until else None,
        )


def cells_scope(filters: MetricFilters) -> Q:
    """The filters on rollup cells, except the segment: a cell row holds one breakdown slice,
    so the caller picks the slice (metrics.reports.selectors.rollup_cells)."""
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
    and decisions carry no segment (`segment=False`); `survey=False` leaves the survey to the
    caller's own argument."""
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
    if day and filters.since:
        scope &= Q(**{f"{prefix}{day}__date__gte": filters.since})
    if day and filters.until:
        scope &= Q(**{f"{prefix}{day}__date__lte": filters.until})
    return scope
