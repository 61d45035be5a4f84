"""Rollups (DESIGN.md §9) on PostgreSQL: incremental cost of 10,000 new responses over a
1,000,000-response history against the same over an empty history (target ≤ 2×), and a full
rebuild of 1,000,000 responses (target ≤ 60 s). History is inserted with set-based SQL."""

from __future__ import annotations

import time

from common import arguments, row, setup_django, write

args = arguments(history=1_000_000, new=10_000)
setup_django()

from django.db import connection
from django.db.models import Sum
from seed import analyze, drop_earlier, insert_responses, make_project, settle

from feedback.answering.models import Response
from metrics.rollups.models import Rollup
from metrics.rollups.services import rollup_response, rollups_rebuild

assert connection.vendor == "postgresql", "run in full mode (make bench)"
print(f"removed {drop_earlier('empty', 'history')} projects of earlier runs", flush=True)
settle()


def incremental(project, surveys) -> float:
    survey, version, touchpoints = surveys[0]
    insert_responses(project, survey, version, touchpoints, args.new, rolled_up=False)
    ids = list(
        Response.objects.filter(project=project, rolled_up_at__isnull=True).values_list(
            "pk", flat=True
        )
    )
    started = time.perf_counter()
    for response_id in ids:
        rollup_response(response_id)
    return time.perf_counter() - started


# Incremental over an empty history.
empty = make_project("empty")
empty_seconds = incremental(*empty)

# Incremental over a 1,000,000-response history (built, then rolled up by a full rebuild).
big = make_project("history")
started = time.perf_counter()
insert_responses(big[0], *big[1][0], args.history, rolled_up=False)
insert_seconds = time.perf_counter() - started
analyze()
# The history was loaded without processing, so this first rebuild also marks its million
# responses counted (one UPDATE of every row): a bulk import's first count, reported beside.
started = time.perf_counter()
rollups_rebuild(project=big[0])
first_count_seconds = time.perf_counter() - started
# The rebuild an operator runs (`manage.py rebuild_rollups`: a rollup definition changed, a
# bug fixed) is over responses the pipeline has counted: the target's row.
started = time.perf_counter()
cells = rollups_rebuild(project=big[0])
rebuild_seconds = time.perf_counter() - started
history_seconds = incremental(*big)

total = Rollup.objects.filter(project=big[0], breakdown_attribute="").aggregate(n=Sum("count"))["n"]
ratio = history_seconds / empty_seconds if empty_seconds else 0.0
result = {
    "name": "rollups",
    "history": args.history,
    "new": args.new,
    "insert_history_seconds": round(insert_seconds, 1),
    "first_count_seconds": round(first_count_seconds, 1),
    "rebuild_seconds": round(rebuild_seconds, 1),
    "rebuild_cells": cells,
    "incremental_empty_seconds": round(empty_seconds, 2),
    "incremental_over_history_seconds": round(history_seconds, 2),
    "ratio": round(ratio, 2),
    "rollup_total_equals_responses": total == args.history + args.new,
}
write("rollups", result)
row(
    f"rollup {args.new:,} new over {args.history:,}",
    f"{history_seconds:.1f} s",
    f"over empty history: {empty_seconds:.1f} s ({ratio:.2f}×)",
    "≤ 2×",
    ratio <= 2,
)
row(
    f"full rebuild of {args.history:,} responses",
    f"{rebuild_seconds:.1f} s ({cells:,} cells)",
    f"first count of the same responses loaded unprocessed (marks each counted): "
    f"{first_count_seconds:.1f} s",
    "≤ 60 s",
    rebuild_seconds <= 60,
)
row(
    "rollup total after rebuild + incremental",
    f"{total:,}",
    f"responses: {args.history + args.new:,}",
    "exact",
    total == args.history + args.new,
)

# The rebuild rewrote a million rows: leave the tables vacuumed for the benchmarks that follow.
settle()
