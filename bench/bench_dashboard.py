"""Executive dashboard (DESIGN.md §9: ≤ 300 ms server time at 1,000,000 responses, reading
rollups only), and the streamed responses export, against the running full-mode server.

Two projects are seeded with set-based SQL and rolled up: 1,000,000 responses and, as the
same-run baseline, 10,000. For each, the executive dashboard is fetched by a logged-in admin
over HTTP from gunicorn (median and p95 of 30 requests after a warm-up), and the same
per-touchpoint NPS is computed straight from the raw answers to show what rollups save. Then
`GET /api/v1/responses?format=csv` is streamed for both projects while the peak resident memory
of the gunicorn workers (VmHWM) is read before and after: a streamed export's memory does not
grow with its size.
"""

from __future__ import annotations

import re
import statistics
import time
from pathlib import Path

import requests
from common import arguments, row, setup_django, write

args = arguments(responses=1_000_000, baseline=10_000, requests=30)
setup_django()

from django.db import connection
from seed import analyze, insert_responses, make_project
from staff import staff_session

from metrics.rollups.services import rollups_rebuild
from surveys.tenancy.models import Project
from surveys.tenancy.services import api_key_create

assert connection.vendor == "postgresql", "run in full mode (make bench)"


def seeded(count: int) -> Project:
    """The bench project of this size (kept between runs: seeding 1M rows takes a minute)."""
    name = f"Bench: dashboard {count}"
    project = Project.objects.filter(name=name).first()
    if project is not None and project.responses.count() == count:
        return project
    Project.objects.filter(name=name).delete()
    project, surveys = make_project(f"dashboard {count}", csat=True)
    project.name = name
    project.save(update_fields=["name"])
    for survey, version, touchpoints in surveys:  # NPS and CSAT, half each
        share = count // len(surveys)
        insert_responses(project, survey, version, touchpoints, share, rolled_up=True)
    analyze()
    started = time.perf_counter()
    rollups_rebuild(project=project)
    print(f"seeded {count:,} responses, rolled up in {time.perf_counter() - started:.1f} s")
    return project


def dashboard_times(project: Project) -> tuple[float, float]:
    session = staff_session(args.base_url, project, "bench-dashboard")
    url = f"{args.base_url}/app/dashboards/"
    first = session.get(url, timeout=60)
    assert first.status_code == 200 and project.name.encode() in first.content, first.status_code
    times = []
    for _ in range(args.requests):
        started = time.perf_counter()
        response = session.get(url, timeout=60)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95) - 1]


def raw_query_ms(project: Project) -> float:
    """Per-touchpoint NPS counts straight from the answers: what the page would cost without
    rollups (one of its several aggregates)."""
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT r.touchpoint_id, count(*) FILTER (WHERE a.value_int >= 9),
                   count(*) FILTER (WHERE a.value_int <= 6), count(*)
            FROM feedback_answer a JOIN feedback_response r ON r.id = a.response_id
            WHERE r.project_id = %s AND a.question_type = 'nps'
              AND r.finished_at >= now() - interval '90 days'
            GROUP BY r.touchpoint_id
            """,
            [project.pk],
        )
        cursor.fetchall()
    return (time.perf_counter() - started) * 1000


def worker_peaks_kb() -> dict[int, int]:
    """Peak RSS (VmHWM) of each gunicorn worker, by pid."""
    master = int(Path("var/run/gunicorn.pid").read_text())
    peaks = {}
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            text = status.read_text()
        except OSError:
            continue
        if re.search(rf"^PPid:\s+{master}$", text, re.M):
            pid = int(status.parent.name)
            peaks[pid] = int(re.search(r"^VmHWM:\s+(\d+)", text, re.M).group(1))
    return peaks


def export(project: Project) -> dict:
    key = api_key_create(project=project).raw
    before = worker_peaks_kb()
    started = time.perf_counter()
    size = lines = 0
    with requests.get(
        f"{args.base_url}/api/v1/responses?format=csv",
        headers={"Authorization": f"Bearer {key}"},
        stream=True,
        timeout=600,
    ) as response:
        response.raise_for_status()
        for chunk in response.iter_content(chunk_size=1 << 16):
            size += len(chunk)
            lines += chunk.count(b"\n")
    return {
        "seconds": round(time.perf_counter() - started, 1),
        "rows": lines - 1,
        "mb": round(size / 1e6, 1),
        # the worker that served the export is the one whose peak grew (if any did)
        "worker_peak_growth_mb": round(
            max(peak - before.get(pid, peak) for pid, peak in worker_peaks_kb().items()) / 1024, 1
        ),
    }


small, big = seeded(args.baseline), seeded(args.responses)
small_median, small_p95 = dashboard_times(small)
big_median, big_p95 = dashboard_times(big)
raw_small, raw_big = raw_query_ms(small), raw_query_ms(big)
small_export = export(small)
big_export = export(big)
result = {
    "name": "dashboard",
    "responses": args.responses,
    "baseline_responses": args.baseline,
    "executive_median_ms": round(big_median, 1),
    "executive_p95_ms": round(big_p95, 1),
    "baseline_median_ms": round(small_median, 1),
    "baseline_p95_ms": round(small_p95, 1),
    "raw_answers_query_ms": round(raw_big, 1),
    "raw_answers_query_baseline_ms": round(raw_small, 1),
    "export": big_export,
    "export_baseline": small_export,
}
write("dashboard", result)
row(
    f"executive dashboard at {args.responses:,} responses (median / p95)",
    f"{big_median:.0f} / {big_p95:.0f} ms",
    f"at {args.baseline:,}: {small_median:.0f} / {small_p95:.0f} ms",
    "≤ 300 ms",
    big_p95 <= 300,
)
row(
    "one raw-answer aggregate instead of rollups",
    f"{raw_big:.0f} ms",
    f"at {args.baseline:,}: {raw_small:.0f} ms",
    "(why dashboards read rollups)",
    True,
)
row(
    f"CSV export of {big_export['rows']:,} answers, streamed",
    f"{big_export['seconds']} s, {big_export['mb']} MB, worker peak +{big_export['worker_peak_growth_mb']} MB",
    f"{small_export['rows']:,} answers: worker peak +{small_export['worker_peak_growth_mb']} MB",
    "memory flat in size",
    big_export["worker_peak_growth_mb"] <= small_export["worker_peak_growth_mb"] + 50,
)
