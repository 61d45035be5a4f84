"""History growth (DESIGN.md §9): decide, ingest, the worker, the executive dashboard and claim
expiry measured at a small history and again, in the same run and the same database, after
the history has grown 100×: 100,000 answers / 100,000 displays / 10,000 contacts, then
10,000,000 / 10,000,000 / 1,000,000 (`--large 1000000` validates at 1M answers first).

Every contact has ten answered displays spread over two years (bench/seed.py `grow_history`,
set-based SQL), so a visitor's own ledger is the same size at both points: what grows is the
tables and their indexes. The history's rollups are built by the rebuild (its time is
printed). The project is kept between runs, but a run always measures the small point
before growing, so a grown history left by an earlier run is dropped first (set-based deletes).

At each point, after VACUUM ANALYZE:
- decide: p50/p99 at a fixed open-loop rate (`--rate`, 150 req/s) of signed-in visitors drawn
  from the whole contact population, and closed-loop maximum throughput (8 connections);
- ingest: widget answers to displays claimed just before (closed loop, 8 connections), via
  gunicorn, throughput and p99;
- worker: a fixed batch of new finished answers (`--batch`) published to the Celery worker in
  web-sized messages, time until every one has processed_at set;
- executive dashboard: median server time of `--requests` fetches by a logged-in admin;
- claim expiry: `claims_expire` over `--stale` stale claims mixed into the history.
Run by `make bench BENCH=growth` (full mode is up)."""

from __future__ import annotations

import os
import random
import statistics
import time
from datetime import timedelta

from common import arguments, row, setup_django, write

args = arguments(
    small=100_000,  # answers at the small point (and as many displays, a tenth as many contacts)
    large=10_000_000,  # answers at the large point
    rate=150.0,
    seconds=15.0,
    throughput_seconds=6.0,
    ingest_seconds=8.0,
    batch=5_000,
    requests=20,
    stale=5_000,
    fresh=0,
)
setup_django()

from django.db import connection
from django.utils import timezone
from seed import (
    HISTORY_PER_CONTACT,
    grow_history,
    growth_project,
    history_contacts,
    settle,
    stale_claims_insert,
    unprocessed_responses_insert,
    wait_processed,
)
from staff import staff_session

from bench.loadgen import closed_loop, open_loop
from feedback.answering.models import Response
from feedback.answering.pipeline import PROCESS_RESPONSES
from feedback.cases.models import Case
from metrics.rollups.services import rollups_rebuild
from surveys.contacts.identity import user_hash
from surveys.contacts.models import Contact
from surveys.delivery.ledger import claims_expire
from surveys.delivery.models import Display, DisplayStatus
from surveys.tenancy.models import Project
from vocsite.publish import task_publish

assert connection.vendor == "postgresql", "run in full mode (make bench)"
NAME = "Bench: growth"
TABLES = (
    "surveys_contact",
    "surveys_visitorid",
    "surveys_display",
    "feedback_response",
    "feedback_answer",
    "metrics_rollup",
)
# The ORM's cascade for the project's small rest, after set-based deletes of the big tables.
DROP = (
    "DELETE FROM feedback_answer a USING feedback_response r"
    " WHERE a.response_id = r.id AND r.project_id = %(p)s",
    "DELETE FROM metrics_rollup WHERE project_id = %(p)s",
    "DELETE FROM feedback_response WHERE project_id = %(p)s",
    "DELETE FROM surveys_display WHERE project_id = %(p)s",
    "DELETE FROM surveys_visitorid WHERE project_id = %(p)s",
    "DELETE FROM surveys_contact WHERE project_id = %(p)s",
)


def pg_settings() -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name, current_setting(name) FROM pg_settings WHERE name IN ('fsync',"
            " 'synchronous_commit', 'full_page_writes', 'shared_buffers', 'max_wal_size',"
            " 'autovacuum', 'server_version') ORDER BY name"
        )
        return ", ".join(f"{name}={value}" for name, value in cursor.fetchall())


def drop(project: Project) -> None:
    # What processing linked to the rows (cases, tags) goes by the ORM's cascade first.
    Case.objects.filter(project=project).delete()
    recent_delete(project)
    with connection.cursor() as cursor:
        for statement in DROP:
            cursor.execute(statement, {"p": project.pk})
    project.delete()


def grow(project: Project, surveys: list, contacts: int) -> dict:
    """Grow the history to `contacts` contacts, rebuild its rollups and settle the tables."""
    started = time.perf_counter()
    added = grow_history(project, surveys, contacts)
    seeded = time.perf_counter() - started
    # The rebuild's aggregate is planned from the statistics: those of the tables before the
    # growth (or none, on a new database) planned nested loops that took minutes.
    analyze_seconds = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {', '.join(TABLES)}")
    analyze_seconds = time.perf_counter() - analyze_seconds
    started = time.perf_counter()
    rollups_rebuild(project=project)
    rebuilt = time.perf_counter() - started
    started = time.perf_counter()
    settle(*TABLES)
    settled = time.perf_counter() - started
    figures = {
        "contacts_added": added,
        "seed_s": round(seeded, 1),
        "analyze_s": round(analyze_seconds, 1),
        "rollups_rebuild_s": round(rebuilt, 1),
        "vacuum_analyze_s": round(settled, 1),
    }
    print(f"grew to {contacts:,} contacts: {figures}", flush=True)
    return figures


def reset(project: Project) -> None:
    """Start each point from the seeded history: the seed's displays are all at least 8 days
    old; what is newer was claimed or answered by a measurement, and would otherwise turn
    the next point's claims into cooldown refusals."""
    recent_delete(project)
    settle(*TABLES)


def recent_delete(project: Project) -> None:
    """Delete the rows the measurements added (all newer than the seeded history)."""
    recent = timezone.now() - timedelta(days=7)
    Response.objects.filter(project=project, created_at__gte=recent).delete()
    # every status named: the (status, claimed_at) index serves the delete
    Display.objects.filter(
        project=project, claimed_at__gte=recent, status__in=DisplayStatus.values
    ).delete()


def decide(project: Project, population: int, surveys: int) -> dict:
    rng = random.Random(population)
    key, secret = project.public_key, project.identity_secret

    def visit(i: int):
        user_id = f"user-{rng.randint(1, population)}"
        return (
            "POST",
            "/api/widget/v1/decide",
            {
                "key": key,
                "visitor_id": f"visitor-{user_id[5:]}",
                "user_id": user_id,
                "user_hash": user_hash(secret=secret, user_id=user_id),
                "touchpoint": f"tp_{rng.randrange(surveys)}",
                "url": "https://shop.example/",
                "locale": "en",
            },
        )

    closed_loop(args.base_url, visit, 3, concurrency=4)  # warm-up: connections, caches
    at_rate = open_loop(args.base_url, visit, args.rate, args.seconds)
    most = closed_loop(args.base_url, visit, args.throughput_seconds, concurrency=8)
    return {"at_rate": at_rate.summary(), "max_rps": round(most.rps, 1)}


def ingest(project: Project, surveys: list, population: int) -> dict:
    """Answers to displays claimed just before (as the widget's decide would), one each."""
    rng = random.Random(population + 1)
    count = int(args.ingest_seconds * 1500)  # more than the fastest host answers
    user_ids = [f"user-{rng.randint(1, population)}" for _ in range(count)]
    contacts = dict(
        Contact.objects.filter(project=project, user_id__in=user_ids).values_list("user_id", "pk")
    )
    now = timezone.now()
    displays = Display.objects.bulk_create(
        [
            Display(
                project=project,
                contact_id=contacts[user_id],
                survey=surveys[n % len(surveys)][0],
                version=surveys[n % len(surveys)][1],
                status="shown",
                claimed_at=now,
                shown_at=now,
            )
            for n, user_id in enumerate(user_ids)
        ]
    )
    questions = {s.pk: v.snapshot["questions"][0]["id"] for s, v in surveys}
    pending = iter(displays)

    def respond(i: int):
        display = next(pending)
        return (
            "POST",
            "/api/widget/v1/responses",
            {
                "key": project.public_key,
                "display_id": str(display.pk),
                "submission_id": f"{display.pk}",
                "answers": [{"question_id": questions[display.survey_id], "value": i % 11}],
                "finished": True,
            },
        )

    result = closed_loop(args.base_url, respond, args.ingest_seconds, concurrency=8, ok=(201,))
    wait_processed(project, 600, queues=("default", "rollups", "alerts"))
    return {"rps": round(result.rps, 1), "p99_ms": round(result.pct(99), 2), **result.summary()}


def worker(project: Project, surveys: list) -> dict:
    """A fixed batch of new finished answers through the Celery worker, end to end."""
    ids = unprocessed_responses_insert(project, surveys, args.batch)
    started = time.perf_counter()
    for first in range(0, len(ids), 50):  # the size of a busy web process's batch
        task_publish(PROCESS_RESPONSES, ids[first : first + 50])
    while Response.objects.filter(pk__in=ids, processed_at__isnull=True).exists():
        time.sleep(0.1)
    return {"answers": len(ids), "seconds": round(time.perf_counter() - started, 2)}


def dashboard(project: Project) -> dict:
    session = staff_session(args.base_url, project, "bench-growth")
    url = f"{args.base_url}/app/dashboards/"
    first = session.get(url, timeout=120)
    assert first.status_code == 200 and project.name.encode() in first.content, first.status_code
    times = []
    for _ in range(args.requests):
        started = time.perf_counter()
        assert session.get(url, timeout=120).status_code == 200
        times.append((time.perf_counter() - started) * 1000)
    return {"median_ms": round(statistics.median(times), 1), "max_ms": round(max(times), 1)}


def expiry(project: Project, population: int) -> dict:
    claims_expire(pause=0)  # claims the measurements above left unconfirmed: not measured
    stale_claims_insert(project, args.stale, population)
    settle("surveys_display")
    started = time.perf_counter()
    expired = claims_expire(pause=0)
    return {"expired": expired, "ms": round((time.perf_counter() - started) * 1000, 1)}


def measure(project: Project, surveys: list, population: int) -> dict:
    """Every operation at this history size. The machine's load average (1 min) before and
    after is kept beside the figures: on a shared host it moves them more than the history."""
    reset(project)
    figures = {"load_before": round(os.getloadavg()[0], 1)}
    figures["decide"] = decide(project, population, len(surveys))
    figures["ingest"] = ingest(project, surveys, population)
    figures["worker"] = worker(project, surveys)
    settle(*TABLES)
    figures["dashboard"] = dashboard(project)
    figures["expiry"] = expiry(project, population)
    figures["load_after"] = round(os.getloadavg()[0], 1)
    print(f"at {population:,} contacts: {figures}", flush=True)
    return figures


print(f"PostgreSQL settings: {pg_settings()}", flush=True)
existing = Project.objects.filter(name=NAME).first()
if existing is not None and (
    args.fresh or history_contacts(existing) > args.small // HISTORY_PER_CONTACT
):
    print("dropping the earlier run's grown history (the small point is measured first)")
    drop(existing)
project, surveys = growth_project(NAME, surveys=20, origin=args.base_url)
small_contacts = args.small // HISTORY_PER_CONTACT
large_contacts = args.large // HISTORY_PER_CONTACT
growth = {"small": grow(project, surveys, small_contacts)}
small = measure(project, surveys, small_contacts)
growth["large"] = grow(project, surveys, large_contacts)
large = measure(project, surveys, large_contacts)
write(
    "growth",
    {"name": "growth", "settings": pg_settings(), "seed": growth, "small": small, "large": large},
)

LIMIT = 1.3
answers = f"{args.large:,} answers"


def compare(name: str, big: float, little: float, unit: str, higher_is_better=False) -> None:
    ratio = (little / big if higher_is_better else big / little) if big and little else 0.0
    row(
        f"{name} at {answers} (vs {args.small:,})",
        f"{big:g} {unit} ({ratio:.2f}×)",
        f"{little:g} {unit}",
        f"≤ {LIMIT}×",
        0 < ratio <= LIMIT,
    )


compare(
    "decide p50", large["decide"]["at_rate"]["p50_ms"], small["decide"]["at_rate"]["p50_ms"], "ms"
)
compare(
    "decide p99", large["decide"]["at_rate"]["p99_ms"], small["decide"]["at_rate"]["p99_ms"], "ms"
)
compare(
    "decide max throughput", large["decide"]["max_rps"], small["decide"]["max_rps"], "req/s", True
)
compare("ingest throughput", large["ingest"]["rps"], small["ingest"]["rps"], "req/s", True)
compare("ingest p99", large["ingest"]["p99_ms"], small["ingest"]["p99_ms"], "ms")
compare(
    f"worker, {args.batch:,} answers", large["worker"]["seconds"], small["worker"]["seconds"], "s"
)
compare(
    "executive dashboard median",
    large["dashboard"]["median_ms"],
    small["dashboard"]["median_ms"],
    "ms",
)
compare(f"claim expiry, {args.stale:,} stale", large["expiry"]["ms"], small["expiry"]["ms"], "ms")
