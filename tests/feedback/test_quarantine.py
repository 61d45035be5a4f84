"""A processing step that fails does not stop the others (for that answer, or the rest of its
batch); an answer that keeps failing is quarantined, shown to admins, left alone by the
sweeper, and run again by `manage.py replay_quarantined` once the cause is fixed.

The failure comes from public configuration: an alert rule saved in the Django admin with a
segment that is a JSON list (the matcher reads a mapping), so opening cases raises for every
answer of the project while tagging, rollups and webhooks keep working."""

from __future__ import annotations

import io
import uuid
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db.models import Sum
from django.test import Client
from django.utils import timezone

from feedback.answering import pipeline
from feedback.answering.models import Feedback, ProcessingFailure, Response
from feedback.answering.tasks import process_responses
from feedback.cases.models import AlertRule, Case
from feedback.cases.services import alert_rules_install_defaults
from feedback.topics.models import Tag
from feedback.topics.services import TopicIn, topic_save
from feedback.webhooks.models import WebhookDelivery
from feedback.webhooks.services import webhook_endpoint_create
from metrics.rollups.models import Rollup
from surveys.contacts.models import Contact
from surveys.tenancy.models import Membership
from tests.factories import (
    ProjectFactory,
    TouchpointFactory,
    UserFactory,
    answered,
    published_survey,
)

pytestmark = pytest.mark.django_db

CASES_STEP = "feedback.cases.services.cases_open_for_response"
BROKEN = "AttributeError: 'list' object has no attribute 'items'"


def _survey(project):
    project.recontact_days = 0
    project.save()
    alert_rules_install_defaults(project=project)  # as project_create does
    touchpoint = TouchpointFactory(project=project, key="checkout_completed")
    return published_survey(
        project, touchpoints=[touchpoint], display_option="always", recontact_days=0
    )


@pytest.fixture
def answer(survey):
    """A finished NPS answer with a comment, committed; no processing ran yet."""

    def submit(score: int = 3, user: str = "u-1", on=None) -> Response:
        return answered(on or survey, score, "I want a refund", user_id=user, processed=False)

    return submit


@pytest.fixture
def superuser(project):
    user = UserFactory(username="root", is_staff=True, is_superuser=True)
    Membership.objects.create(user=user, project=project, role="admin")
    client = Client()
    client.force_login(user)
    return client


def _rule_form(project, segment: str) -> dict:
    return {
        "project": project.pk,
        "name": "Refunds on the pro plan",
        "is_active": "on",
        "question_type": "",
        "score_min": "",
        "score_max": "",
        "keywords": '["refund"]',
        "segment": segment,
        "priority": "normal",
        "team": "",
        "assignment": "none",
        "sla_hours": "48",
        "notify_email": "",
        "notify_webhook": "on",
        "created_at_0": "2026-01-01",
        "created_at_1": "09:00:00",
    }


@pytest.fixture
def broken_rule(project, superuser):
    reply = superuser.post("/admin/feedback/alertrule/add/", _rule_form(project, '["plan"]'))
    assert reply.status_code == 302, reply.context["adminform"].form.errors
    return AlertRule.objects.get(name="Refunds on the pro plan")


@pytest.fixture
def configured(project, survey):
    """A topic that tags the comment and an endpoint that wants every finished response."""
    topic_save(project=project, data=TopicIn(name="Refunds", keywords=["refund"], exclusions=[]))
    webhook_endpoint_create(
        project=project, url="https://hooks.example/voc", events=["response.finished"]
    )


def sweep() -> int:
    """The periodic sweeper, as if its two minutes had passed (tasks run eagerly)."""
    return pipeline.responses_sweep(now=timezone.now() + timedelta(minutes=3))


def counted(survey) -> int:
    cells = Rollup.objects.filter(survey=survey, breakdown_attribute="")
    return cells.aggregate(n=Sum("count"))["n"] or 0


def test_a_failing_step_leaves_the_others_done_and_the_answer_quarantined_after_its_budget(
    project, survey, answer, configured, broken_rule, superuser
):
    response = answer(score=3)
    assert sweep() == 1  # the first run
    response.refresh_from_db()
    # every other step ran: counted, tagged, the customer's last NPS, the webhook
    assert counted(survey) == 1
    assert Tag.objects.filter(answer__response=response, topic__name="Refunds").count() == 1
    assert Contact.objects.get(project=project, user_id="u-1").last_nps == 3
    assert WebhookDelivery.objects.filter(event="response.finished").count() == 1
    # the failed one is recorded, and the answer waits for another run
    assert Case.objects.count() == 0
    assert response.rolled_up_at is not None and response.processed_at is None
    failure = ProcessingFailure.objects.get(response=response)
    assert (failure.project_id, failure.attempts, failure.steps, failure.quarantined_at) == (
        project.pk,
        1,
        {CASES_STEP: BROKEN},
        None,
    )
    assert failure.reason == f"{CASES_STEP}: {BROKEN}"

    for attempt in range(2, pipeline.PROCESSING_MAX_ATTEMPTS + 1):
        assert sweep() == 1
        failure.refresh_from_db()
        assert failure.attempts == attempt
    assert failure.quarantined_at is not None
    assert sweep() == 0  # the sweeper stops retrying it
    assert pipeline.response_process(response.pk) is False  # a stale message does nothing
    failure.refresh_from_db()
    assert failure.attempts == pipeline.PROCESSING_MAX_ATTEMPTS
    # steps that ran five times did their work once
    assert counted(survey) == 1
    assert WebhookDelivery.objects.filter(event="response.finished").count() == 1
    assert Tag.objects.filter(answer__response=response).count() == 1

    # admins see it: in the Django admin and on the webhooks page
    listed = superuser.get("/admin/feedback/processingfailure/?quarantined_at__isnull=False")
    assert listed.status_code == 200
    assert f"Processing of response {response.pk}: quarantined" in listed.content.decode()
    page = superuser.get("/app/webhooks/").content.decode()
    assert "Answer processing: 1 answer or message quarantined" in page

    # the cause fixed (the segment a mapping), a replay finishes the job
    fixed = superuser.post(
        f"/admin/feedback/alertrule/{broken_rule.pk}/change/", _rule_form(project, "{}")
    )
    assert fixed.status_code == 302
    out = io.StringIO()
    call_command("replay_quarantined", stdout=out)
    assert out.getvalue() == "Replayed 1: 1 processed, 0 still quarantined.\n"
    response.refresh_from_db()
    assert response.processed_at is not None
    assert ProcessingFailure.objects.count() == 0
    # One answer, one case: the rule that owns it, the other recorded on it.
    case = Case.objects.get()
    assert case.rule.name == "NPS detractor (0–6)"
    assert [r.name for r in case.also_matched.all()] == ["Refunds on the pro plan"]
    assert counted(survey) == 1
    assert (
        "Answer processing: 0 answers or messages quarantined"
        in superuser.get("/app/webhooks/").content.decode()
    )


def test_a_replay_that_fails_again_stays_quarantined_with_the_new_reason(
    project, answer, broken_rule
):
    response = answer()
    for _ in range(pipeline.PROCESSING_MAX_ATTEMPTS):
        sweep()
    out = io.StringIO()
    call_command("replay_quarantined", "--project", str(project.pk), stdout=out)
    assert out.getvalue() == "Replayed 1: 0 processed, 1 still quarantined.\n"
    failure = ProcessingFailure.objects.get(response=response)
    assert failure.attempts == pipeline.PROCESSING_MAX_ATTEMPTS + 1
    assert failure.quarantined_at is not None
    assert sweep() == 0


def test_one_projects_failing_answers_do_not_hold_back_the_rest_of_the_batch(
    project, survey, answer, broken_rule
):
    elsewhere = _survey(ProjectFactory(name="Elsewhere"))
    failing = [answer(user="a"), answer(user="b")]
    fine = [answer(user="c", on=elsewhere), answer(user="d", on=elsewhere)]
    ids = sorted(r.pk for r in failing + fine)
    assert process_responses(ids) == 2
    assert sorted(
        Response.objects.filter(processed_at__isnull=False).values_list("pk", flat=True)
    ) == sorted(r.pk for r in fine)
    assert sorted(ProcessingFailure.objects.values_list("response_id", flat=True)) == sorted(
        r.pk for r in failing
    )
    assert counted(survey) == 2 and counted(elsewhere) == 2  # the failing ones still count
    assert Case.objects.filter(project=elsewhere.project).count() == 2  # detractors there


def test_a_feedback_message_is_quarantined_and_replayed_the_same_way(project, broken_rule):
    message = Feedback.objects.create(
        project=project, submission_id=uuid.uuid4(), text="refund now", rating=1
    )
    Feedback.objects.filter(pk=message.pk).update(created_at=timezone.now() - timedelta(hours=1))
    for _ in range(pipeline.PROCESSING_MAX_ATTEMPTS):
        assert sweep() == 1
    failure = ProcessingFailure.objects.get(feedback=message)
    assert failure.steps == {"feedback.cases.services.cases_open_for_feedback": BROKEN}
    assert failure.quarantined_at is not None
    assert sweep() == 0
    assert pipeline.processing_quarantined_count(project=project) == 1
    AlertRule.objects.filter(pk=broken_rule.pk).update(segment={})
    assert pipeline.processing_replay_quarantined().processed == 1
    message.refresh_from_db()
    assert message.processed_at is not None
    assert pipeline.processing_quarantined_count(project=project) == 0
