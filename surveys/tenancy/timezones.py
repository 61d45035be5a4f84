"""Where a project's days are cut: its timezone (`Project.timezone`). Rollups, decide's
daily counters and the dashboards all cut days here, so a day means the same on each."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from surveys.tenancy.models import Project


def project_zone(project: Project) -> ZoneInfo:
    """The project's timezone (Settings validates it; a name this machine's tz database lacks
    reads as UTC rather than failing every rollup)."""
    try:
        return ZoneInfo(project.timezone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def local_day(moment: datetime, zone: ZoneInfo) -> date:
    """The day `moment` falls on where the project is."""
    return moment.astimezone(zone).date()


def day_start(day: date, zone: ZoneInfo) -> datetime:
    """The moment the project's `day` begins (a range of days is [start of the first, start of
    the day after the last))."""
    return datetime.combine(day, time.min, tzinfo=zone)
