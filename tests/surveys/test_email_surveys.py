"""E-mail surveys end to end: an event at a touchpoint invites by e-mail after the delay; the
throttle ledger governs e-mail too; one click pre-selects the first answer (the page's POST
stores it, tests/surveys/test_hosted_links.py); the hosted page
(no JavaScript) completes the rest in the person's language; links are signed and expire;
unsubscribe opts the person out. Events are idempotent and move the contact's lifecycle."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.utils import timezone

from feedback.answering.models import Response
from surveys.contacts.models import Contact, OperationalEvent
from surveys.delivery.email_surveys import invitation_send, invitations_due
from surveys.delivery.events import EventIn, event_record
from surveys.delivery.ledger import contact_resolve, display_claim, display_mark_shown
from surveys.delivery.models import Invitation
from surveys.delivery.tasks import send_due_invitations
from surveys.design.services import QuestionIn
from surveys.journey.services import stage_update
from tests.factories import ContactFactory, TouchpointFactory, published_survey

pytestmark = pytest.mark.django_db


@pytest.fixture
def email_survey(project, touchpoint):
    project.languages = ["en", "zh"]
    project.save()
    return published_survey(
        project,
        touchpoints=[touchpoint],
        channels=["email", "widget"],
        delay_seconds=3600,
        recontact_days=30,
    )


@pytest.fixture
def customer(project):
    return ContactFactory(
        project=project, user_id="cust-1", email="cust1@example.com", language="en"
    )


def _event(project, *, user="cust-1", event="checkout_completed", **extra):
    return event_record(project=project, data=EventIn(event=event, user_id=user, **extra))


def _links(message) -> dict[str, str]:
    urls = re.findall(r"http://\S+", message.body)
    return {
        "scores": [u for u in urls if "?score=" in u],
        "page": next(u for u in urls if "/s/" in u and "score" not in u),
        "unsubscribe": next(u for u in urls if "/u/" in u),
    }


def _path(url: str) -> str:
    return re.sub(r"^http://[^/]+", "", url)


def test_event_invites_after_the_delay_and_one_click_answers(
    project, email_survey, customer, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        result = _event(project, event_id="order-77")
    invitation = Invitation.objects.get(pk=result.invitation_id)
    assert invitation.status == "scheduled"
    assert mail.outbox == []  # not before the survey's delay (eager task came too early)
    with time_machine.travel(timezone.now() + timedelta(hours=1, minutes=1)):
        assert send_due_invitations() == 1
    invitation.refresh_from_db()
    assert invitation.status == "sent" and invitation.display.status == "shown"
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["cust1@example.com"]
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    links = _links(message)
    assert len(links["scores"]) == 11  # NPS 0..10, each a link

    client = Client()
    reply = client.get(_path(links["scores"][3]))  # the person clicks "3": shown, not stored
    assert reply.status_code == 200 and 'value="3" checked' in reply.content.decode()
    assert not Response.objects.filter(display=invitation.display).exists()
    first_id = email_survey.current_version.snapshot["questions"][0]["id"]
    sent = {"step": "first", "source": "email_click", f"q{first_id}": "3"}
    assert client.post(_path(links["page"]), sent).status_code == 302  # the page's script
    response = Response.objects.get(display=invitation.display)
    assert (response.finished, response.channel) == (False, "email")
    assert response.answers.get().value_int == 3
    client.post(_path(links["page"]), sent)  # sent again: still one response
    page = client.get(_path(links["page"])).content.decode()
    assert 'value="3" checked' in page and "What could we do better?" in page
    done = client.post(
        _path(links["page"]),
        {f"q{response.answers.get().question_id}": "3", **_text_field(email_survey, "Too slow")},
    )
    assert "Thank you" in done.content.decode()
    response.refresh_from_db()
    assert response.finished is True
    assert sorted((a.question_type, a.value_int, a.value_text) for a in response.answers.all()) == [
        ("nps", 3, ""),
        ("text", None, "Too slow"),
    ]
    assert Response.objects.filter(display=invitation.display).count() == 1


def _text_field(survey, text: str) -> dict:
    question = survey.current_version.snapshot["questions"][1]
    return {f"q{question['id']}": text}


def test_same_event_id_twice_is_one_event_and_one_invitation(
    project, email_survey, customer, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        first = _event(project, event_id="e-1", revenue=Decimal("12.50"))
        second = _event(project, event_id="e-1", revenue=Decimal("12.50"))
    assert first.created and not second.created and first.event.pk == second.event.pk
    assert OperationalEvent.objects.filter(project=project).count() == 1
    assert Invitation.objects.filter(project=project).count() == 1
    customer.refresh_from_db()
    assert customer.revenue_total == Decimal("12.50")


def test_someone_surveyed_in_the_app_yesterday_gets_no_email_today(project, email_survey, customer):
    """The ledger is one for all channels: an in-app survey yesterday (another survey, at
    another touchpoint) holds today's e-mail back by the project's global cooldown."""
    product = TouchpointFactory(project=project, key="product_viewed")
    published_survey(project, touchpoints=[product], name="In-app NPS")
    with time_machine.travel(timezone.now() - timedelta(days=1)):
        shown = display_claim(project=project, contact=customer, touchpoint_key=product.key)
        display_mark_shown(display=shown.display)
    assert project.recontact_days > 1
    _event(project)
    invitation = Invitation.objects.get(contact=customer)
    with time_machine.travel(timezone.now() + timedelta(hours=2)):
        assert invitation_send(str(invitation.pk)) == "skipped"
    invitation.refresh_from_db()
    assert invitation.skip_reason == "global_cooldown"
    assert invitation.display is None
    assert mail.outbox == []


def test_unsubscribe_opts_out_and_later_invitations_are_skipped(project, email_survey, customer):
    _event(project, event_id="a")
    with time_machine.travel(timezone.now() + timedelta(hours=2)):
        send_due_invitations()
    link = _path(_links(mail.outbox[0])["unsubscribe"])
    client = Client()
    assert "Unsubscribe" in client.get(link).content.decode()
    assert customer.opted_out_at is None
    reply = client.post(link)
    assert "You will not receive survey e-mails" in reply.content.decode()
    customer.refresh_from_db()
    assert customer.opted_out_at is not None
    assert _event(project, event_id="b").invitation_id is None  # no more invitations


def test_links_are_signed_and_expire(project, email_survey, customer):
    _event(project)
    with time_machine.travel(timezone.now() + timedelta(hours=2)):
        send_due_invitations()
    page = _path(_links(mail.outbox[0])["page"])
    client = Client()
    assert client.get(page[:-3] + "xx/").status_code == 404  # tampered
    with time_machine.travel(timezone.now() + timedelta(days=15)):
        expired = client.get(page)
    assert expired.status_code == 410
    assert "expired" in expired.content.decode()


def test_hosted_page_speaks_chinese_and_works_step_by_step(project, email_survey):
    ContactFactory(project=project, user_id="zh-1", email="zh@example.com", language="zh")
    _event(project, user="zh-1")
    with time_machine.travel(timezone.now() + timedelta(hours=2)):
        send_due_invitations()
    message = mail.outbox[0]
    assert message.subject.endswith("想听听您的意见")
    page = _path(_links(message)["page"])
    client = Client()
    first = client.get(page).content.decode()
    assert "您推荐我们的可能性有多大？" in first and "下一步" in first
    question_id = email_survey.current_version.snapshot["questions"][0]["id"]
    missing = client.post(page, {})
    assert missing.status_code == 422 and "请回答此问题。" in missing.content.decode()
    nine = client.post(page, {f"q{question_id}": "9"})  # a promoter: no follow-up question
    assert "谢谢" in nine.content.decode()
    assert Response.objects.get(contact__user_id="zh-1").finished is True


def test_events_move_the_lifecycle(project):
    contact = contact_resolve(project=project, visitor_id=None, user_id="life-1")
    _event(project, user="life-1", event="order_placed", revenue=Decimal("20"))
    _event(project, user="life-1", event="subscription_cancelled")
    contact.refresh_from_db()
    assert (contact.lifecycle, contact.revenue_total) == ("churned", Decimal("20.00"))
    assert contact.churned_at is not None
    _event(project, user="life-1", event="subscription_started")
    contact.refresh_from_db()
    assert (contact.lifecycle, contact.churned_at) == ("active", None)
    assert Contact.objects.filter(project=project).count() == 1


def test_invitations_due_lists_only_scheduled_past_their_time(project, email_survey, customer):
    _event(project)
    assert invitations_due() == []
    with time_machine.travel(timezone.now() + timedelta(hours=2)):
        assert len(invitations_due()) == 1


def test_a_ces_published_without_its_scale_is_asked_on_1_to_7_by_email_and_on_the_page(
    project, touchpoint, customer
):
    """A CES question's default scale is 1–7 everywhere (surveys.design.scales): the e-mail's
    score links and the hosted page read it there when a snapshot carries no scale."""
    survey = published_survey(
        project,
        touchpoints=[touchpoint],
        channels=["email"],
        questions=[QuestionIn(type="ces", text={"en": "It was easy to order."})],
    )
    version = survey.current_version
    assert version.snapshot["questions"][0]["scale"] == {"min": 1, "max": 7}
    del version.snapshot["questions"][0]["scale"]  # as a version stored without its scale
    version.save(update_fields=["snapshot"])
    _event(project)
    with time_machine.travel(timezone.now() + timedelta(minutes=1)):
        assert send_due_invitations() == 1
    links = _links(mail.outbox[0])
    assert [url.rsplit("=", 1)[1] for url in links["scores"]] == ["1", "2", "3", "4", "5", "6", "7"]
    page = Client().get(_path(links["page"])).content.decode()
    question_id = version.snapshot["questions"][0]["id"]
    assert re.findall(rf'name="q{question_id}" value="(\d+)"', page) == [
        "1",
        "2",
        "3",
        "4",
        "5",
        "6",
        "7",
    ]


def test_email_and_widget_pick_the_same_survey_among_several(project, touchpoint, customer):
    """Equal priority: the oldest survey wins on every channel (surveys.delivery.throttle
    .preference), even when it has the higher id; a higher priority beats age."""
    newer = published_survey(project, touchpoints=[touchpoint], channels=["email", "widget"])
    with time_machine.travel(timezone.now() - timedelta(days=30)):
        older = published_survey(project, touchpoints=[touchpoint], channels=["email", "widget"])
    assert older.pk > newer.pk and older.created_at < newer.created_at
    invitation = Invitation.objects.get(pk=_event(project).invitation_id)
    widget = display_claim(project=project, contact=customer, touchpoint_key=touchpoint.key)
    assert (invitation.survey_id, widget.survey.pk) == (older.pk, older.pk)

    urgent = published_survey(
        project, touchpoints=[touchpoint], channels=["email", "widget"], priority=5
    )
    other = ContactFactory(project=project, user_id="cust-2", email="cust2@example.com")
    invitation = Invitation.objects.get(pk=_event(project, user="cust-2").invitation_id)
    widget = display_claim(project=project, contact=other, touchpoint_key=touchpoint.key)
    assert (invitation.survey_id, widget.survey.pk) == (urgent.pk, urgent.pk)


def test_no_invitation_at_a_touchpoint_of_a_retired_stage_until_it_is_restored(
    project, email_survey, customer, touchpoint
):
    stage_update(stage=touchpoint.stage, retired=True)
    assert _event(project, event_id="while-retired").invitation_id is None
    stage_update(stage=touchpoint.stage, retired=False)
    invitation = Invitation.objects.get(pk=_event(project, event_id="restored").invitation_id)
    assert (invitation.survey_id, invitation.contact_id) == (email_survey.pk, customer.pk)
