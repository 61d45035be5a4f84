"""`manage.py sweeper_backlog`: how far answer processing is behind, as JSON, with an exit
code a monitoring check acts on (feedback/management/commands/sweeper_backlog.py)."""

from __future__ import annotations

import io
import json
from datetime import timedelta

import time_machine
from django.core.management import call_command
from django.utils import timezone

from feedback.answering.models import ProcessingFailure
from tests.factories import answered


def backlog(*args: str) -> tuple[int, dict]:
    out = io.StringIO()
    try:
        call_command("sweeper_backlog", *args, stdout=out)
        code = 0
    except SystemExit as exit_:
        code = exit_.code
    return code, json.loads(out.getvalue())


def test_sweeper_backlog_reports_waiting_and_quarantined_answers_with_its_exit_code(survey):
    assert backlog() == (
        0,
        {"waiting": 0, "oldest_waiting_seconds": None, "quarantined": 0, "max_age_seconds": 600},
    )
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        answered(survey, 9, processed=True)  # done: not waiting
        answered(survey, 7, processed=False)
    with time_machine.travel(start + timedelta(seconds=200), tick=False):
        answered(survey, 2, processed=False)
        other = answered(survey, 1, processed=False)
        ProcessingFailure.objects.create(
            project=survey.project, response=other, attempts=5, quarantined_at=timezone.now()
        )
    with time_machine.travel(start + timedelta(seconds=500), tick=False):
        assert backlog("--max-age", "900") == (
            1,  # the quarantined answer needs a replay
            {"waiting": 2, "oldest_waiting_seconds": 500, "quarantined": 1, "max_age_seconds": 900},
        )
        ProcessingFailure.objects.filter(response=other).delete()
        other.delete()
        assert backlog("--max-age", "900") == (
            0,
            {"waiting": 2, "oldest_waiting_seconds": 500, "quarantined": 0, "max_age_seconds": 900},
        )
    with time_machine.travel(start + timedelta(seconds=601), tick=False):
        assert backlog() == (
            1,  # waiting longer than the default 600 s
            {"waiting": 2, "oldest_waiting_seconds": 601, "quarantined": 0, "max_age_seconds": 600},
        )
