"""When a weekly digest is due (pure: no Django).

A digest goes out on Monday from 08:00 in the subscriber's timezone: the first hourly run at or
after that moment sends it, and a later run the same Monday catches up when one was missed (a
worker down at 08:00). On any other day nothing is due: a digest read on Wednesday is stale, so
a missed Monday is skipped rather than sent late. Each send slot is named by its Monday's date,
which the subscription records, so a slot is never sent twice.

The digest covers the last week (Monday to Sunday) that is over where the project is — its
rollups count answers on the project's days — and compares it with the week before.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

SEND_WEEKDAY = 0  # Monday
SEND_TIME = time(8, 0)


def send_slot(now: datetime, zone: ZoneInfo) -> date | None:
    """The Monday (a date in `zone`) whose digest is due at the aware moment `now`, or None
    when none is: it is not Monday there, or not yet 08:00."""
    local = now.astimezone(zone)
    if local.weekday() != SEND_WEEKDAY or local.time() < SEND_TIME:
        return None
    return local.date()


def next_send_at(now: datetime, zone: ZoneInfo) -> datetime:
    """The next Monday 08:00 in `zone` after `now` (or `now`'s own, if it is exactly that)."""
    local = now.astimezone(zone)
    monday = local.date() + timedelta(days=(SEND_WEEKDAY - local.weekday()) % 7)
    moment = datetime.combine(monday, SEND_TIME, tzinfo=zone)
    if moment < now:
        moment = datetime.combine(monday + timedelta(days=7), SEND_TIME, tzinfo=zone)
    return moment


def covered_week(now: datetime, project_zone: ZoneInfo) -> tuple[date, date]:
    """(Monday, Sunday) of the last week over where the project is at `now`."""
    today = now.astimezone(project_zone).date()
    this_monday = today - timedelta(days=today.weekday())
    monday = this_monday - timedelta(days=7)
    return monday, monday + timedelta(days=6)
