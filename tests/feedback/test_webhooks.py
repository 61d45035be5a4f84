"""Webhooks against a real HTTP receiver on 127.0.0.1: the receiver verifies every signature
with the Standard Webhooks library; failures back off with jitter; everything is logged;
failed deliveries are replayed; every call has a timeout."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from feedback.answering.models import Feedback
from feedback.answering.pipeline import feedback_process
from feedback.cases.models import Case
from feedback.cases.services import CaseChange, case_change, cases_escalate_overdue
from feedback.webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from feedback.webhooks.services import (
    retry_delay,
    webhook_deliver,
    webhook_emit,
    webhook_endpoint_create,
    webhook_replay,
    webhooks_for_response,
    webhooks_retry_due,
)
from vocsite.errors import ApplicationError

pytestmark = pytest.mark.django_db


def test_a_detractor_sends_response_finished_and_case_created_signed(
    project, endpoint, receiver, respond
):
    response = respond(2, "Slow delivery")
    case = Case.objects.get(response=response)
    assert [r["verified"] for r in receiver.received] == [True, True]
    by_type = {r["payload"]["type"]: r for r in receiver.received}
    assert set(by_type) == {"case.created", "response.finished"}
    finished = by_type["response.finished"]["payload"]
    assert finished["data"]["response"]["id"] == response.pk
    assert [a["value"] for a in finished["data"]["response"]["answers"]] == [2, "Slow delivery"]
    created = by_type["case.created"]
    assert created["payload"]["data"]["case"]["id"] == case.pk
    assert created["payload"]["data"]["case"]["status"] == "new"
    delivery = WebhookDelivery.objects.get(event="case.created")
    assert created["headers"]["webhook-id"] == str(delivery.pk)
    assert created["payload"]["id"] == str(delivery.pk)
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("succeeded", 1, 200)
    assert [(a.number, a.status_code, a.error) for a in delivery.log.all()] == [(1, 200, "")]


def test_a_tampered_body_fails_verification(endpoint, receiver):
    headers = {
        "webhook-id": "msg_1",
        "webhook-timestamp": str(int(time.time())),
        "webhook-signature": Webhook(endpoint.secret).sign(
            "msg_1", timezone.now(), '{"amount": 1}'
        ),
    }
    assert Webhook(endpoint.secret).verify('{"amount": 1}', headers) == {"amount": 1}
    with pytest.raises(WebhookVerificationError):
        Webhook(endpoint.secret).verify('{"amount": 100}', headers)


def test_processing_twice_delivers_once(endpoint, receiver, respond):
    response = respond(9)
    assert webhooks_for_response(response.pk) == 0
    assert WebhookDelivery.objects.filter(event="response.finished").count() == 1
    assert len(receiver.received) == 1


def test_case_updates_and_overdue_are_sent(project, endpoint, receiver, respond, delivered):
    case = Case.objects.get(response=respond(1))
    with delivered():
        case_change(case=case, actor=None, change=CaseChange(status="in_progress"))
    with delivered():
        case_change(case=case, actor=None, change=CaseChange(note="left a voicemail"))
    with time_machine.travel(case.due_at + timedelta(minutes=5)), delivered():
        cases_escalate_overdue()
    types = [r["payload"]["type"] for r in receiver.received]
    assert types.count("case.updated") == 2
    assert types[-1] == "case.overdue"
    overdue = receiver.received[-1]["payload"]["data"]["case"]
    assert (overdue["overdue"], overdue["priority"]) == (True, "urgent")
    assert all(r["verified"] for r in receiver.received)


def test_feedback_created_is_sent(project, endpoint, receiver, delivered):
    feedback = Feedback.objects.create(
        project=project,
        submission_id="00000000-0000-0000-0000-0000000000aa",
        text="The app logs me out",
        rating=2,
    )
    with delivered():
        feedback_process(feedback.pk)
    (received,) = [r for r in receiver.received if r["payload"]["type"] == "feedback.created"]
    assert received["payload"]["data"]["feedback"]["text"] == "The app logs me out"


def test_failures_back_off_with_jitter_then_succeed(project, endpoint, receiver, delivered):
    receiver.statuses = [500, 503]
    with delivered():
        webhook_emit(
            project_id=project.pk,
            event="case.created",
            subject="s1",
            contact_id=None,
            data={"x": 1},
        )
    delivery = WebhookDelivery.objects.get(subject="s1")
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("pending", 1, 500)
    first_wait = delivery.next_attempt_at - delivery.log.get().created_at
    assert timedelta(seconds=14) < first_wait <= timedelta(seconds=30)

    assert webhooks_retry_due() == 0  # not due yet
    with time_machine.travel(delivery.next_attempt_at + timedelta(seconds=1)):
        assert webhooks_retry_due() == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("pending", 2, 503)
    with time_machine.travel(delivery.next_attempt_at + timedelta(seconds=1)):
        assert webhooks_retry_due() == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("succeeded", 3)
    assert [a.status_code for a in delivery.log.all()] == [500, 503, 200]
    assert len({r["headers"]["webhook-id"] for r in receiver.received}) == 1  # same id each time


def test_backoff_grows_exponentially_with_jitter_and_is_capped(settings):
    settings.WEBHOOK_RETRY_BASE_SECONDS = 30
    settings.WEBHOOK_RETRY_MAX_SECONDS = 3600
    for attempt, full in [(1, 30), (2, 60), (3, 120), (8, 3600), (20, 3600)]:
        delays = {retry_delay(attempt).total_seconds() for _ in range(50)}
        assert all(full / 2 <= d <= full for d in delays)
        assert len(delays) > 1  # jittered, not one fixed value


def test_exhausted_deliveries_fail_and_a_replay_sends_them_again(
    project, endpoint, receiver, delivered, settings
):
    settings.WEBHOOK_MAX_ATTEMPTS = 2
    receiver.statuses = [500, 500]
    with delivered():
        webhook_emit(
            project_id=project.pk, event="case.created", subject="s2", contact_id=None, data={}
        )
    delivery = WebhookDelivery.objects.get(subject="s2")
    with time_machine.travel(delivery.next_attempt_at + timedelta(seconds=1)):
        webhooks_retry_due()
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == ("failed", 2, None)

    with delivered():
        webhook_replay(delivery=delivery)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("succeeded", 1)
    assert [(a.number, a.status_code, a.replay) for a in delivery.log.all()] == [
        (1, 500, False),
        (2, 500, False),
        (3, 200, True),
    ]


def test_a_slow_receiver_times_out_and_is_retried(project, endpoint, receiver, delivered, settings):
    settings.WEBHOOK_READ_TIMEOUT = 0.3
    receiver.delay = 1.0
    with delivered():
        webhook_emit(
            project_id=project.pk, event="case.created", subject="s3", contact_id=None, data={}
        )
    delivery = WebhookDelivery.objects.get(subject="s3")
    assert delivery.status == "pending"
    assert delivery.last_error == "Timed out after 0.3 s"
    assert delivery.last_duration_ms < 1000


def test_a_claimed_delivery_is_not_sent_twice_at_once(project, endpoint, receiver):
    webhook_emit(
        project_id=project.pk, event="case.created", subject="s4", contact_id=None, data={}
    )
    delivery = WebhookDelivery.objects.get(subject="s4")
    assert webhook_deliver(str(delivery.pk)) == DeliveryStatus.SUCCEEDED
    assert webhook_deliver(str(delivery.pk)) == DeliveryStatus.SUCCEEDED
    assert len(receiver.received) == 1


def test_private_targets_are_refused_when_not_allowed(project, endpoint, receiver, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False
    webhook_emit(
        project_id=project.pk, event="case.created", subject="s5", contact_id=None, data={}
    )
    delivery = WebhookDelivery.objects.get(subject="s5")
    assert webhook_deliver(str(delivery.pk)) == DeliveryStatus.FAILED
    delivery.refresh_from_db()
    assert delivery.last_error == "Target address 127.0.0.1 is not allowed"
    assert receiver.received == []


def test_only_subscribed_active_endpoints_get_an_event(project, receiver):
    quiet = webhook_endpoint_create(project=project, url=receiver.url, events=["case.overdue"])
    paused = webhook_endpoint_create(project=project, url=receiver.url, events=["case.created"])
    WebhookEndpoint.objects.filter(pk=paused.pk).update(is_active=False)
    assert (
        webhook_emit(
            project_id=project.pk, event="case.created", subject="s6", contact_id=None, data={}
        )
        == 0
    )
    assert quiet.deliveries.count() == 0


def test_endpoint_validation(project):
    with pytest.raises(ApplicationError) as error:
        webhook_endpoint_create(project=project, url="ftp://x.example", events=["nope"])
    assert set(error.value.fields) == {"url", "events"}
    assert WebhookEndpoint.objects.count() == 0


def test_the_secret_is_a_standard_webhooks_secret(endpoint):
    assert endpoint.secret.startswith("whsec_")
    Webhook(endpoint.secret)  # decodes as base64
