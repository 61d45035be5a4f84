"""What a weekly digest says, read through the dashboards' own functions (metrics.reports.
dashboards) for one week of the project's days: the same numbers the executive and business
lead dashboards show for that week, never a second computation of any of them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.utils import timezone

from feedback.cases.selectors import ClosedCases, TeamSla, cases_closed, sla_by_team
from metrics.reports import dashboards
from metrics.reports.selectors import METRICS
from surveys.tenancy.models import Membership, Project
from surveys.tenancy.roles import CASE_ROLES
from surveys.tenancy.timezones import day_start, project_zone

MOVERS = 5
TOPICS = 5


@dataclass(frozen=True)
class Digest:
    project: Project
    since: date  # Monday of the week covered (the project's days)
    until: date  # its Sunday
    querystring: str  # the dashboards' URL filters for that week
    reports: dict[
        str, dict[str, Any]
    ]  # metric → the dashboards' report, compared with the week before
    movers: list[dict[str, Any]]  # the journey's touchpoints whose score moved most
    topics: list[dict[str, Any]]  # topic drivers, largest drop in NPS first
    topic_answers: int  # NPS answers the topic figures are read from
    cases: dict[str, Any]  # the backlog (open now, by age)
    closed: ClosedCases  # closed within the week
    sla: list[TeamSla]  # per team, the cases opened within the week
    show_cases: bool  # the reader's role opens the inbox


def member_role(*, project: Project, user) -> str | None:
    """The user's role in the project, or None when they are no longer a member."""
    return (
        Membership.objects.filter(project=project, user=user).values_list("role", flat=True).first()
    )


def journey_movers(journey: list[dict[str, Any]], limit: int = MOVERS) -> list[dict[str, Any]]:
    """The touchpoint scores of the dashboards' journey table that changed most against the
    previous period (largest move first, either way), each with its stage and the table's own
    comparison (significance held to the table's false discovery rate). A move between periods
    with under 30 answers says little, so those come after every well-sampled one."""
    moved = []
    for row in journey:
        stage = row["stage"]
        for item in row["touchpoints"]:
            for metric, result in item["metrics"].items():
                change = result.get("change")
                if not change or change.get("diff") is None:
                    continue
                moved.append(
                    {
                        "stage": stage.name if stage else "",
                        "touchpoint": item["touchpoint"].name,
                        "metric": metric,
                        "score": result["score"],
                        "n": result["n"],
                        "diff": change["diff"],
                        "significant": change["significant"],
                        "low_sample": change["low_sample"],
                    }
                )
    moved.sort(
        key=lambda m: (
            m["low_sample"],
            -abs(m["diff"]),
            m["touchpoint"],
            METRICS.index(m["metric"]),
        )
    )
    return moved[:limit]


def digest_build(*, project: Project, since: date, role: str) -> Digest:
    """The digest of the week starting on Monday `since`, as a member with `role` reads it.

    Read in the project's timezone, as the dashboards' pages are (their `__date` lookups and
    SLA bounds cut the project's days)."""
    until = since + timedelta(days=6)
    zone = project_zone(project)
    with timezone.override(zone):
        query = dashboards.dashboard_query(
            {"since": since.isoformat(), "until": until.isoformat()}, project
        )
        start = day_start(since, zone)
        end = day_start(until + timedelta(days=1), zone)
        drivers = dashboards.topic_drivers(project, query, limit=TOPICS)
        return Digest(
            project=project,
            since=since,
            until=until,
            querystring=query.querystring(),
            reports=dashboards.metric_reports(project, query, interval="week"),
            movers=journey_movers(dashboards.journey_table(project, query)),
            topics=drivers["rows"],
            topic_answers=drivers["answers"],
            cases=dashboards.case_overview(project, query),
            closed=cases_closed(project=project, since=start, until=end),
            sla=sla_by_team(project=project, since=start, until=end),
            show_cases=role in CASE_ROLES,
        )
