"""Reads for the closed loop: the inbox, a case with its context, a contact's history, SLA and
recovery figures."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from statistics import median

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from feedback.answering.models import Answer, Feedback, Response
from feedback.cases.models import OPEN_CASE_STATUSES, Case, CaseEvent, CaseStatus
from feedback.cases.services import visible_cases
from surveys.tenancy.models import Project


@dataclass(frozen=True)
class CaseFilters:
    status: str = ""  # a status, "open" or ""
    team_id: int | None = None
    assignee: str = ""  # a username, "me", "none" or ""
    priority: str = ""
    overdue: bool | None = None
    touchpoint: str = ""  # touchpoint key
    q: str = ""


def cases_list(
    *,
    project: Project,
    user: AbstractBaseUser | None,
    role: str,
    filters: CaseFilters,
    now: datetime | None = None,
) -> QuerySet[Case]:
    """The inbox: visible cases, filtered, most urgent SLA first."""
    now = now or timezone.now()
    cases = visible_cases(project=project, user=user, role=role)
    if filters.status == "open":
        cases = cases.filter(status__in=OPEN_CASE_STATUSES)
    elif filters.status:
        cases = cases.filter(status=filters.status)
    if filters.team_id is not None:
        cases = cases.filter(team_id=filters.team_id)
    if filters.assignee == "me" and user is not None:
        cases = cases.filter(assignee=user)
    elif filters.assignee == "none":
        cases = cases.filter(assignee__isnull=True)
    elif filters.assignee:
        cases = cases.filter(assignee__username=filters.assignee)
    if filters.priority:
        cases = cases.filter(priority=filters.priority)
    if filters.overdue is True:
        cases = cases.filter(status__in=OPEN_CASE_STATUSES, due_at__lt=now)
    elif filters.overdue is False:
        cases = cases.exclude(status__in=OPEN_CASE_STATUSES, due_at__lt=now)
    if filters.touchpoint:
        cases = cases.filter(response__touchpoint__key=filters.touchpoint)
    if filters.q:
        cases = cases.filter(
            Q(title__icontains=filters.q)
            | Q(contact__user_id__icontains=filters.q)
            | Q(contact__email__icontains=filters.q)
        )
    return cases.select_related(
        "team", "assignee", "contact", "rule", "response__touchpoint"
    ).order_by("due_at", "pk")


def case_detail(*, case_id: int, project: Project, user, role: str) -> Case | None:
    return (
        visible_cases(project=project, user=user, role=role)
        .select_related(
            "team",
            "assignee",
            "contact",
            "rule",
            "feedback",
            "response__survey",
            "response__touchpoint__stage",
            "response__version",
        )
        .prefetch_related(
            Prefetch(
                "response__answers",
                queryset=Answer.objects.select_related("question").order_by("question__position"),
            ),
            Prefetch("events", queryset=CaseEvent.objects.select_related("actor")),
        )
        .filter(pk=case_id)
        .first()
    )


@dataclass(frozen=True)
class HistoryItem:
    at: datetime
    kind: str  # response | feedback | case
    obj: object


def contact_history(*, case: Case, limit: int = 50) -> list[HistoryItem]:
    """Everything the contact told us, across touchpoints and channels, newest first."""
    if case.contact_id is None:
        return []
    responses = (
        Response.objects.filter(project_id=case.project_id, contact_id=case.contact_id)
        .select_related("survey", "touchpoint")
        .prefetch_related(
            Prefetch(
                "answers",
                queryset=Answer.objects.select_related("question").order_by("question__position"),
            )
        )
        .order_by("-created_at")[:limit]
    )
    feedback = Feedback.objects.filter(
        project_id=case.project_id, contact_id=case.contact_id
    ).order_by("-created_at")[:limit]
    cases = (
        Case.objects.filter(project_id=case.project_id, contact_id=case.contact_id)
        .exclude(pk=case.pk)
        .order_by("-created_at")[:limit]
    )
    items = [HistoryItem(r.finished_at or r.created_at, "response", r) for r in responses]
    items += [HistoryItem(f.created_at, "feedback", f) for f in feedback]
    items += [HistoryItem(c.created_at, "case", c) for c in cases]
    return sorted(items, key=lambda item: item.at, reverse=True)[:limit]


@dataclass(frozen=True)
class TeamSla:
    team: str
    open: int
    overdue: int
    met: int
    breached: int
    median_first_contact_hours: float | None
    median_resolution_hours: float | None

    @property
    def compliance(self) -> float | None:
        """Share of cases whose SLA is decided that were resolved in time (None: none yet)."""
        decided = self.met + self.breached
        return round(100 * self.met / decided, 1) if decided else None


def _hours(delta: timedelta) -> float:
    return delta.total_seconds() / 3600


def sla_by_team(
    *,
    project: Project,
    since: datetime | None = None,
    now: datetime | None = None,
    until: datetime | None = None,
) -> list[TeamSla]:
    """SLA compliance per team: a case meets its SLA if resolved by `due_at`; it breaches if
    resolved later or still open past due. Open cases not yet due are undecided."""
    now = now or timezone.now()
    cases = Case.objects.filter(project=project)
    if since is not None:
        cases = cases.filter(created_at__gte=since)
    if until is not None:
        cases = cases.filter(created_at__lt=until)
    rows = cases.values_list(
        "team__name", "status", "due_at", "created_at", "first_contacted_at", "resolved_at"
    )
    by_team: dict[str, dict] = {}
    for team, status, due_at, created_at, contacted_at, resolved_at in rows.iterator():
        t = by_team.setdefault(
            team or "(no team)",
            {"open": 0, "overdue": 0, "met": 0, "breached": 0, "contact": [], "resolve": []},
        )
        is_open = status in OPEN_CASE_STATUSES
        if is_open:
            t["open"] += 1
            if due_at < now:
                t["overdue"] += 1
                t["breached"] += 1
        elif resolved_at is not None:
            t["met" if resolved_at <= due_at else "breached"] += 1
            t["resolve"].append(_hours(resolved_at - created_at))
        if contacted_at is not None:
            t["contact"].append(_hours(contacted_at - created_at))
    return [
        TeamSla(
            team=name,
            open=t["open"],
            overdue=t["overdue"],
            met=t["met"],
            breached=t["breached"],
            median_first_contact_hours=round(median(t["contact"]), 1) if t["contact"] else None,
            median_resolution_hours=round(median(t["resolve"]), 1) if t["resolve"] else None,
        )
        for name, t in sorted(by_team.items())
    ]


@dataclass(frozen=True)
class Recovery:
    closed: int  # detractor cases resolved or closed
    recovered: int

    @property
    def rate(self) -> float | None:
        return round(100 * self.recovered / self.closed, 1) if self.closed else None


def recovery_rate(*, project: Project, since: datetime | None = None) -> Recovery:
    """Of the cases opened from answers (not Feedback-tab messages) that were resolved or
    closed, how many customers later answered happily (DESIGN.md §4 `recovered`)."""
    cases = Case.objects.filter(
        project=project,
        response__isnull=False,
        status__in=(CaseStatus.RESOLVED, CaseStatus.CLOSED),
    )
    if since is not None:
        cases = cases.filter(created_at__gte=since)
    return Recovery(closed=cases.count(), recovered=cases.filter(recovered=True).count())
