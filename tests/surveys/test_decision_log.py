"""surveys.delivery.decision_log: decide's daily counters, counted per process and added to the
database together; no person in them."""

import os
from datetime import UTC, date, datetime

import pytest

from surveys.delivery import decision_log
from surveys.delivery.models import DecisionCount, DecisionReason
from surveys.delivery.throttle import REASONS
from tests.factories import (
    ProjectFactory,
    TouchpointFactory,
    decisions_counted,
    published_survey,
)

NOON = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


def _count(project, survey=None, touchpoint=None, channel="widget", reason="shown", now=NOON):
    decision_log.record(
        project=project,
        survey_id=survey.pk if survey else None,
        touchpoint=touchpoint,
        delivery_channel=channel,
        reason=reason,
        now=now,
    )


def _counters(project) -> list[tuple]:
    return sorted(
        DecisionCount.objects.filter(project=project).values_list(
            "survey_id", "touchpoint_key", "stage_key", "channel", "reason", "day", "count"
        ),
        key=lambda row: (row[0] or 0, *row[1:]),
    )


def test_decides_are_counted_in_memory_then_added_together(project, settings):
    settings.DECISION_FLUSH_SECONDS = 3600  # the flusher thread never fires during the test
    touchpoint = TouchpointFactory(project=project, key="checkout", channel="ios")
    survey = published_survey(project, touchpoints=[touchpoint])
    for reason in ["shown", "sampled_out", "sampled_out", "global_cooldown"]:
        _count(project, survey, touchpoint, reason=reason)
    assert DecisionCount.objects.count() == 0
    assert decision_log.flush() == 4
    assert decision_log.flush() == 0  # nothing left, nothing added twice
    stage = touchpoint.stage.key
    assert _counters(project) == [
        (survey.pk, "checkout", stage, "ios", "global_cooldown", date(2026, 12, 4), 1),
        (survey.pk, "checkout", stage, "ios", "sampled_out", date(2026, 12, 4), 2),
        (survey.pk, "checkout", stage, "ios", "shown", date(2026, 12, 4), 1),
    ]
    # A later flush adds to the day's counters; it never overwrites them.
    _count(project, survey, touchpoint, reason="sampled_out")
    assert decision_log.flush() == 1
    assert decisions_counted(project) == {"global_cooldown": 1, "sampled_out": 3, "shown": 1}


def test_decides_without_a_survey_or_touchpoint_share_one_counter(project, settings):
    """The no-survey counter is found again by the upsert (its survey is NULL)."""
    settings.DECISION_FLUSH_SECONDS = 0
    for _ in range(3):
        _count(project, reason="no_survey")
    assert _counters(project) == [(None, "", "", "web", "no_survey", date(2026, 12, 4), 3)]


def test_the_channel_is_counted_as_answers_are(project, settings):
    """An e-mail decide is the e-mail channel; a widget decide its touchpoint's (web if none)."""
    settings.DECISION_FLUSH_SECONDS = 0
    touchpoint = TouchpointFactory(project=project, key="order_delivered", channel="")
    survey = published_survey(project, touchpoints=[touchpoint])
    _count(project, survey, touchpoint, channel="widget")
    _count(project, survey, touchpoint, channel="email")
    assert [(row[3], row[6]) for row in _counters(project)] == [("email", 1), ("web", 1)]


def test_days_are_cut_in_the_project_timezone(db, settings):
    settings.DECISION_FLUSH_SECONDS = 0
    project = ProjectFactory(timezone="Asia/Shanghai")
    _count(project, reason="no_survey", now=datetime(2026, 12, 4, 15, 59, tzinfo=UTC))
    _count(project, reason="no_survey", now=datetime(2026, 12, 4, 16, 0, tzinfo=UTC))
    assert [(row[5], row[6]) for row in _counters(project)] == [
        (date(2026, 12, 4), 1),
        (date(2026, 12, 5), 1),
    ]


@pytest.mark.django_db(transaction=True)
def test_counts_of_a_survey_deleted_before_the_flush_are_dropped_alone(settings):
    """The flusher writes outside any request's transaction (autocommit)."""
    project = ProjectFactory()
    settings.DECISION_FLUSH_SECONDS = 3600
    touchpoint = TouchpointFactory(project=project, key="checkout")
    kept = published_survey(project, touchpoints=[touchpoint], name="Kept")
    deleted = published_survey(project, touchpoints=[touchpoint], name="Deleted")
    _count(project, kept, touchpoint)
    _count(project, deleted, touchpoint)
    _count(project, reason="no_survey")
    deleted.delete()
    assert decision_log.flush() == 3
    assert [(row[0], row[4], row[6]) for row in _counters(project)] == [
        (None, "no_survey", 1),
        (kept.pk, "shown", 1),
    ]


def test_a_forked_child_starts_with_an_empty_queue_and_no_flusher(db, settings):
    """A prefork worker must not believe the parent's flusher thread runs for it."""
    settings.DECISION_FLUSH_SECONDS = 3600
    _count(ProjectFactory(), reason="no_survey")
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child reports what it inherited, then leaves without cleanup
        batcher = decision_log._batcher
        os.write(write, f"{len(batcher._queue)} {batcher._thread is None}".encode())
        os._exit(0)
    os.waitpid(pid, 0)
    assert os.read(read, 100).decode() == "0 True"
    assert decision_log.flush() == 1  # the parent's item is still the parent's


def test_every_reason_decide_answers_has_words_in_one_place():
    """surveys.delivery.models.DecisionReason is the one table of reason code → words that
    pages show (the lead dashboard's chart, the demo shop's log)."""
    assert set(DecisionReason.values) == {"shown", *REASONS}
    for code, label in DecisionReason.choices:
        assert str(label) != code and "_" not in str(label), code


@pytest.mark.django_db
def test_the_demo_shop_log_has_the_reasons_in_words(client):
    ProjectFactory(is_demo=True, name="Demo Shop")
    html = client.get("/demo/").content.decode()
    assert '"global_cooldown": "Global cooldown"' in html
    assert '"touchpoint_retired": "Touchpoint retired"' in html
