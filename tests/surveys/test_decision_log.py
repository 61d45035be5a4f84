"""surveys.delivery.decision_log: decide's Decision rows queued per process and written in batches."""

from surveys.delivery import decision_log
from surveys.delivery.models import Decision
from tests.factories import ContactFactory, ProjectFactory, TouchpointFactory, published_survey


def test_decisions_are_queued_then_written_together(db, settings):
    settings.DECISION_FLUSH_SECONDS = 3600  # the flusher thread never fires during the test
    project = ProjectFactory()
    touchpoint = TouchpointFactory(project=project, key="checkout")
    survey = published_survey(project, touchpoints=[touchpoint])
    contacts = [ContactFactory(project=project) for _ in range(3)]
    for contact, reason in zip(contacts, ["shown", "sampled_out", "global_cooldown"], strict=True):
        decision_log.record(
            Decision(
                project=project,
                survey=survey,
                touchpoint=touchpoint,
                contact=contact,
                reason=reason,
            )
        )
    assert Decision.objects.count() == 0
    assert decision_log.flush() == 3
    assert decision_log.flush() == 0  # nothing left, nothing written twice
    assert sorted(Decision.objects.values_list("contact_id", "reason", "survey_id")) == sorted(
        [
            (contacts[0].pk, "shown", survey.pk),
            (contacts[1].pk, "sampled_out", survey.pk),
            (contacts[2].pk, "global_cooldown", survey.pk),
        ]
    )


def test_without_batching_each_decision_is_written_inline(db, settings):
    settings.DECISION_FLUSH_SECONDS = 0
    project = ProjectFactory()
    decision_log.record(Decision(project=project, reason="no_survey"))
    assert list(Decision.objects.values_list("project_id", "reason")) == [(project.pk, "no_survey")]


def test_a_forked_child_starts_with_an_empty_queue_and_no_flusher(db, settings):
    """A prefork worker must not believe the parent's flusher thread runs for it."""
    import os

    settings.DECISION_FLUSH_SECONDS = 3600
    decision_log.record(Decision(project=ProjectFactory(), reason="no_survey"))
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child reports what it inherited, then leaves without cleanup
        batcher = decision_log._batcher
        os.write(write, f"{len(batcher._queue)} {batcher._thread is None}".encode())
        os._exit(0)
    os.waitpid(pid, 0)
    assert os.read(read, 100).decode() == "0 True"
    assert decision_log.flush() == 1  # the parent's item is still the parent's
