"""`manage.py sweeper_backlog [--max-age SECONDS]`: how far answer processing is behind, as one
JSON object, and an exit code a monitoring check can act on.

    {"waiting": 3, "oldest_waiting_seconds": 125, "quarantined": 1, "max_age_seconds": 600}

`waiting` finished answers are not processed yet (a worker is on them, or the sweeper will
send them again once they are SWEEP_AFTER old); `quarantined` answers and messages kept
failing and wait for `manage.py replay_quarantined`. Exit 0 when nothing has waited longer
than --max-age and nothing is quarantined; 1 otherwise (the JSON says which)."""

import json

from django.core.management.base import BaseCommand
from django.utils import timezone

from feedback.answering.selectors import processing_backlog

# Five sweeper intervals past the sweeper's own delay: an answer this old was sent again and
# still not processed, so the workers are down or far behind.
DEFAULT_MAX_AGE_SECONDS = 600


class Command(BaseCommand):
    help = "Answers waiting for processing and quarantined ones, as JSON; exit 1 when behind."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--max-age", type=int, default=DEFAULT_MAX_AGE_SECONDS)

    def handle(self, *args, max_age: int, **options) -> None:
        backlog = processing_backlog()
        oldest = None
        if backlog.oldest_finished_at is not None:
            oldest = max(0, int((timezone.now() - backlog.oldest_finished_at).total_seconds()))
        report = {
            "waiting": backlog.waiting,
            "oldest_waiting_seconds": oldest,
            "quarantined": backlog.quarantined,
            "max_age_seconds": max_age,
        }
        self.stdout.write(json.dumps(report))
        if (oldest is not None and oldest > max_age) or backlog.quarantined:
            raise SystemExit(1)
