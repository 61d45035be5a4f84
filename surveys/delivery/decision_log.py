"""Decide's daily counters (fatigue analytics: which rule held what back, DESIGN.md §4): every
decide call adds one to the counter of its (survey, touchpoint, stage, channel, reason, day).

A web process counts in memory and adds its counts to the database every
DECISION_FLUSH_SECONDS with one upsert (a `vocsite.batcher.Batcher`), so a decide costs a
dict update, not a write, and a flush costs one statement for the few dozen counters it
touched. The cost of that choice, accepted for analytics and for nothing else: a process
killed outright loses its last interval of counts. Displays and responses — what the rules and
the metrics rest on — are never buffered. With DECISION_FLUSH_SECONDS = 0 (the embedded SQLite
mode and the tests) each decide adds its one inline, in the request's own transaction.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from datetime import datetime

from django.conf import settings
from django.db import IntegrityError, connection

from surveys.delivery.sql import DecisionKey, decision_counts_add
from surveys.design.models import Survey
from surveys.journey.channels import response_channel
from surveys.journey.models import Touchpoint
from surveys.tenancy.models import Project
from surveys.tenancy.timezones import local_day, project_zone
from vocsite.batcher import Batcher
from vocsite.prometheus import decide_counted

log = logging.getLogger(__name__)


def _write(keys: Sequence[DecisionKey]) -> None:
    """A count about a project or survey deleted since its decide (a batch is written up to
    DECISION_FLUSH_SECONDS later) is dropped with it, unless it is written inside the caller's
    transaction: that failure is the caller's."""
    counts = Counter(keys)
    if connection.in_atomic_block:
        decision_counts_add(counts)
        return
    try:
        decision_counts_add(counts)
    except IntegrityError:
        projects = set(
            Project.objects.filter(pk__in={k[0] for k in counts}).values_list("pk", flat=True)
        )
        surveys = set(
            Survey.objects.filter(pk__in={k[1] for k in counts}).values_list("pk", flat=True)
        )
        kept = {
            key: n
            for key, n in counts.items()
            if key[0] in projects and (key[1] is None or key[1] in surveys)
        }
        log.warning(
            "%d decision counts of deleted surveys dropped", counts.total() - sum(kept.values())
        )
        decision_counts_add(kept)


_batcher: Batcher[DecisionKey] = Batcher(
    "decision-counts", lambda: settings.DECISION_FLUSH_SECONDS, _write
)


def record(
    *,
    project: Project,
    survey_id: int | None,
    touchpoint: Touchpoint | None,
    delivery_channel: str,
    reason: str,
    now: datetime,
) -> None:
    """Count one decide: queued for the next flush, or added now when batching is off; and
    in the Prometheus counter of its reason."""
    decide_counted(reason)
    _batcher.add(
        (
            project.pk,
            survey_id,
            touchpoint.key if touchpoint else "",
            touchpoint.stage.key if touchpoint and touchpoint.stage_id else "",
            response_channel(delivery_channel, touchpoint.channel if touchpoint else None),
            reason,
            local_day(now, project_zone(project)),
        )
    )


def flush() -> int:
    """Add every queued count now; returns how many decides they counted."""
    return _batcher.flush()
