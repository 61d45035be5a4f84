"""Reads for the closed loop: the inbox, the Feedback inbox, a case with its context, a
contact's history, SLA and recovery figures, the root-cause list, and how many recent answers
an alert rule would have matched."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from statistics import median

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone

from feedback.answering.models import Answer, Feedback, FeedbackStatus, Response
from feedback.cases.alerting import RuleIn, rule_matches_feedback, rule_matches_response
from feedback.cases.models import OPEN_CASE_STATUSES, Case, CaseEvent, CaseStatus, RootCause
from feedback.cases.services import feedback_in, response_facts, visible_cases
from feedback.topics.models import Tag
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
        # What the customer wrote counts as much as the title: a comment or a message.
        wrote = Answer.objects.filter(
            response_id=OuterRef("response_id"), value_text__icontains=filters.q
        )
        cases = cases.filter(
            Q(title__icontains=filters.q)
            | Q(contact__user_id__icontains=filters.q)
            | Q(contact__email__icontains=filters.q)
            | Q(feedback__text__icontains=filters.q)
            | Exists(wrote)
        )
    return (
        cases.select_related(
            "team", "assignee", "contact", "rule", "root_cause", "response__touchpoint", "feedback"
        )
        .prefetch_related(
            "also_matched",
            Prefetch(
                "response__answers",
                queryset=Answer.objects.exclude(value_text="").order_by("question__position"),
                to_attr="comments",
            ),
        )
        .order_by("due_at", "pk")
    )


def case_detail(*, case_id: int, project: Project, user, role: str) -> Case | None:
    return (
        visible_cases(project=project, user=user, role=role)
        .select_related(
            "team",
            "assignee",
            "contact",
            "rule",
            "root_cause",
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
            "also_matched",
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
class ClosedCases:
    closed: int  # resolved or closed within the dates
    median_hours_to_close: float | None  # from opening to resolution


def cases_closed(*, project: Project, since: datetime, until: datetime) -> ClosedCases:
    """The cases resolved (or closed) in [since, until), and the median time they took from
    opening to resolution (the weekly digest's throughput)."""
    durations = [
        _hours(resolved_at - created_at)
        for created_at, resolved_at in Case.objects.filter(
            project=project,
            status__in=(CaseStatus.RESOLVED, CaseStatus.CLOSED),
            resolved_at__gte=since,
            resolved_at__lt=until,
        ).values_list("created_at", "resolved_at")
    ]
    return ClosedCases(
        closed=len(durations),
        median_hours_to_close=round(median(durations), 1) if durations else None,
    )


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


# ---------------------------------------------------------------- the Feedback inbox


@dataclass(frozen=True)
class FeedbackFilters:
    category: str = ""
    rating: int | None = None
    topic_id: int | None = None
    sentiment: str = ""
    status: str = ""  # FeedbackStatus or "" (any)
    q: str = ""
    since: datetime | None = None
    until: datetime | None = None


def feedback_messages(*, project: Project, filters: FeedbackFilters) -> QuerySet[Feedback]:
    """Feedback-tab messages, newest first, with their contact, tags and case."""
    items = Feedback.objects.filter(project=project)
    if filters.category:
        items = items.filter(category=filters.category)
    if filters.rating is not None:
        items = items.filter(rating=filters.rating)
    if filters.topic_id is not None:
        items = items.filter(
            Exists(
                Tag.objects.filter(
                    feedback_id=OuterRef("pk"), topic_id=filters.topic_id, suppressed=False
                )
            )
        )
    if filters.sentiment:
        items = items.filter(sentiment=filters.sentiment)
    if filters.status == FeedbackStatus.NEW:
        items = items.filter(handled_at__isnull=True)
    elif filters.status == FeedbackStatus.HANDLED:
        items = items.filter(handled_at__isnull=False)
    if filters.q:
        items = items.filter(text__icontains=filters.q)
    if filters.since is not None:
        items = items.filter(created_at__gte=filters.since)
    if filters.until is not None:
        items = items.filter(created_at__lt=filters.until)
    return (
        items.select_related("contact", "handled_by")
        .prefetch_related(
            Prefetch("tags", queryset=Tag.objects.select_related("topic").order_by("span_start")),
            Prefetch("cases", queryset=Case.objects.order_by("pk")),
        )
        .order_by("-created_at", "-pk")
    )


def feedback_categories(*, project: Project) -> list[str]:
    """The categories the project's messages carry (the widget's texts name them)."""
    return list(
        Feedback.objects.filter(project=project)
        .exclude(category="")
        .values_list("category", flat=True)
        .distinct()
        .order_by("category")
    )


# ---------------------------------------------------------------- root causes


def root_causes_offered(*, project: Project, keep: RootCause | None = None) -> QuerySet[RootCause]:
    """What a case's root cause may be set to: the project's active entries (and the one the
    case already names, even if retired since)."""
    wanted = Q(is_active=True)
    if keep is not None:
        wanted |= Q(pk=keep.pk)
    return RootCause.objects.filter(wanted, project=project).order_by("name")


def root_cause_named(*, project: Project, name: str) -> RootCause | None:
    """The project's entry of that name (letter case and spacing aside), retired or not."""
    return RootCause.objects.filter(project=project, name__iexact=" ".join(name.split())).first()


def root_causes_with_use(*, project: Project) -> QuerySet[RootCause]:
    """The project's whole list for its admins, each entry with how many cases name it."""
    return (
        RootCause.objects.filter(project=project)
        .annotate(n_cases=Count("cases"))
        .order_by("-is_active", "name")
    )


# ---------------------------------------------------------------- alert rule preview


@dataclass(frozen=True)
class RuleReach:
    """How many finished answers (and Feedback-tab messages) a rule would have matched."""

    responses: int
    feedback: int
    days: int


RULE_PREVIEW_DAYS = 30


def alert_rule_reach(
    *, project: Project, rule: RuleIn, days: int = RULE_PREVIEW_DAYS, now: datetime | None = None
) -> RuleReach:
    """Run a rule over the last `days` of answers with the pipeline's own matcher
    (`rule_matches_response` on the facts `response_facts` builds; `rule_matches_feedback`
    for messages), reading each answer's questions and tags with one query per chunk."""
    since = (now or timezone.now()) - timedelta(days=days)
    responses = (
        Response.objects.filter(project=project, finished=True, finished_at__gte=since)
        .only("pk", "touchpoint_id", "segment")
        .prefetch_related(
            Prefetch(
                "answers",
                queryset=Answer.objects.select_related("question").prefetch_related(
                    Prefetch("tags", queryset=Tag.objects.filter(suppressed=False))
                ),
            )
        )
    )
    matched_responses = 0
    for response in responses.iterator(chunk_size=500):
        answers = list(response.answers.all())
        topic_ids = frozenset(tag.topic_id for answer in answers for tag in answer.tags.all())
        if rule_matches_response(rule, response_facts(response, answers, topic_ids)):
            matched_responses += 1
    matched_feedback = 0
    if rule.applies_to_feedback:
        messages = Feedback.objects.filter(project=project, created_at__gte=since).prefetch_related(
            "tags"
        )
        matched_feedback = sum(
            1
            for item in messages.iterator(chunk_size=500)
            if rule_matches_feedback(rule, feedback_in(item))
        )
    return RuleReach(responses=matched_responses, feedback=matched_feedback, days=days)
