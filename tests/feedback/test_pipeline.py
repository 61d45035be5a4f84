"""The response pipeline: enqueued on commit (never on rollback), processed exactly once,
steps in their declared order, broker outages never fail a request, and the sweeper finds
whatever was committed but never processed."""

import uuid
from datetime import datetime, timedelta

import kombu.exceptions
import pytest
from celery import current_app
from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, OperationalError, connection, transaction
from django.db.models import Sum
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from feedback.answering import pipeline
from feedback.answering.batch import ResponseBatch
from feedback.answering.models import ProcessingFailure, Response
from feedback.answering.services import AnswerIn, response_submit
from feedback.answering.tasks import process_response, process_responses, sweep_unprocessed
from feedback.webhooks.models import WebhookDelivery, WebhookEndpoint
from metrics.rollups.models import Rollup
from metrics.rollups.services import rollup_responses
from surveys.delivery.ledger import contact_resolve, display_claim
from tests.factories import answered
from vocsite.publish import task_publish
from vocsite.registry import Registry, registries_check

pytestmark = pytest.mark.django_db

calls: list[tuple[str, int]] = []


def record_first(response_id: int, batch=None) -> None:
    calls.append(("first", response_id))


def record_second(response_id: int, batch=None) -> None:
    calls.append(("second", response_id))


def fail_once(response_id: int, batch=None) -> None:
    if not any(name == "failed" for name, _ in calls):
        calls.append(("failed", response_id))
        raise RuntimeError("hook crashed")
    calls.append(("recovered", response_id))


failing: set[int] = set()


def fail_for_good(response_id: int, batch=None) -> None:
    if response_id in failing:
        raise ValueError("a bug in a hook")


@pytest.fixture(autouse=True)
def _clear_calls():
    calls.clear()


@pytest.fixture
def answer(survey):
    """answer(score=9) → a finished response, committed; its processing is left to the test."""
    return lambda score=9: answered(survey, score, processed=False)


def counted(survey) -> int:
    cells = Rollup.objects.filter(survey=survey, breakdown_attribute="")
    return cells.aggregate(n=Sum("count"))["n"] or 0


def sweep_later(**kwargs) -> int:
    return pipeline.responses_sweep(now=timezone.now() + timedelta(minutes=3), **kwargs)


# ---- enqueue on commit ------------------------------------------------------------------


def test_processing_starts_only_after_commit(survey, answer, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        response = answer()
    assert len(callbacks) == 1
    response.refresh_from_db()
    assert (response.rolled_up_at, response.processed_at, counted(survey)) == (None, None, 0)

    callbacks[0]()  # the commit happens: eager mode runs the task in-process
    response.refresh_from_db()
    assert response.rolled_up_at is not None
    assert response.processed_at is not None
    assert counted(survey) == 1


def test_batched_publishing_sends_one_message_for_the_responses_committed_meanwhile(
    survey, answer, django_capture_on_commit_callbacks, settings, broker
):
    """Full mode publishes the ids committed in the last RESPONSE_PUBLISH_BATCH_SECONDS as one
    process_responses message; each response is then processed and counted once."""
    settings.RESPONSE_PUBLISH_BATCH_SECONDS = 3600  # the publisher thread never fires here
    with django_capture_on_commit_callbacks(execute=True):
        responses = [answer(), answer(), answer()]
    assert broker.take() == []  # queued in the process, nothing sent yet
    assert pipeline._publisher.flush() == 3
    assert broker.work() == [(process_responses.name, ([r.pk for r in responses],), {})]
    assert counted(survey) == 3
    assert not Response.objects.filter(processed_at__isnull=True).exists()
    assert pipeline._publisher.flush() == 0


def test_a_rolled_back_submission_enqueues_nothing(
    survey, answer, django_capture_on_commit_callbacks
):
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        answer()
        raise RuntimeError("the request failed after the insert")
    assert callbacks == []
    assert Response.objects.count() == 0
    assert counted(survey) == 0


def test_an_unfinished_response_is_not_enqueued(
    project, survey, touchpoint, django_capture_on_commit_callbacks
):
    contact = contact_resolve(project=project, visitor_id="partial")
    display = display_claim(project=project, contact=contact, touchpoint_key=touchpoint.key).display
    question_id = survey.current_version.snapshot["questions"][0]["id"]
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response_submit(
            project=project,
            display=display,
            submission_id=uuid.uuid4(),
            answers=[AnswerIn(question_id, 3)],
            finished=False,
        )
    assert callbacks == []
    assert pipeline.response_process(Response.objects.get().pk) is False
    assert counted(survey) == 0


# ---- broker outages ---------------------------------------------------------------------


def test_broker_errors_are_logged_not_raised(broker_down, caplog):
    assert task_publish(process_response.name, 42) is False
    assert "could not enqueue feedback.tasks.pipeline.process_response(42,)" in caplog.text
    assert broker_down.attempts == [42]


def test_a_bug_is_not_mistaken_for_a_broker_outage():
    with pytest.raises(kombu.exceptions.EncodeError):  # not JSON: the caller's bug
        task_publish(process_response.name, object())


def test_broker_down_the_request_still_succeeds_and_the_sweeper_processes_it_later(
    project, survey, touchpoint, broker_down, django_capture_on_commit_callbacks
):
    widget = APIClient()
    widget.defaults["HTTP_ORIGIN"] = "http://shop.example"
    decided = widget.post(
        "/api/widget/v1/decide",
        {"key": project.public_key, "visitor_id": "v-1", "touchpoint": touchpoint.key},
        format="json",
    ).json()
    with django_capture_on_commit_callbacks(execute=True):
        submitted = widget.post(
            "/api/widget/v1/responses",
            {
                "key": project.public_key,
                "display_id": decided["display_id"],
                "submission_id": str(uuid.uuid4()),
                "answers": [{"question_id": decided["survey"]["questions"][0]["id"], "value": 10}],
                "finished": True,
            },
            format="json",
        )
    assert submitted.status_code == 201
    response = Response.objects.get(pk=submitted.json()["response_id"])
    assert broker_down.attempts == [
        response.pk
    ]  # one publish was attempted after commit, and failed
    assert (response.finished, response.processed_at, counted(survey)) == (True, None, 0)

    # Too recent for the sweeper: its task may still be on its way.
    assert pipeline.responses_sweep() == 0
    # Redis is back; two minutes later the sweeper catches up.
    broker_down.end()
    assert sweep_later() == 1
    response.refresh_from_db()
    assert response.processed_at is not None
    assert counted(survey) == 1


def test_a_failure_while_processing_eagerly_does_not_fail_the_request(
    project, survey, answer, caplog, django_capture_on_commit_callbacks
):
    def crash(response_ids):
        raise RuntimeError("rollup bug")

    with (
        pipeline.RESPONSE_ROLLUP.overridden({"rollup": crash}),
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = answer()  # no exception reaches the caller
    assert "rollup bug" in caplog.text
    response.refresh_from_db()
    assert response.processed_at is None  # left for the sweeper
    assert sweep_later() == 1
    assert counted(survey) == 1


# ---- exactly once ---------------------------------------------------------------------------


def test_processing_again_counts_nothing_twice(survey, answer, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = answer()
    assert counted(survey) == 1
    assert pipeline.response_process(response.pk) is False
    # Even with the processed marker cleared (a message redelivered after a crash between the
    # rollup and the hooks), the rollup's own claim keeps the count at one.
    Response.objects.filter(pk=response.pk).update(processed_at=None)
    assert pipeline.response_process(response.pk) is True
    assert process_response.apply(args=(response.pk,)).get() is False
    assert counted(survey) == 1


def test_unknown_responses_are_ignored():
    assert pipeline.response_process(987654321) is False


def test_steps_run_in_their_declared_order_after_the_rollup(
    survey, answer, django_capture_on_commit_callbacks
):
    steps = {"webhooks": record_second, "last_nps": record_first}
    with (
        pipeline.RESPONSE_STEPS.overridden(steps),
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = answer()
    assert calls == [("first", response.pk), ("second", response.pk)]
    response.refresh_from_db()
    assert response.rolled_up_at is not None and response.processed_at is not None


def test_a_crashing_step_leaves_the_response_for_a_retry_without_recounting(
    survey, answer, django_capture_on_commit_callbacks
):
    """The steps after the crashing one still run; the retry runs them all again."""
    steps = {"last_nps": fail_once, "topics": record_second}
    with pipeline.RESPONSE_STEPS.overridden(steps):
        with django_capture_on_commit_callbacks(execute=True):
            response = answer()
        response.refresh_from_db()
        assert response.rolled_up_at is not None and response.processed_at is None
        assert calls == [("failed", response.pk), ("second", response.pk)]
        assert sweep_later() == 1
    response.refresh_from_db()
    assert response.processed_at is not None
    assert calls[2:] == [("recovered", response.pk), ("second", response.pk)]
    assert counted(survey) == 1


def test_start_up_refuses_a_declared_step_nobody_registered():
    declared = Registry("steps of a test", expected=("first", "second"))
    declared.register("first", record_first)
    with pytest.raises(ImproperlyConfigured, match="steps of a test: second"):
        registries_check([declared])
    with pytest.raises(ImproperlyConfigured, match="'third' is not a declared entry"):
        declared.register("third", record_second)
    declared.register("second", record_second)
    registries_check()  # complete now, like the application's own registries


def test_the_steps_are_wired_in_order():
    assert [(key, pipeline.step_name(step)) for key, step in pipeline.RESPONSE_STEPS.items()] == [
        ("last_nps", "feedback.answering.services.contact_last_nps_update"),
        ("topics", "feedback.topics.services.tag_response"),
        ("cases", "feedback.cases.services.cases_open_for_response"),
        ("recovery", "feedback.cases.services.cases_recover_for_response"),
        ("webhooks", "feedback.webhooks.services.webhooks_for_response"),
    ]
    assert [key for key, _ in pipeline.FEEDBACK_STEPS.items()] == ["topics", "cases", "webhooks"]
    assert pipeline.RESPONSE_ROLLUP["rollup"] is rollup_responses


# ---- the sweeper ----------------------------------------------------------------------------


def test_the_sweeper_takes_only_old_finished_unprocessed_responses(survey, answer, broker_down):
    old = [answer() for _ in range(3)]  # never processed: the broker was down
    processed = answer()
    Response.objects.filter(pk=processed.pk).update(processed_at=timezone.now())
    Response.objects.filter(pk__in=[r.pk for r in old]).update(
        finished_at=timezone.now() - timedelta(minutes=5)
    )
    recent = answer()  # committed a moment ago: its own task may still come
    broker_down.end()
    assert pipeline.responses_sweep() == 3
    assert set(Response.objects.filter(processed_at__isnull=True).values_list("pk", flat=True)) == {
        recent.pk
    }
    assert counted(survey) == 3


def test_the_sweeper_works_in_batches_up_to_its_limit(survey, answer, broker, monkeypatch):
    ids = [answer().pk for _ in range(7)]
    broker.take()  # the messages of the answers themselves, lost in this story
    monkeypatch.setattr(pipeline, "SWEEP_BATCH", 3)  # pages of 3 rows instead of 1,000
    assert sweep_later(limit=5) == 5
    sent = broker.take()
    assert [(m["task"], m["args"]) for m in sent] == [(process_response.name, [i]) for i in ids[:5]]
    # Swept copies expire, so a backlogged queue does not collect one copy per sweep.
    assert all(datetime.fromisoformat(m["expires"]) > timezone.now() for m in sent)
    assert sweep_later() == 7
    assert [m["args"] for m in broker.take()] == [[i] for i in ids]


def test_the_sweeper_waits_while_the_processing_queue_has_a_backlog(survey, answer, broker):
    ids = [answer().pk for _ in range(2)]
    broker.take()
    for n in range(pipeline.SWEEP_MAX_BACKLOG + 1):  # messages for rows still to come
        task_publish(process_response.name, 10**9 + n)
    assert sweep_later() == 0  # the rows are most likely still queued
    waiting = broker.take()
    assert len(waiting) == 1001
    for message in waiting[1:]:  # one was taken by a worker: 1,000 left
        task_publish(process_response.name, *message["args"])
    assert sweep_later() == 2
    assert [m["args"] for m in broker.take()[-2:]] == [[i] for i in ids]


def test_queue_backlog_is_unknown_without_a_broker():
    assert pipeline.queue_backlog("rollups") is None  # the test settings run tasks eagerly


def test_the_sweeper_stops_at_the_first_broker_error(survey, answer, broker_down):
    for _ in range(4):
        answer()
    broker_down.attempts.clear()
    assert sweep_later() == 0
    assert len(broker_down.attempts) == 1  # one failed attempt, not one connect timeout per row


def test_the_periodic_task_is_scheduled_and_runs_the_sweeper(settings, survey, answer, broker_down):
    answer()
    broker_down.end()
    entry = settings.CELERY_BEAT_SCHEDULE["sweep-unprocessed-responses"]
    assert entry["task"] == sweep_unprocessed.name == "feedback.tasks.pipeline.sweep_unprocessed"
    Response.objects.update(finished_at=timezone.now() - timedelta(minutes=3))
    assert sweep_unprocessed.apply().get() == 1
    assert counted(survey) == 1


# ---- task settings --------------------------------------------------------------------------


def test_task_options_and_routes():
    assert process_response.name == "feedback.tasks.pipeline.process_response"
    assert process_response.acks_late is True
    assert process_response.max_retries == 8
    assert process_response.retry_jitter is True
    assert OperationalError in process_response.autoretry_for
    assert not any(issubclass(IntegrityError, e) for e in process_response.autoretry_for)
    assert current_app.conf.worker_prefetch_multiplier == 1
    route = current_app.amqp.router.route({}, process_response.name)
    assert route["queue"].name == "rollups"


def test_transient_database_errors_are_retried_and_bugs_are_not(
    survey, answer, settings, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks():
        response = answer()
    attempts: list[list[int]] = []

    def flaky(response_ids):
        attempts.append(list(response_ids))
        if len(attempts) < 3:
            raise OperationalError("server closed the connection unexpectedly")
        return rollup_responses(response_ids)

    # Let eager retries run in-process as a worker would (there is no backoff wait in eager).
    settings.CELERY_TASK_EAGER_PROPAGATES = False
    with pipeline.RESPONSE_ROLLUP.overridden({"rollup": flaky}):
        result = process_response.apply(args=(response.pk,))
    assert (result.state, result.get(), len(attempts)) == ("SUCCESS", True, 3)
    assert counted(survey) == 1

    Response.objects.filter(pk=response.pk).update(processed_at=None, rolled_up_at=None)
    attempts.clear()

    def bug(response_ids):
        attempts.append(list(response_ids))
        raise IntegrityError("a constraint says the code is wrong")

    with pipeline.RESPONSE_ROLLUP.overridden({"rollup": bug}):
        result = process_response.apply(args=(response.pk,))
    # A bug is not retried by the task: it is recorded against the response (the sweeper
    # brings it back until it is quarantined, tests/feedback/test_quarantine.py).
    assert (result.state, result.get()) == ("SUCCESS", False)
    assert len(attempts) == 1
    failure = ProcessingFailure.objects.get(response=response)
    assert (failure.attempts, failure.steps) == (
        1,
        {pipeline.step_name(bug): "IntegrityError: a constraint says the code is wrong"},
    )


def test_a_batch_goes_on_past_a_response_that_fails_for_good(survey, answer):
    """One response hitting a bug does not hold back the rest of its web process's batch."""
    from feedback.answering import tasks

    responses = [answer(), answer(), answer()]
    Response.objects.update(processed_at=None, rolled_up_at=None)
    failing.clear()
    failing.add(responses[1].pk)
    with pipeline.RESPONSE_STEPS.overridden({"last_nps": fail_for_good}):
        assert tasks.process_responses([r.pk for r in responses]) == 2
    assert sorted(
        Response.objects.filter(processed_at__isnull=True).values_list("pk", flat=True)
    ) == [responses[1].pk]
    assert counted(survey) == 3  # all three rolled up, in one transaction


def test_a_batch_whose_rollup_fails_rolls_up_each_response_on_its_own(survey, answer):
    """A response the batch's rollup cannot count (a bug, bad data) does not stop the others:
    they are rolled up one by one and processed; it stays for the sweeper."""
    from feedback.answering import tasks

    responses = [answer(), answer(), answer()]
    Response.objects.update(processed_at=None, rolled_up_at=None)
    calls: list[list[int]] = []

    def poisoned(response_ids):
        calls.append(sorted(response_ids))
        if responses[1].pk in response_ids:
            raise ValueError("cannot count this one")
        return rollup_responses(response_ids)

    with pipeline.RESPONSE_ROLLUP.overridden({"rollup": poisoned}):
        assert tasks.process_responses([r.pk for r in responses]) == 2
    ids = sorted(r.pk for r in responses)
    assert calls == [ids, [ids[0]], [ids[1]], [ids[2]]]
    assert sorted(
        Response.objects.filter(processed_at__isnull=True).values_list("pk", flat=True)
    ) == [responses[1].pk]
    assert counted(survey) == 2


def test_a_batch_is_rolled_up_in_one_transaction(survey, answer, django_assert_num_queries):
    """Fifty responses cost the rollup the statements one did: claim, read, one upsert."""
    responses = [answer() for _ in range(50)]
    Response.objects.update(processed_at=None, rolled_up_at=None)
    with CaptureQueriesContext(connection) as one:
        assert rollup_responses([responses[0].pk]) == {responses[0].pk}
    with CaptureQueriesContext(connection) as fifty:
        assert rollup_responses([r.pk for r in responses]) == {r.pk for r in responses[1:]}
    assert len(fifty) == len(one)
    assert counted(survey) == 50


def test_a_batch_reads_the_project_webhook_endpoints_once(survey, answer):
    """Each response asks whether an endpoint wants `response.finished` (and each case opened
    emits `case.opened`): one read of the endpoints per batch, not one per response."""
    WebhookEndpoint.objects.create(
        project=survey.project, url="https://hooks.example/vocsite", events=["response.finished"]
    )

    def endpoint_reads(ids) -> int:
        Response.objects.filter(pk__in=ids).update(processed_at=None, rolled_up_at=None)
        with CaptureQueriesContext(connection) as queries:
            assert pipeline.responses_process(ids) == len(ids)
        return sum(' FROM "feedback_webhookendpoint"' in q["sql"] for q in queries)

    responses = [answer() for _ in range(6)]
    assert endpoint_reads([responses[0].pk]) == 1
    assert endpoint_reads([r.pk for r in responses[1:]]) == 1
    assert WebhookDelivery.objects.filter(event="response.finished").count() == 6


def test_a_batch_reads_its_related_rows_by_id_without_joins(survey, answer, touchpoint):
    """The batch read takes each related table once by a list of ids, however many responses
    (a join by the list of ids was planned into a walk of a whole index on a young database),
    and the batch's responses share the related objects."""

    def reads(ids) -> list[tuple[str, bool]]:
        with CaptureQueriesContext(connection) as queries:
            batch = ResponseBatch.load(ids)
        loaded = [batch.get(pk) for pk in ids]
        assert [r.pk for r in loaded] == ids
        return [
            (q["sql"].split(" FROM ", 1)[1].split(" ", 1)[0].strip('"'), " JOIN " in q["sql"])
            for q in queries
        ]

    responses = [answer() for _ in range(4)]
    one = reads([responses[0].pk])
    assert one == reads([r.pk for r in responses])
    assert one == [
        ("feedback_response", False),
        ("surveys_project", False),
        ("surveys_survey", False),
        ("surveys_surveyversion", False),
        ("surveys_touchpoint", False),
        ("surveys_journeystage", False),
        ("surveys_contact", False),
        ("feedback_answer", False),
        ("surveys_question", False),
    ]
    batch = ResponseBatch.load([r.pk for r in responses])
    first, last = batch.get(responses[0].pk), batch.get(responses[-1].pk)
    assert first.project is last.project and first.version is last.version
    assert (first.touchpoint, first.answers.all()[0].question.type) == (touchpoint, "nps")


def test_the_steps_of_a_batch_read_its_responses_once(survey, answer):
    """The five steps used to read each response and its answers again; in a batch they share
    one read (feedback.answering.batch), so five responses read the responses table as often as
    one does."""

    def response_reads(ids) -> int:
        Response.objects.filter(pk__in=ids).update(processed_at=None, rolled_up_at=None)
        with CaptureQueriesContext(connection) as queries:
            assert pipeline.responses_process(ids) == len(ids)
        return sum(
            q["sql"].startswith("SELECT") and ' FROM "feedback_response"' in q["sql"]
            for q in queries
        )

    responses = [answer() for _ in range(6)]
    one = response_reads([responses[0].pk])
    assert one == response_reads([r.pk for r in responses[1:]])
    assert one == 4  # which are pending; the rollup: their projects, the claimed rows; the steps
