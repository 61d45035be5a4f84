"""Recurring relationship surveys on the delivery side: a survey with `recurrence_days` asks each
contact again N days after their last display of it, in the widget and by e-mail alike, and the
global cooldown and the frequency cap still hold it back; decide pays no extra query for it."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.db import connection
from django.utils import timezone

from feedback.answering.services import AnswerIn, response_submit
from surveys.contacts.models import Contact, VisitorId
from surveys.delivery.email_surveys import invitation_send
from surveys.delivery.events import EventIn, event_record
from surveys.delivery.models import Display, Invitation
from tests.factories import ContactFactory, TouchpointFactory, published_survey, signed

pytestmark = pytest.mark.django_db

START = timezone.now().replace(microsecond=0)


def at(days: float):
    return time_machine.travel(START + timedelta(days=days), tick=False)


def decide(widget, project, touchpoint="checkout_completed", visitor="v-1", user_id=None):
    body = {"key": project.public_key, "visitor_id": visitor, "touchpoint": touchpoint}
    if user_id:
        body |= signed(project, user_id)
    return widget.post("/api/widget/v1/decide", body, format="json").json()


def answer(widget, project, reply, score=9):
    question = reply["survey"]["questions"][0]
    response = widget.post(
        "/api/widget/v1/responses",
        {
            "key": project.public_key,
            "display_id": reply["display_id"],
            "submission_id": str(uuid.uuid4()),
            "answers": [{"question_id": question["id"], "value": score}],
            "finished": True,
        },
        format="json",
    )
    assert response.status_code == 201


@pytest.fixture
def quarterly(project, touchpoint):
    """A relationship NPS asked until answered, and again 90 days after the last display."""
    return published_survey(project, touchpoints=[touchpoint], recurrence_days=90)


def test_the_widget_asks_again_at_n_days_not_at_n_minus_one(widget, project, quarterly):
    with at(0):
        first = decide(widget, project)
        assert first["show"] is True
        answer(widget, project, first)
    with at(89.99):
        assert decide(widget, project) == {"show": False, "reason": "already_responded"}
    with at(90):
        second = decide(widget, project)
        assert second["show"] is True
        assert second["survey"]["id"] == quarterly.pk
        answer(widget, project, second)
    with at(179):
        assert decide(widget, project) == {"show": False, "reason": "already_responded"}
    assert Display.objects.filter(survey=quarterly, status="responded").count() == 2


def test_a_one_off_survey_is_still_asked_once(widget, project, touchpoint):
    published_survey(project, touchpoints=[touchpoint])
    with at(0):
        answer(widget, project, decide(widget, project))
    with at(400):
        assert decide(widget, project) == {"show": False, "reason": "already_responded"}


def test_a_due_recurring_survey_waits_for_the_global_cooldown(widget, project, quarterly):
    elsewhere = TouchpointFactory(project=project, key="ticket_closed")
    published_survey(project, touchpoints=[elsewhere], name="Support CSAT")
    with at(0):
        answer(widget, project, decide(widget, project))
    with at(87):  # project.recontact_days is 7
        answer(widget, project, decide(widget, project, touchpoint="ticket_closed"))
    with at(90):
        assert decide(widget, project) == {"show": False, "reason": "global_cooldown"}
    with at(94):
        assert decide(widget, project)["show"] is True


def test_a_due_recurring_survey_respects_the_frequency_cap(widget, project, quarterly):
    project.recontact_days = 0
    project.frequency_cap = 1
    project.save()
    elsewhere = TouchpointFactory(project=project, key="ticket_closed")
    published_survey(project, touchpoints=[elsewhere], name="Support CSAT")
    with at(0):
        answer(widget, project, decide(widget, project))
    with at(70):  # 1 survey per 30 days
        answer(widget, project, decide(widget, project, touchpoint="ticket_closed"))
    with at(90):
        assert decide(widget, project) == {"show": False, "reason": "frequency_cap"}
    with at(100):
        assert decide(widget, project)["show"] is True


# ---------------------------------------------------------------- e-mail


@pytest.fixture
def customer(project):
    return ContactFactory(
        project=project, user_id="cust-1", email="cust1@example.com", language="en"
    )


def email_invite(project, event_id: str) -> Invitation:
    """An order event at the touchpoint, then the invitation's send (no delay)."""
    result = event_record(
        project=project,
        data=EventIn(event="checkout_completed", user_id="cust-1", event_id=event_id),
    )
    invitation_send(str(result.invitation_id))
    return Invitation.objects.get(pk=result.invitation_id)


def test_email_invitations_recur_at_n_days_too(project, touchpoint, customer):
    survey = published_survey(
        project, touchpoints=[touchpoint], channels=["email"], recurrence_days=90
    )
    with at(0):
        invitation = email_invite(project, "order-1")
        assert invitation.status == "sent"
        question = invitation.display.version.snapshot["questions"][0]
        response_submit(
            project=project,
            display=invitation.display,
            submission_id=uuid.uuid4(),
            answers=[AnswerIn(question["id"], 3)],
            finished=True,
        )
    with at(89.99):
        invitation = email_invite(project, "order-2")
        assert (invitation.status, invitation.skip_reason) == ("skipped", "already_responded")
    with at(90):
        invitation = email_invite(project, "order-3")
        assert (invitation.status, invitation.display.survey_id) == ("sent", survey.pk)
    assert len(mail.outbox) == 2


def test_an_email_in_a_due_week_holds_the_widget_back(widget, project, touchpoint, customer):
    """The e-mail claim counts in the same ledger: the widget's recurring survey waits for the
    global cooldown after it."""
    published_survey(project, touchpoints=[touchpoint], recurrence_days=90, channels=["widget"])
    mailed = TouchpointFactory(project=project, key="order_delivered")
    published_survey(project, touchpoints=[mailed], channels=["email"], name="Delivery CSAT")
    with at(0):
        answer(widget, project, decide(widget, project, visitor="v-cust", user_id="cust-1"))
    with at(88):
        result = event_record(
            project=project,
            data=EventIn(event="order_delivered", user_id="cust-1", event_id="order-9"),
        )
        assert invitation_send(str(result.invitation_id)) == "sent"
    with at(90):
        assert decide(widget, project, visitor="v-cust", user_id="cust-1") == {
            "show": False,
            "reason": "global_cooldown",
        }
    with at(95):
        assert decide(widget, project, visitor="v-cust", user_id="cust-1")["show"] is True


# ---------------------------------------------------------------- the hot path


def test_decide_for_a_recurring_survey_costs_the_same_queries(
    widget, project, quarterly, django_assert_max_num_queries
):
    """The figures of tests/surveys/test_widget_api.py's one-off survey, with 1 and with 200
    answered displays in older rounds: 6 queries for a refusal, and for a claim the same and
    its write (one statement on PostgreSQL, a savepoint with the UPDATE and the INSERT on
    SQLite)."""
    claim_statements = 1 if connection.vendor == "postgresql" else 4
    counts = {}
    for history in (1, 200):
        contact = Contact.objects.create(project=project, last_seen_at=timezone.now())
        VisitorId.objects.create(project=project, visitor_id=f"v-{history}", contact=contact)
        Display.objects.bulk_create(
            Display(
                project=project,
                contact=contact,
                survey=quarterly,
                version=quarterly.current_version,
                status="responded",
                claimed_at=timezone.now() - timedelta(days=100 * (i + 1)),
            )
            for i in range(history)
        )
        with django_assert_max_num_queries(6 + claim_statements) as shown:
            assert decide(widget, project, visitor=f"v-{history}")["show"] is True
        with django_assert_max_num_queries(6) as refused:
            reply = decide(widget, project, visitor=f"v-{history}")
            assert reply == {"show": False, "reason": "survey_cooldown"}
        counts[history] = (len(shown), len(refused))
    assert counts == {1: (6 + claim_statements, 6), 200: (6 + claim_statements, 6)}


# ---------------------------------------------------------------- the setting


@pytest.mark.parametrize(
    ("value", "status", "stored"),
    [(90, 200, 90), (None, 200, None), (0, 400, 30), (3651, 400, 30), ("often", 400, 30)],
)
def test_recurrence_days_through_the_management_api(
    server_client, project, touchpoint, value, status, stored
):
    survey = published_survey(project, touchpoints=[touchpoint], recurrence_days=30)
    reply = server_client.patch(
        f"/api/v1/surveys/{survey.pk}", {"recurrence_days": value}, format="json"
    )
    assert reply.status_code == status
    if status == 200:
        assert reply.json()["recurrence_days"] == stored
    else:
        assert list(reply.json()["error"]["fields"]) == ["recurrence_days"]
    survey.refresh_from_db()
    assert survey.recurrence_days == stored


def test_recurrence_needs_a_display_option_that_stops(server_client, project, touchpoint):
    survey = published_survey(project, touchpoints=[touchpoint], recurrence_days=90)
    reply = server_client.patch(
        f"/api/v1/surveys/{survey.pk}", {"display_option": "always"}, format="json"
    )
    assert reply.status_code == 400
    assert list(reply.json()["error"]["fields"]) == ["recurrence_days"]
    survey.refresh_from_db()
    assert (survey.display_option, survey.recurrence_days) == ("until_responded", 90)
