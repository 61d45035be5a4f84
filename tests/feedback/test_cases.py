"""The closed loop through its services: rules open exactly one case, routing, the lifecycle
and its events, SLA escalation once, recovery, case e-mails, SLA and recovery figures."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from feedback.answering.batch import ResponseBatch
from feedback.answering.models import Feedback
from feedback.cases.models import AlertRule, Case, CaseEvent, CasePriority, CaseStatus
from feedback.cases.selectors import recovery_rate, sla_by_team
from feedback.cases.services import (
    CaseChange,
    case_assign,
    case_change,
    case_claim,
    cases_escalate_overdue,
    cases_open_for_feedback,
    cases_open_for_response,
    cases_recover_for_response,
)
from surveys.tenancy.models import Team, TeamMembership
from surveys.tenancy.services import project_create
from tests.factories import MembershipFactory, RootCauseFactory, UserFactory
from vocsite.errors import ApplicationError

pytestmark = pytest.mark.django_db


def events(case) -> list[tuple[str, str, str]]:
    return [(e.kind, e.from_value, e.to_value) for e in case.events.order_by("created_at", "pk")]


@pytest.fixture
def team(project):
    lead = UserFactory(username="lead", email="lead@care.example")
    MembershipFactory(user=lead, project=project, role="admin")
    team = Team.objects.create(project=project, name="Care", lead=lead, email="care@example.com")
    return team


def agents(project, team, *names):
    users = []
    for name in names:
        user = UserFactory(username=name)
        MembershipFactory(user=user, project=project, role="agent")
        TeamMembership.objects.create(team=team, user=user)
        users.append(user)
    return users


def test_new_projects_get_the_three_default_rules():
    project, _ = project_create(name="Fresh")
    rules = AlertRule.objects.filter(project=project).order_by("name")
    assert [
        (r.name, r.question_type, r.score_min, r.score_max, r.priority, r.sla_hours) for r in rules
    ] == [
        ("Hard effort CES (1–3 of 7)", "ces", 1, 3, "normal", 48),
        ("NPS detractor (0–6)", "nps", 0, 6, "high", 24),
        ("Unhappy CSAT (1–2 of 5)", "csat", 1, 2, "high", 24),
    ]


def test_a_detractor_opens_exactly_one_case_even_when_processed_again(respond, touchpoint):
    response = respond(3, "Delivery was slow")
    cases = list(Case.objects.filter(response=response))
    assert len(cases) == 1
    case = cases[0]
    assert case.rule.name == "NPS detractor (0–6)"
    assert case.title == f"NPS 3 · {touchpoint.name}"
    assert case.status == "new"
    assert case.priority == "high"
    assert case.due_at == response.finished_at + timedelta(hours=24)
    assert case.contact_id == response.contact_id
    assert events(case) == [("created", "", "new")]

    assert cases_open_for_response(response.pk) == []
    assert Case.objects.filter(response=response).count() == 1


def test_passives_and_promoters_open_no_case(respond):
    for score in (7, 8, 9, 10):
        respond(score)
    assert Case.objects.count() == 0


def test_an_urgent_keyword_rule_owns_the_one_case_and_the_score_rule_is_noted(project, respond):
    AlertRule.objects.create(
        project=project, name="Refunds", keywords=["退款", "refund"], priority="urgent", sla_hours=4
    )
    response = respond(2, "退款太慢了")
    (case,) = Case.objects.filter(response=response)
    assert (case.rule.name, case.priority) == ("Refunds", "urgent")
    assert [rule.name for rule in case.also_matched.all()] == ["NPS detractor (0–6)"]
    other = respond(4, "Price was high")
    assert list(Case.objects.filter(response=other).values_list("rule__name", flat=True)) == [
        "NPS detractor (0–6)"
    ]


def test_a_segment_rule_only_sees_its_customers(project, respond):
    AlertRule.objects.filter(project=project).update(is_active=False)
    AlertRule.objects.create(
        project=project, name="Pro", question_type="nps", score_max=6, segment={"plan": "pro"}
    )
    free = respond(1, user="free-user", attributes={"plan": "free"})
    pro = respond(1, user="pro-user", attributes={"plan": "pro"})
    assert Case.objects.filter(response=free).count() == 0
    assert Case.objects.filter(response=pro).count() == 1


def test_round_robin_takes_turns_in_a_stable_order(project, team, respond):
    agents(project, team, "ann", "bob", "cy")
    AlertRule.objects.filter(project=project).update(team=team, assignment="round_robin")
    for user in ("c1", "c2", "c3", "c4"):
        respond(2, user=user)
    assignees = list(Case.objects.order_by("pk").values_list("assignee__username", flat=True))
    assert assignees == ["ann", "bob", "cy", "ann"]
    first = Case.objects.order_by("pk").first()
    assert events(first) == [("created", "", "new"), ("assigned", "", "ann")]


def test_least_loaded_picks_the_agent_with_fewest_open_cases(project, team, respond):
    ann, _bob = agents(project, team, "ann", "bob")
    rule = AlertRule.objects.get(project=project, question_type="nps")
    rule.team = team
    rule.save()
    for user in ("c1", "c2"):
        respond(2, user=user)
    Case.objects.update(assignee=ann)
    rule.assignment = "least_loaded"
    rule.save()
    respond(2, user="c3")
    respond(2, user="c4")
    assert list(Case.objects.order_by("pk").values_list("assignee__username", flat=True)) == [
        "ann",
        "ann",
        "bob",
        "bob",
    ]


def test_lifecycle_records_every_step_and_guards_each_transition(
    project, team, respond, django_capture_on_commit_callbacks
):
    (agent,) = agents(project, team, "agent")
    AlertRule.objects.filter(project=project).update(team=team)
    case = Case.objects.get(response=respond(0))

    case = case_claim(case=case, actor=agent)
    assert (case.status, case.assignee_id) == ("in_progress", agent.pk)

    with pytest.raises(ApplicationError) as missing_method:
        case_change(case=case, actor=agent, change=CaseChange(status="contacted"))
    assert list(missing_method.value.fields) == ["contact_method"]

    case = case_change(
        case=case,
        actor=agent,
        change=CaseChange(status="contacted", contact_method="phone", note="Called, apologised."),
    )
    assert case.first_contacted_at is not None

    with pytest.raises(ApplicationError) as missing_cause:
        case_change(case=case, actor=agent, change=CaseChange(status="resolved"))
    assert list(missing_cause.value.fields) == ["root_cause"]
    assert Case.objects.get(pk=case.pk).status == "contacted"  # nothing changed

    case = case_change(
        case=case,
        actor=agent,
        change=CaseChange(
            status="resolved",
            root_cause=RootCauseFactory(project=case.project, name="Courier delay"),
            resolution_note="Refunded shipping",
        ),
    )
    assert case.resolved_at is not None
    case = case_change(case=case, actor=agent, change=CaseChange(status="closed"))
    assert case.closed_at is not None

    with pytest.raises(ApplicationError) as bad_jump:
        case_change(case=case, actor=agent, change=CaseChange(status="contacted"))
    assert bad_jump.value.fields == {"status": ["A closed case can become: reopened."]}

    case = case_change(case=case, actor=agent, change=CaseChange(status="reopened", note="Again"))
    assert (case.resolved_at, case.closed_at) == (None, None)
    assert case.due_at > timezone.now() + timedelta(hours=23)

    assert events(case) == [
        ("created", "", "new"),
        ("claimed", "", "agent"),
        ("contact_method", "", "phone"),
        ("status", "in_progress", "contacted"),
        ("root_cause", "", "Courier delay"),
        ("resolution_note", "", "Refunded shipping"),
        ("status", "contacted", "resolved"),
        ("status", "resolved", "closed"),
        ("status", "closed", "reopened"),
    ]
    status_events = CaseEvent.objects.filter(case=case, kind="status")
    assert [e.actor_id for e in status_events] == [agent.pk] * 4
    assert [e.note for e in status_events] == ["Called, apologised.", "", "", "Again"]


def test_a_plain_note_is_an_event_and_an_empty_change_is_none(project, respond):
    case = Case.objects.get(response=respond(4))
    case_change(case=case, actor=None, change=CaseChange(note="Customer prefers e-mail"))
    case_change(case=case, actor=None, change=CaseChange())
    assert events(case)[1:] == [("note", "", "")]
    assert case.events.last().note == "Customer prefers e-mail"


def test_only_team_agents_can_be_assigned(project, team, respond):
    (ann,) = agents(project, team, "ann")
    outsider = UserFactory(username="outsider")
    MembershipFactory(user=outsider, project=project, role="agent")
    AlertRule.objects.filter(project=project).update(team=team)
    case = Case.objects.get(response=respond(5))
    with pytest.raises(ApplicationError):
        case_assign(case=case, assignee=outsider, actor=None)
    case = case_assign(case=case, assignee=ann, actor=None)
    assert events(case)[-1] == ("assigned", "", "ann")


def test_overdue_cases_escalate_once_and_tell_the_team_lead(
    project, team, respond, mailoutbox, django_capture_on_commit_callbacks
):
    AlertRule.objects.filter(project=project).update(team=team, notify_email=False)
    case = Case.objects.get(response=respond(2))
    assert case.priority == CasePriority.HIGH
    later = case.due_at + timedelta(minutes=1)
    with time_machine.travel(later, tick=False), django_capture_on_commit_callbacks(execute=True):
        assert cases_escalate_overdue() == 1
        assert cases_escalate_overdue() == 0
    case.refresh_from_db()
    assert case.priority == CasePriority.URGENT
    assert case.overdue_at == later
    assert events(case)[-1] == ("escalated", "high", "urgent")
    assert [m.to for m in mailoutbox] == [["lead@care.example"]]
    assert mailoutbox[0].subject == f"[vocsite] Overdue case #{case.pk}: {case.title}"
    assert f"/app/cases/{case.pk}/" in mailoutbox[0].body


def test_resolved_cases_are_not_escalated(project, respond):
    case = Case.objects.get(response=respond(2))
    case_change(
        case=case,
        actor=None,
        change=CaseChange(
            status="resolved", root_cause=RootCauseFactory(project=case.project, name="x")
        ),
    )
    with time_machine.travel(case.due_at + timedelta(hours=1)):
        assert cases_escalate_overdue() == 0


def test_new_case_mails_the_team_inbox_with_the_answers_and_a_link(
    project, team, respond, mailoutbox, settings
):
    settings.VOCSITE_BASE_URL = "https://voc.example"
    AlertRule.objects.filter(project=project).update(team=team)
    response = respond(1, "Nobody answered my ticket <script>alert(1)</script>")
    case = Case.objects.get(response=response)
    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert mail.to == ["care@example.com"]
    assert mail.subject == f"[vocsite] New case #{case.pk}: {case.title}"
    assert f"https://voc.example/app/cases/{case.pk}/" in mail.body
    assert "Nobody answered my ticket" in mail.body
    html = mail.alternatives[0][0]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>" not in html


def test_a_case_nobody_can_receive_publishes_no_email_task(project, team, respond, broker):
    routed_nowhere = respond(2, user="a")  # default rules: no team
    ran = broker.work()
    case = Case.objects.get(response=routed_nowhere)
    assert (case.team_id, case.assignee_id) == (None, None)
    assert [task for task, _, _ in ran] == ["feedback.tasks.pipeline.process_response"]
    AlertRule.objects.filter(project=project).update(team=team)
    to_team = respond(3, user="b")
    ran = broker.work()
    case = Case.objects.get(response=to_team)
    assert ran == [
        ("feedback.tasks.pipeline.process_response", (to_team.pk,), {}),
        ("feedback.tasks.send_case_email", (case.pk,), {"kind": "created"}),
    ]


def test_assigning_to_someone_else_mails_them_but_claiming_does_not(
    project, team, respond, mailoutbox, django_capture_on_commit_callbacks
):
    ann, bob = agents(project, team, "ann", "bob")
    AlertRule.objects.filter(project=project).update(team=team, notify_email=False)
    case = Case.objects.get(response=respond(3))
    with django_capture_on_commit_callbacks(execute=True):
        case_claim(case=case, actor=ann)
    assert mailoutbox == []
    with django_capture_on_commit_callbacks(execute=True):
        case_assign(case=case, assignee=bob, actor=ann)
    assert [m.to for m in mailoutbox] == [["bob@example.com"]]


def test_a_closed_detractor_who_answers_happily_later_is_recovered(project, respond):
    first = respond(2, user="same")
    case = Case.objects.get(response=first)
    case_change(
        case=case,
        actor=None,
        change=CaseChange(
            status="closed", root_cause=RootCauseFactory(project=case.project, name="Bug")
        ),
    )
    respond(5, user="same")  # still a detractor: no recovery, a second case instead
    case.refresh_from_db()
    assert case.recovered is False
    happy = respond(8, user="same")
    case.refresh_from_db()
    assert (case.recovered, case.recovered_by_response_id) == (True, happy.pk)
    assert events(case)[-1] == ("recovered", "", "")
    assert recovery_rate(project=project).closed == 1
    assert recovery_rate(project=project).recovered == 1
    assert recovery_rate(project=project).rate == 100.0


def test_an_open_case_is_not_recovered_by_a_happy_answer(respond):
    case = Case.objects.get(response=respond(2, user="same"))
    respond(10, user="same")
    case.refresh_from_db()
    assert case.recovered is False


def test_recovery_asks_only_for_a_happy_answer_from_a_contact_with_a_closed_case(
    project, respond, django_assert_num_queries
):
    """Every finished response runs the recovery step. Its answers are looked at first (no
    query); only a happy answer asks, once per pipeline batch, which of the batch's contacts
    have a resolved or closed case, and only such a contact's answer reads its cases."""
    happy = respond(9, user="nobody-closed")
    batch = ResponseBatch.load([happy.pk])
    with django_assert_num_queries(1):  # the batch's contacts with a case to recover: none
        assert cases_recover_for_response(happy.pk, batch) == []
    unhappy = respond(3, user="nobody-closed-either")
    batch = ResponseBatch.load([unhappy.pk])
    with django_assert_num_queries(0):
        assert cases_recover_for_response(unhappy.pk, batch) == []
    case = Case.objects.get(response=respond(1, user="closed"))
    case_change(
        case=case,
        actor=None,
        change=CaseChange(
            status="closed", root_cause=RootCauseFactory(project=case.project, name="Bug")
        ),
    )
    later = respond(9, user="closed")
    Case.objects.filter(pk=case.pk).update(
        recovered=False, recovered_at=None, recovered_by_response=None
    )
    batch = ResponseBatch.load([happy.pk, later.pk])
    with django_assert_num_queries(1):  # one read for the batch: "nobody-closed" has none
        assert cases_recover_for_response(happy.pk, batch) == []
    assert [c.pk for c in cases_recover_for_response(later.pk, batch)] == [case.pk]
    case.refresh_from_db()
    assert (case.recovered, case.recovered_by_response_id) == (True, later.pk)


def test_unhappy_feedback_opens_a_case_through_an_opted_in_rule(
    project, django_capture_on_commit_callbacks
):
    AlertRule.objects.create(project=project, name="Unhappy feedback", applies_to_feedback=True)
    angry = Feedback.objects.create(
        project=project,
        submission_id="00000000-0000-0000-0000-000000000001",
        rating=1,
        text="Broken",
    )
    calm = Feedback.objects.create(
        project=project, submission_id="00000000-0000-0000-0000-000000000002", rating=4, text="Nice"
    )
    assert [c.title for c in cases_open_for_feedback(angry.pk)] == ["Feedback: Broken"]
    assert cases_open_for_feedback(angry.pk) == []
    assert cases_open_for_feedback(calm.pk) == []
    assert Case.objects.filter(feedback=angry).count() == 1


def test_sla_compliance_per_team(project, team, respond):
    AlertRule.objects.filter(project=project).update(team=team)
    met, late, open_overdue, open_in_time = (
        Case.objects.get(response=respond(2, user=f"c{i}")) for i in range(4)
    )
    case_change(
        case=met,
        actor=None,
        change=CaseChange(
            status="resolved", root_cause=RootCauseFactory(project=project, name="x")
        ),
    )
    with time_machine.travel(late.due_at + timedelta(hours=2)):
        case_change(
            case=late,
            actor=None,
            change=CaseChange(
                status="resolved", root_cause=RootCauseFactory(project=project, name="y")
            ),
        )
    Case.objects.filter(pk=open_overdue.pk).update(due_at=timezone.now() - timedelta(hours=1))
    (care,) = sla_by_team(project=project)
    assert (care.team, care.open, care.overdue, care.met, care.breached) == ("Care", 2, 1, 1, 2)
    assert care.compliance == 33.3
    assert Case.objects.get(pk=open_in_time.pk).status == CaseStatus.NEW
