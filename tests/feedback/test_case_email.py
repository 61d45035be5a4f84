"""No case e-mail is lost quietly (issue 24).

A case title made from multi-line feedback put a line break into the e-mail subject; Django
refused the header and the case's e-mails (new, assigned, overdue) were never sent. Titles and
subjects are now one line, and an e-mail that cannot be built or sent is logged and shows on
the case's timeline."""

from __future__ import annotations

import smtplib
import uuid
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend
from rest_framework.test import APIClient

from feedback.cases.models import AlertRule, Case
from feedback.cases.notifications import case_email_send
from feedback.cases.services import case_assign, cases_escalate_overdue
from surveys.tenancy.invitations import member_invite
from surveys.tenancy.models import Team, TeamMembership
from tests.factories import MembershipFactory, UserFactory
from vocsite.mail import email_message, one_line

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_rate_counters")]

MULTI_LINE = "The checkout broke.\r\nI tried twice\n\n\tand\x0bgave up\x07 \u2028for good."
ONE_LINE = "The checkout broke. I tried twice and gave up for good."


@pytest.fixture
def team(project):
    lead = UserFactory(username="lead", email="lead@care.example")
    MembershipFactory(user=lead, project=project, role="admin")
    return Team.objects.create(project=project, name="Care", lead=lead, email="care@example.com")


@pytest.fixture
def rule(project, team):
    return AlertRule.objects.create(
        project=project, name="Unhappy feedback", applies_to_feedback=True, team=team
    )


@pytest.fixture
def send_feedback(project, django_capture_on_commit_callbacks):
    """Feedback through the widget API; the pipeline and e-mail tasks run (eager, on commit)."""

    def send(text: str, visitor: str = "v-1") -> Case:
        with django_capture_on_commit_callbacks(execute=True):
            reply = APIClient().post(
                "/api/widget/v1/feedback",
                {
                    "key": project.public_key,
                    "visitor_id": visitor,
                    "submission_id": str(uuid.uuid4()),
                    "rating": 1,
                    "text": text,
                },
                format="json",
                HTTP_ORIGIN="http://shop.example",
            )
        assert reply.status_code == 201, reply.json()
        return Case.objects.get(feedback_id=reply.json()["feedback_id"])

    return send


def failures(case: Case) -> list[str]:
    return list(case.events.filter(kind="email_failed").values_list("note", flat=True))


def test_multi_line_feedback_makes_a_one_line_title_and_every_case_email_arrives(
    project, team, rule, send_feedback, django_capture_on_commit_callbacks
):
    case = send_feedback(MULTI_LINE)
    assert case.title == f"Feedback: {ONE_LINE}"
    assert [(m.to, m.subject) for m in mail.outbox] == [
        (["care@example.com"], f"[vocsite] New case #{case.pk}: Feedback: {ONE_LINE}")
    ]

    ann = UserFactory(username="ann", email="ann@care.example")
    MembershipFactory(user=ann, project=project, role="agent")
    TeamMembership.objects.create(team=team, user=ann)
    with django_capture_on_commit_callbacks(execute=True):
        case_assign(case=case, assignee=ann, actor=None)
    with (
        time_machine.travel(case.due_at + timedelta(minutes=1), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert cases_escalate_overdue() == 1
    assert [(m.to, m.subject) for m in mail.outbox[1:]] == [
        (["ann@care.example"], f"[vocsite] Case #{case.pk} is yours: Feedback: {ONE_LINE}"),
        (
            ["lead@care.example", "ann@care.example"],
            f"[vocsite] Overdue case #{case.pk}: Feedback: {ONE_LINE}",
        ),
    ]
    assert failures(case) == []


def test_a_long_multi_line_title_is_cut_after_it_is_made_one_line(team, rule, send_feedback):
    case = send_feedback("\n".join(["word"] * 200))
    assert case.title == "Feedback: " + " ".join(["word"] * 24)  # the first 120 characters
    assert "\n" not in mail.outbox[0].subject


def test_a_recipient_address_django_refuses_shows_on_the_case(team, rule, send_feedback):
    Team.objects.filter(pk=team.pk).update(email="care@example.com\nBcc: all@example.com")
    case = send_feedback("Broken")
    assert mail.outbox == []
    (note,) = failures(case)
    assert note.startswith(
        "The new-case e-mail to care@example.com\nBcc: all@example.com was not sent: "
        "it could not be built ("
    )


class RefusingBackend(BaseEmailBackend):
    """A mail server that refuses every recipient for good."""

    def send_messages(self, messages):
        raise smtplib.SMTPRecipientsRefused({"care@example.com": (550, b"No such user")})


class UnreachableBackend(BaseEmailBackend):
    """A mail server that never answers; counts the attempts."""

    attempts = 0

    def send_messages(self, messages):
        UnreachableBackend.attempts += 1
        raise ConnectionRefusedError(111, "Connection refused")


class BusyOnceBackend(LocmemBackend):
    """A mail server that answers 451 (try later) once, then accepts."""

    busy = True

    def send_messages(self, messages):
        if BusyOnceBackend.busy:
            BusyOnceBackend.busy = False
            raise smtplib.SMTPDataError(451, b"Try again later")
        return super().send_messages(messages)


def test_a_mail_server_refusing_the_recipient_shows_on_the_case(
    team, rule, send_feedback, settings
):
    settings.EMAIL_BACKEND = f"{__name__}.RefusingBackend"
    case = send_feedback("Broken")
    assert failures(case) == [
        "The new-case e-mail to care@example.com was not sent: "
        "the mail server refused the recipient address."
    ]
    assert case.title == "Feedback: Broken"


def test_an_unreachable_mail_server_shows_on_the_case(team, rule, send_feedback, settings):
    """In-process tasks (embedded mode) have no later attempt: the first failure is recorded."""
    settings.EMAIL_BACKEND = f"{__name__}.UnreachableBackend"
    UnreachableBackend.attempts = 0
    case = send_feedback("Broken")
    assert UnreachableBackend.attempts == 1
    assert failures(case) == [
        "The new-case e-mail to care@example.com was not sent: "
        "the mail server could not be reached."
    ]


@pytest.fixture
def quiet_case(rule, send_feedback) -> Case:
    """A case whose e-mail has not been sent yet: a worker's attempts are made one by one."""
    AlertRule.objects.filter(pk=rule.pk).update(notify_email=False)
    case = send_feedback("Broken")
    assert mail.outbox == []
    return case


def test_a_worker_retries_an_unreachable_server_and_records_its_last_attempt(quiet_case, settings):
    settings.EMAIL_BACKEND = f"{__name__}.UnreachableBackend"
    with pytest.raises(ConnectionRefusedError):  # the task retries it later, with backoff
        case_email_send(case_id=quiet_case.pk, kind="created", last_attempt=False)
    assert failures(quiet_case) == []
    assert case_email_send(case_id=quiet_case.pk, kind="created", last_attempt=True) == 0
    assert failures(quiet_case) == [
        "The new-case e-mail to care@example.com was not sent: "
        "the mail server could not be reached."
    ]


def test_a_temporary_refusal_is_retried_and_the_email_arrives(quiet_case, settings):
    settings.EMAIL_BACKEND = f"{__name__}.BusyOnceBackend"
    BusyOnceBackend.busy = True
    with pytest.raises(smtplib.SMTPDataError):
        case_email_send(case_id=quiet_case.pk, kind="created", last_attempt=False)
    assert case_email_send(case_id=quiet_case.pk, kind="created", last_attempt=False) == 1
    assert [m.subject for m in mail.outbox] == [
        f"[vocsite] New case #{quiet_case.pk}: Feedback: Broken"
    ]
    assert failures(quiet_case) == []


def test_a_temporary_refusal_on_the_last_attempt_shows_on_the_case(quiet_case, settings):
    settings.EMAIL_BACKEND = f"{__name__}.BusyOnceBackend"
    BusyOnceBackend.busy = True
    assert case_email_send(case_id=quiet_case.pk, kind="created", last_attempt=True) == 0
    assert failures(quiet_case) == [
        "The new-case e-mail to care@example.com was not sent: "
        "the mail server refused it (451 Try again later)."
    ]


def test_the_case_page_shows_the_failure_in_words(
    project, team, rule, send_feedback, settings, client
):
    settings.EMAIL_BACKEND = f"{__name__}.RefusingBackend"
    case = send_feedback("Broken")
    admin = UserFactory(username="boss")
    MembershipFactory(user=admin, project=project, role="admin")
    client.force_login(admin)
    page = client.get(f"/app/cases/{case.pk}/").content.decode()
    assert "E-mail not sent" in page
    assert "the mail server refused the recipient address." in page


def test_a_staff_invitation_subject_is_one_line(project, django_capture_on_commit_callbacks):
    project.name = "Acme\r\nBcc: everyone@example.com"
    project.save(update_fields=["name"])
    with django_capture_on_commit_callbacks(execute=True):
        member_invite(project=project, email="new@example.com", role="viewer", base_url="/")
    assert [(m.to, m.subject) for m in mail.outbox] == [
        (["new@example.com"], "[vocsite] You are invited to Acme Bcc: everyone@example.com")
    ]


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("a\nb", "a b"),
        ("  a \r\n\t b  ", "a b"),
        ("a\x00b\x1bc\x7fd\x85e", "abcd e"),
        ("a\u2028b\u00a0c", "a b c"),
        ("plain", "plain"),
    ],
)
def test_one_line(text, line):
    assert one_line(text, 200) == line
    assert email_message(subject=text, body="", to=["a@example.com"]).subject == line
