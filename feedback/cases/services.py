"""Alert rules and follow-up cases: the closed loop (DESIGN.md §2, §4).

A finished response (or an unhappy Feedback-tab message) that matches alert rules opens one
case: the highest-priority matching rule owns it (then the oldest rule), and the other rules it
matched are recorded on it (`Case.also_matched`), so a CSAT 1 matching two rules is one case,
one e-mail and one webhook delivery. The database's unique (response, rule) constraint
decides between two workers processing the same answer at once (they pick the same owner);
an answer that already has a case opens none. The case is routed to the rule's team and, if
the rule says so, assigned round-robin or to the least-loaded agent; its `due_at` is the
SLA. Every later change goes through `case_change`, which checks the lifecycle, writes a
CaseEvent (who, what, when, note) and tells the outside world (e-mail, webhooks) after commit.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext, ngettext

from feedback.answering.batch import ResponseBatch, finished_response
from feedback.answering.models import Feedback, Response
from feedback.cases.alerting import (
    FeedbackIn,
    ResponseIn,
    RuleIn,
    ScoreIn,
    rule_matches_feedback,
    rule_matches_response,
)
from feedback.cases.models import (
    OPEN_CASE_STATUSES,
    AlertRule,
    Assignment,
    Case,
    CaseEvent,
    CasePriority,
    CaseStatus,
    ContactMethod,
    RootCause,
)
from feedback.cases.notifications import case_chat_notify, enqueue_case_email
from feedback.topics.models import Tag
from feedback.webhooks.services import webhook_emit
from surveys.design.models import QuestionType
from surveys.design.scales import NPS_DETRACTOR_AT_MOST, UNHAPPY_AT_MOST, default_scale_max
from surveys.tenancy.models import Membership, Project, Team
from surveys.tenancy.roles import ASSIGNABLE_ROLES, FRONTLINE_ROLES
from surveys.tenancy.selectors import team_agents
from surveys.tenancy.services import audit_record
from vocsite import caches
from vocsite.errors import ApplicationError
from vocsite.mail import one_line
from vocsite.sql import insert_row

DEFAULT_RULES = (
    ("NPS detractor (0–6)", QuestionType.NPS, 0, UNHAPPY_AT_MOST["nps"], CasePriority.HIGH, 24),
    (
        "Unhappy CSAT (1–2 of 5)",
        QuestionType.CSAT,
        1,
        UNHAPPY_AT_MOST["csat"],
        CasePriority.HIGH,
        24,
    ),
    (
        "Hard effort CES (1–3 of 7)",
        QuestionType.CES,
        1,
        UNHAPPY_AT_MOST["ces"],
        CasePriority.NORMAL,
        48,
    ),
)

# Which status may follow which. Skipping ahead is allowed (an agent who phones at once goes
# from new to contacted); going back to new is not; a finished case only comes back reopened.
TRANSITIONS: dict[str, frozenset[str]] = {
    CaseStatus.NEW: frozenset({"in_progress", "contacted", "resolved", "closed"}),
    CaseStatus.IN_PROGRESS: frozenset({"contacted", "resolved", "closed"}),
    CaseStatus.CONTACTED: frozenset({"in_progress", "resolved", "closed"}),
    CaseStatus.REOPENED: frozenset({"in_progress", "contacted", "resolved", "closed"}),
    CaseStatus.RESOLVED: frozenset({"closed", "reopened"}),
    CaseStatus.CLOSED: frozenset({"reopened"}),
}
PRIORITY_ORDER = [CasePriority.LOW, CasePriority.NORMAL, CasePriority.HIGH, CasePriority.URGENT]
TITLE_MAX_LENGTH = Case._meta.get_field("title").max_length


def alert_rules_install_defaults(*, project: Project) -> list[AlertRule]:
    """New projects start with rules that turn every unhappy score into a case."""
    rules = [
        AlertRule.objects.get_or_create(
            project=project,
            name=name,
            defaults={
                "question_type": question_type,
                "score_min": low,
                "score_max": high,
                "priority": priority,
                "sla_hours": sla_hours,
            },
        )[0]
        for name, question_type, low, high, priority, sla_hours in DEFAULT_RULES
    ]
    caches.alert_rules_forget(project_id=project.pk)
    return rules


def rule_in(rule: AlertRule) -> RuleIn:
    """The plain value the pure matcher reads (touchpoints and topics must be prefetched)."""
    return RuleIn(
        rule_id=rule.pk,
        question_type=rule.question_type,
        score_min=rule.score_min,
        score_max=rule.score_max,
        keywords=tuple(str(k) for k in rule.keywords or ()),
        topic_ids=frozenset(t.pk for t in rule.topics.all()),
        touchpoint_ids=frozenset(t.pk for t in rule.touchpoints.all()),
        segment={str(k): str(v) for k, v in (rule.segment or {}).items()},
        applies_to_feedback=rule.applies_to_feedback,
    )


def _active_rules(project_id: int) -> list[tuple[AlertRule, RuleIn]]:
    """The project's active rules, each with the plain value the matcher reads. Every finished
    response is checked against them, so they are kept in memory (vocsite.caches.ALERT_RULES)
    instead of costing four queries and a rebuild of the values per response."""

    def load() -> list[tuple[AlertRule, RuleIn]]:
        rules = (
            AlertRule.objects.filter(project_id=project_id, is_active=True)
            .select_related("team")
            .prefetch_related("topics", "touchpoints")
            .order_by("pk")
        )
        return [(rule, rule_in(rule)) for rule in rules]

    return caches.ALERT_RULES.get(project_id, load)


# ---------------------------------------------------------------- opening cases


def _response_in(response: Response) -> ResponseIn:
    answers = list(response.answers.all())
    # Topics tag open-text answers only (feedback.topics.services): without one there are no tags to read.
    topic_ids = (
        frozenset(
            Tag.objects.filter(answer__response=response, suppressed=False).values_list(
                "topic_id", flat=True
            )
        )
        if any(a.question_type == "text" and a.value_text for a in answers)
        else frozenset()
    )
    return response_facts(response, answers, topic_ids)


def response_facts(response: Response, answers: list, topic_ids: frozenset[int]) -> ResponseIn:
    """The plain value the pure matcher reads for an answered survey (answers with their
    questions, and the topics its comments are tagged with)."""
    return ResponseIn(
        scores=[
            ScoreIn(a.question_type, agreement_value(a)) for a in answers if a.value_int is not None
        ],
        texts=[a.value_text for a in answers if a.value_text],
        topic_ids=topic_ids,
        touchpoint_id=response.touchpoint_id,
        segment=response.segment or {},
    )


def _case_title(rule: AlertRule, response: Response) -> str:
    scores = [
        f"{a.question_type.upper()} {a.value_int}"
        for a in response.answers.all()
        if a.value_int is not None and a.question_type in ("nps", "csat", "ces")
    ]
    where = response.touchpoint.name if response.touchpoint else response.survey.name
    return f"{', '.join(scores) or rule.name} · {where}"


def _owner_first(rules: list[AlertRule]) -> list[AlertRule]:
    """The matching rules, the owner of the case first: the highest priority, then the oldest
    rule (as with surveys, DESIGN.md §5)."""
    return sorted(rules, key=lambda rule: (-_priority_rank(rule.priority), rule.pk))


def _priority_rank(priority: str) -> int:
    """Low 0 … urgent 3 (an unknown priority counts as normal)."""
    return PRIORITY_ORDER.index(priority) if priority in PRIORITY_ORDER else 1


def cases_open_for_response(response_id: int, batch: ResponseBatch | None = None) -> list[Case]:
    """Pipeline step: open the answer's one case if rules match (idempotent). Returns the new
    case in a list (empty when nothing matched or the answer already has its case)."""
    response = finished_response(response_id, batch)
    if response is None:
        return []
    facts = _response_in(response)
    matched = [
        rule
        for rule, plain in _active_rules(response.project_id)
        if rule_matches_response(plain, facts)
    ]
    if not matched or Case.objects.filter(response_id=response.pk).exists():
        return []
    owner, *others = _owner_first(matched)
    case = _case_open(
        rule=owner,
        also_matched=others,
        response=response,
        batch=batch,
        contact_id=response.contact_id,
        title=_case_title(owner, response),
        started_at=response.finished_at or timezone.now(),
    )
    return [case] if case is not None else []


def feedback_in(feedback: Feedback) -> FeedbackIn:
    """The plain value the pure matcher reads for a Feedback-tab message (its tags read here
    unless prefetched as `tags`)."""
    return FeedbackIn(
        text=feedback.text,
        rating=feedback.rating,
        sentiment=feedback.sentiment,
        topic_ids=frozenset(t.topic_id for t in feedback.tags.all() if not t.suppressed),
        segment=(feedback.meta or {}).get("attributes") or {},
    )


def cases_open_for_feedback(feedback_id: int) -> list[Case]:
    """Pipeline hook: an unhappy Feedback-tab message opens one case through the rules that
    opt in (the highest-priority one owns it, as for answers)."""
    feedback = Feedback.objects.filter(pk=feedback_id).first()
    if feedback is None:
        return []
    facts = feedback_in(feedback)
    matched = [
        rule
        for rule, plain in _active_rules(feedback.project_id)
        if rule_matches_feedback(plain, facts)
    ]
    if not matched or Case.objects.filter(feedback_id=feedback.pk).exists():
        return []
    owner, *others = _owner_first(matched)
    case = _case_open(
        rule=owner,
        also_matched=others,
        feedback=feedback,
        contact_id=feedback.contact_id,
        title=_feedback_case_title(feedback),
        started_at=feedback.created_at,
    )
    return [case] if case is not None else []


def _feedback_case_title(feedback: Feedback) -> str:
    return f"Feedback: {feedback.text[:120]}"


# A case opened by hand from a Feedback-tab message has no rule to take an SLA from.
MANUAL_CASE_SLA_HOURS = 48


@dataclass(frozen=True)
class FeedbackCase:
    case: Case
    created: bool


@transaction.atomic
def feedback_case_open(*, feedback: Feedback, actor: AbstractBaseUser | None) -> FeedbackCase:
    """One click in the Feedback inbox: the message's case — opened now if it has none, and
    the message counts as handled (the case carries the work from here). Clicking again, or
    two people at once, lead to the same case: the message's row is locked while deciding.

    The case is the opener's if they work cases (an agent or admin): an agent sees only their
    teams' cases and their own, and the case has no rule to route it to a team."""
    feedback = Feedback.objects.select_for_update().get(pk=feedback.pk)
    existing = Case.objects.filter(feedback=feedback).order_by("pk").first()
    if existing is not None:
        return FeedbackCase(existing, created=False)
    now = timezone.now()
    who = actor if actor is not None and actor.is_authenticated else None
    works_cases = (
        who is not None
        and Membership.objects.filter(
            project_id=feedback.project_id, user=who, role__in=ASSIGNABLE_ROLES
        ).exists()
    )
    case = Case.objects.create(
        project_id=feedback.project_id,
        feedback=feedback,
        contact_id=feedback.contact_id,
        title=one_line(_feedback_case_title(feedback), TITLE_MAX_LENGTH),
        status=CaseStatus.IN_PROGRESS if works_cases else CaseStatus.NEW,
        assignee=who if works_cases else None,
        due_at=now + timedelta(hours=MANUAL_CASE_SLA_HOURS),
    )
    events = [
        CaseEvent(
            case=case,
            actor=who,
            kind="created",
            to_value=CaseStatus.NEW,
            note="Opened from the Feedback inbox.",
        )
    ]
    if works_cases:
        events.append(CaseEvent(case=case, actor=who, kind="claimed", to_value=who.get_username()))
    CaseEvent.objects.bulk_create(events)
    if feedback.handled_at is None:
        feedback.handled_at, feedback.handled_by = now, who
        feedback.save(update_fields=["handled_at", "handled_by", "updated_at"])
    _announce(case, "case.created", chat_event="case.created")
    return FeedbackCase(case, created=True)


def _case_open(
    *,
    rule: AlertRule,
    also_matched: list[AlertRule],
    contact_id: int | None,
    title: str,
    started_at: datetime,
    response: Response | None = None,
    feedback: Feedback | None = None,
    batch: ResponseBatch | None = None,
) -> Case | None:
    """Create the case unless it exists: the unique constraint (one case per rule and source)
    refuses a second one, whether from a concurrent worker or a batch run again.

    The title is made one line here, for every case: it comes from what customers and
    designers typed (multi-line feedback), and it is the subject of the case's e-mails."""
    source = {"response": response} if response is not None else {"feedback": feedback}
    try:
        with transaction.atomic():
            # Statements built once (vocsite.sql): two in three answers of the
            # benchmark's mix open a case, and the ORM compiling these two INSERTs each time
            # was a seventh of the worker's CPU per answer.
            case = Case(
                project_id=rule.project_id,
                rule=rule,
                contact_id=contact_id,
                title=one_line(title, TITLE_MAX_LENGTH),
                priority=rule.priority,
                team_id=rule.team_id,
                due_at=started_at + timedelta(hours=rule.sla_hours),
                **source,
            )
            insert_row(case, returning_pk=True)
            insert_row(CaseEvent(case=case, kind="created", to_value=CaseStatus.NEW))
            if also_matched:
                case.also_matched.add(*also_matched)
            assignee = _routing_pick(rule)
            if assignee is not None:
                case.assignee = assignee
                case.save(update_fields=["assignee", "updated_at"])
                CaseEvent.objects.create(
                    case=case,
                    kind="assigned",
                    to_value=assignee.get_username(),
                    note=f"Routed by rule: {rule.get_assignment_display()}",
                )
            _announce(
                case,
                "case.created",
                email_kind="created" if rule.notify_email else None,
                chat_event="case.created",
                batch=batch,
            )
    except IntegrityError:
        return None  # another worker opened it first
    return case


def _routing_pick(rule: AlertRule) -> AbstractBaseUser | None:
    if rule.team_id is None or rule.assignment == Assignment.NONE:
        return None
    if rule.assignment == Assignment.ROUND_ROBIN:
        # Lock the team row so two workers opening cases at once take consecutive turns.
        team = Team.objects.select_for_update().get(pk=rule.team_id)
        agents = team_agents(team)
        if not agents:
            return None
        chosen = agents[team.round_robin_cursor % len(agents)]
        team.round_robin_cursor = team.round_robin_cursor + 1
        team.save(update_fields=["round_robin_cursor", "updated_at"])
        return chosen
    agents = team_agents(rule.team)
    if not agents:
        return None
    load = dict(
        Case.objects.filter(
            project_id=rule.project_id,
            assignee__in=agents,
            status__in=OPEN_CASE_STATUSES,
        )
        .values_list("assignee_id")
        .annotate(n=Count("pk"))
    )
    return min(agents, key=lambda user: (load.get(user.pk, 0), user.pk))


# ---------------------------------------------------------------- root causes

ROOT_CAUSE_NAME_MAX = RootCause._meta.get_field("name").max_length


@transaction.atomic
def root_cause_save(
    *,
    project: Project,
    actor: AbstractBaseUser | None,
    name: str,
    is_active: bool = True,
    root_cause: RootCause | None = None,
) -> RootCause:
    """Add an entry to the project's list of root causes, or rename / retire / bring back one.

    Names are one line, and unique in the project regardless of letter case: "Courier delay"
    and "courier delay " are the one cause the list exists to count once."""
    name = " ".join(name.split())
    if not name:
        raise ApplicationError(
            "invalid_root_cause",
            gettext("A root cause needs a name."),
            {"name": [gettext("Give it a name.")]},
        )
    if len(name) > ROOT_CAUSE_NAME_MAX:
        raise ApplicationError(
            "invalid_root_cause",
            gettext("The name is too long."),
            {
                "name": [
                    ngettext(
                        "At most %(limit)s character.",
                        "At most %(limit)s characters.",
                        ROOT_CAUSE_NAME_MAX,
                    )
                    % {"limit": ROOT_CAUSE_NAME_MAX}
                ]
            },
        )
    taken = RootCause.objects.filter(project=project, name__iexact=name)
    if root_cause is not None:
        taken = taken.exclude(pk=root_cause.pk)
    if taken.exists():
        raise ApplicationError(
            "invalid_root_cause",
            gettext("The project already has this root cause."),
            {"name": [gettext("“%(name)s” is already in the list.") % {"name": name}]},
        )
    before = None
    if root_cause is None:
        root_cause = RootCause.objects.create(project=project, name=name, is_active=is_active)
    else:
        root_cause = RootCause.objects.select_for_update().get(pk=root_cause.pk, project=project)
        before = {"name": root_cause.name, "is_active": root_cause.is_active}
        root_cause.name, root_cause.is_active = name, is_active
        root_cause.save(update_fields=["name", "is_active", "updated_at"])
    audit_record(
        project=project,
        action="root_cause.updated" if before else "root_cause.created",
        obj=root_cause,
        actor=actor,
        before=before,
        after={"name": root_cause.name, "is_active": root_cause.is_active},
    )
    return root_cause


# ---------------------------------------------------------------- changing cases


@dataclass(frozen=True)
class CaseChange:
    """What a person (or an API client) asks to change; None/"" means "leave as it is"."""

    status: str | None = None
    priority: str | None = None
    note: str = ""
    root_cause: RootCause | None = None  # an entry of the project's list (`root_causes_offered`)
    resolution_note: str | None = None
    contact_method: str | None = None


def _errors_for(case: Case, change: CaseChange) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if change.status is not None and change.status != case.status:
        allowed = TRANSITIONS.get(case.status, frozenset())
        if change.status not in allowed:
            errors["status"] = [
                gettext("A %(status)s case can become: %(targets)s.")
                % {
                    "status": case.get_status_display().lower(),
                    "targets": ", ".join(sorted(allowed)) or gettext("nothing"),
                }
            ]
        root_cause = change.root_cause if change.root_cause is not None else case.root_cause
        if change.status in (CaseStatus.RESOLVED, CaseStatus.CLOSED) and root_cause is None:
            errors["root_cause"] = [
                gettext("Say what caused it before resolving or closing the case.")
            ]
        method = change.contact_method or case.contact_method
        if change.status == CaseStatus.CONTACTED and not method:
            errors["contact_method"] = [
                gettext("How was the customer contacted (phone, e-mail, chat)?")
            ]
    chosen = change.root_cause
    if (
        chosen is not None
        and chosen.pk != case.root_cause_id
        and (chosen.project_id != case.project_id or not chosen.is_active)
    ):
        errors["root_cause"] = [gettext("Choose one of the project's root causes.")]
    if change.contact_method and change.contact_method not in ContactMethod.values:
        errors["contact_method"] = [
            gettext("One of: %(names)s.") % {"names": ", ".join(ContactMethod.values)}
        ]
    if change.priority is not None and change.priority not in CasePriority.values:
        errors["priority"] = [
            gettext("One of: %(names)s.") % {"names": ", ".join(CasePriority.values)}
        ]
    return errors


# Case fields people write in their own words: their change events quote the old and new text.
FREE_TEXT_CASE_FIELDS = ("resolution_note",)


@transaction.atomic
def case_change(*, case: Case, actor: AbstractBaseUser | None, change: CaseChange) -> Case:
    """Apply a status/priority/field change and a note, each recorded as a CaseEvent."""
    case = (
        Case.objects.select_for_update(of=("self",))
        .select_related("rule", "root_cause")
        .get(pk=case.pk)
    )
    errors = _errors_for(case, change)
    if errors:
        raise ApplicationError(
            "invalid_case_change", gettext("The case cannot be changed so."), errors
        )
    now = timezone.now()
    who = actor if actor is not None and actor.is_authenticated else None
    events: list[CaseEvent] = []
    fields: set[str] = set()

    def record(kind: str, before: str, after: str, note: str = "") -> None:
        events.append(
            CaseEvent(
                case=case,
                actor=who,
                kind=kind,
                from_value=before[:200],
                to_value=after[:200],
                note=note,
            )
        )

    if change.root_cause is not None and change.root_cause.pk != case.root_cause_id:
        before = case.root_cause.name if case.root_cause_id else ""
        record("root_cause", before, change.root_cause.name)
        case.root_cause = change.root_cause
        fields.add("root_cause")
    for name in ("resolution_note", "contact_method"):
        value = getattr(change, name)
        if value is not None and value != getattr(case, name):
            record(name, str(getattr(case, name)), str(value))
            setattr(case, name, value)
            fields.add(name)
    if change.priority is not None and change.priority != case.priority:
        record("priority", case.priority, change.priority)
        case.priority = change.priority
        fields.add("priority")
    if change.status is not None and change.status != case.status:
        record("status", case.status, change.status, change.note)
        fields |= _enter_status(case, change.status, now)
    elif change.note.strip():
        record("note", "", "", change.note)
    if not events:
        return case
    CaseEvent.objects.bulk_create(events)
    case.save(update_fields=sorted(fields | {"updated_at"}))
    _announce(case, "case.updated", change_id=events[-1].pk or now.timestamp())
    return case


def _enter_status(case: Case, status: str, now: datetime) -> set[str]:
    """Set the timestamps the SLA report reads; return the fields that changed."""
    case.status = status
    fields = {"status"}
    if status == CaseStatus.CONTACTED and case.first_contacted_at is None:
        case.first_contacted_at = now
        fields.add("first_contacted_at")
    if status == CaseStatus.RESOLVED or (status == CaseStatus.CLOSED and not case.resolved_at):
        case.resolved_at = now
        fields.add("resolved_at")
    if status == CaseStatus.CLOSED:
        case.closed_at = now
        fields.add("closed_at")
    if status == CaseStatus.REOPENED:
        # A reopened case is live again: a fresh SLA, and it may be escalated again.
        sla_hours = case.rule.sla_hours if case.rule else 48
        case.resolved_at = case.closed_at = case.overdue_at = None
        case.due_at = now + timedelta(hours=sla_hours)
        fields |= {"resolved_at", "closed_at", "overdue_at", "due_at"}
    return fields


def assignable_users(case: Case) -> list[AbstractBaseUser]:
    """Who a case may be assigned to: its team's agents, or any agent/admin of the project."""
    if case.team_id is not None:
        return team_agents(case.team)
    allowed = Membership.objects.filter(
        project_id=case.project_id, role__in=ASSIGNABLE_ROLES
    ).values_list("user_id", flat=True)
    return list(get_user_model().objects.filter(pk__in=allowed, is_active=True).order_by("pk"))


@transaction.atomic
def case_assign(
    *, case: Case, assignee: AbstractBaseUser | None, actor: AbstractBaseUser | None
) -> Case:
    """Assign (or unassign with None). Claiming is assigning to yourself."""
    case = Case.objects.select_for_update(of=("self",)).select_related("team").get(pk=case.pk)
    if assignee is not None and assignee.pk not in {u.pk for u in assignable_users(case)}:
        raise ApplicationError(
            "invalid_assignee",
            gettext("That person cannot work this case."),
            {"assignee": [gettext("Not an agent of the case's team.")]},
        )
    if (assignee.pk if assignee else None) == case.assignee_id:
        return case
    before = case.assignee.get_username() if case.assignee else ""
    case.assignee = assignee
    fields = ["assignee", "updated_at"]
    if assignee is not None and case.status == CaseStatus.NEW:
        case.status = CaseStatus.IN_PROGRESS
        fields.append("status")
    case.save(update_fields=fields)
    who = actor if actor is not None and actor.is_authenticated else None
    claimed = assignee is not None and who is not None and assignee.pk == who.pk
    event = CaseEvent.objects.create(
        case=case,
        actor=who,
        kind="claimed" if claimed else "assigned",
        from_value=before,
        to_value=assignee.get_username() if assignee else "",
    )
    notify = "assigned" if assignee is not None and not claimed and assignee.email else None
    chat_event = "case.assigned" if assignee is not None else None
    _announce(case, "case.updated", email_kind=notify, chat_event=chat_event, change_id=event.pk)
    return case


def case_claim(*, case: Case, actor: AbstractBaseUser) -> Case:
    return case_assign(case=case, assignee=actor, actor=actor)


# ---------------------------------------------------------------- SLA and recovery


def _raised(priority: str) -> str:
    return PRIORITY_ORDER[min(_priority_rank(priority) + 1, len(PRIORITY_ORDER) - 1)]


def cases_escalate_overdue(*, now: datetime | None = None) -> int:
    """Mark open cases past due, once each: raise the priority, tell the team lead.

    The conditional UPDATE (overdue_at IS NULL) is the claim: if two beat runs overlap, each
    case is escalated by exactly one of them."""
    now = now or timezone.now()
    escalated = 0
    candidates = Case.objects.filter(
        status__in=OPEN_CASE_STATUSES, due_at__lt=now, overdue_at__isnull=True
    ).values_list("pk", "priority")
    for case_id, priority in candidates.iterator():
        with transaction.atomic():
            raised = _raised(priority)
            won = Case.objects.filter(pk=case_id, overdue_at__isnull=True).update(
                overdue_at=now, priority=raised, updated_at=now
            )
            if not won:
                continue
            case = Case.objects.get(pk=case_id)
            CaseEvent.objects.create(
                case=case,
                kind="escalated",
                from_value=priority,
                to_value=raised,
                note=f"SLA breached: was due {case.due_at:%Y-%m-%d %H:%M} UTC.",
            )
            _announce(case, "case.overdue", email_kind="overdue", chat_event="case.overdue")
            escalated += 1
    return escalated


def agreement_value(answer) -> int:
    """The answer's score read in the agreement direction (high is good). A 1–5 CES worded as
    effort (1 = very low effort, the best) is mirrored, so alert rules, recovery and the
    "unhappy" lists read every CES the same way (DESIGN.md §7)."""
    question = answer.question
    if (
        answer.question_type == QuestionType.CES
        and question.scale_wording == "effort"
        and question.scale_max
    ):
        return (question.scale_min or 1) + question.scale_max - answer.value_int
    return answer.value_int


def is_recovering_answer(question_type: str, value: int, scale_max: int | None) -> bool:
    """NPS 7 or more, or the top box of a CSAT/CES scale (DESIGN.md §4); `value` in the
    agreement direction (`agreement_value`)."""
    if question_type == QuestionType.NPS:
        return value > NPS_DETRACTOR_AT_MOST
    if question_type in (QuestionType.CSAT, QuestionType.CES):
        top = scale_max or default_scale_max(question_type)
        return value == top
    return False


def _recoverable_contacts(batch: ResponseBatch) -> set[int]:
    """The batch's contacts with a resolved or closed case not yet recovered (one read)."""
    contact_ids = {r.contact_id for r in batch if r.contact_id is not None}
    if not contact_ids:
        return set()
    return set(
        Case.objects.filter(
            contact_id__in=contact_ids,
            status__in=(CaseStatus.RESOLVED, CaseStatus.CLOSED),
            recovered=False,
        ).values_list("contact_id", flat=True)
    )


def cases_recover_for_response(response_id: int, batch: ResponseBatch | None = None) -> list[Case]:
    """Pipeline step: a customer whose case was closed answers happily later → recovered.

    Every finished response runs this step, and its batch brings its answers along: they are
    looked at first, then whether the batch's contacts have a case waiting (one read per
    batch), so only a happy answer from such a contact asks for its cases."""
    batch = batch if batch is not None else ResponseBatch.of(response_id)
    response = batch.get(response_id)
    if response is None or response.contact_id is None:
        return []
    if not any(
        is_recovering_answer(a.question_type, agreement_value(a), a.question.scale_max)
        for a in response.answers.all()
        if a.value_int is not None
    ):
        return []
    if response.contact_id not in batch.memo(
        "cases.recoverable", lambda: _recoverable_contacts(batch)
    ):
        return []
    answered_at = response.finished_at or response.created_at
    candidates = Case.objects.filter(
        project_id=response.project_id,
        contact_id=response.contact_id,
        status__in=(CaseStatus.RESOLVED, CaseStatus.CLOSED),
        recovered=False,
        created_at__lt=answered_at,
    ).exclude(response_id=response.pk)
    recovered = []
    for case in candidates:
        with transaction.atomic():
            won = Case.objects.filter(pk=case.pk, recovered=False).update(
                recovered=True, recovered_at=answered_at, recovered_by_response=response
            )
            if won:
                case.refresh_from_db()
                event = CaseEvent.objects.create(
                    case=case,
                    kind="recovered",
                    note=f"Answered again happily (response #{response.pk}).",
                )
                _announce(case, "case.updated", change_id=event.pk, batch=batch)
                recovered.append(case)
    return recovered


# ---------------------------------------------------------------- telling the world


def case_payload(case: Case) -> dict:
    return {
        "case": {
            "id": case.pk,
            "title": case.title,
            "status": case.status,
            "priority": case.priority,
            "team": case.team.name if case.team_id else None,
            "assignee": case.assignee.get_username() if case.assignee_id else None,
            "due_at": case.due_at,
            "overdue": case.overdue_at is not None,
            "response_id": case.response_id,
            "feedback_id": case.feedback_id,
            "contact": case.contact.user_id if case.contact_id else None,
            "rule": case.rule.name if case.rule_id else None,
            "root_cause": case.root_cause.name if case.root_cause_id else "",
            "also_matched": [rule.name for rule in case.also_matched.all()],
            "recovered": case.recovered,
            "url": f"{settings.VOCSITE_BASE_URL}/app/cases/{case.pk}/",
        }
    }


def _announce(
    case: Case,
    event: str,
    *,
    email_kind: str | None = None,
    chat_event: str | None = None,
    change_id: object | None = None,
    batch: ResponseBatch | None = None,
) -> None:
    """Webhook and chat deliveries are rows written now (same transaction); e-mail goes after
    commit."""

    subject = f"case:{case.pk}" if change_id is None else f"case:{case.pk}:{change_id}"
    contact_id = _case_contact_id(case)
    webhook_emit(  # the payload reads the contact: built only if an endpoint wants it
        project_id=case.project_id,
        event=event,
        subject=subject,
        contact_id=contact_id,
        data=lambda: case_payload(case),
        batch=batch,
    )
    if chat_event is not None:
        case_chat_notify(case, chat_event, subject=subject, contact_id=contact_id, batch=batch)
    if email_kind is not None:
        enqueue_case_email(case, email_kind)


def _case_contact_id(case: Case) -> int | None:
    """Whom a case is about: its contact, else the contact of the answer or message it came
    from (read only when the case does not say)."""
    if case.contact_id is not None:
        return case.contact_id
    if case.response_id is not None:
        return Response.objects.filter(pk=case.response_id).values_list("contact_id", flat=True)[0]
    if case.feedback_id is not None:
        return Feedback.objects.filter(pk=case.feedback_id).values_list("contact_id", flat=True)[0]
    return None


def visible_cases(*, project: Project, user: AbstractBaseUser | None, role: str):
    """Agents see their teams' cases and their own; other roles see the project's."""
    cases = Case.objects.filter(project=project)
    if role in FRONTLINE_ROLES and user is not None:
        return cases.filter(Q(team__memberships__user=user) | Q(assignee=user)).distinct()
    return cases


def assignees_by_name(project: Project, names: Iterable[str]) -> dict[str, AbstractBaseUser]:
    members = Membership.objects.filter(project=project).values_list("user_id", flat=True)
    users = get_user_model().objects.filter(pk__in=members, username__in=list(names))
    return {u.get_username(): u for u in users}
