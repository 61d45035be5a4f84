"""Decide under load (DESIGN.md §9): p50/p99 at a fixed rate and maximum throughput, beside a
bare Django JSON view on the same gunicorn + PostgreSQL + Redis server in the same run.

Seeds (once) a project with 100,000 contacts, each with a visitor id and some display history,
and 50 active surveys over 50 touchpoints; each run starts from that seeded state. Two mixes,
each at the target rate, both printed with the share of decides that claimed a survey:

- *returning visitors* (the target's row): 2,000 visitors are active today and met their
  touchpoints before the measured phase (a warm-up that is not measured); 95 % of decides come
  from them, at random touchpoints, and the ledger mostly answers "not now" (cooldowns,
  sampled out); 5 % come from visitors not seen for a week, who may be asked. That puts ~3–4 %
  of decides on the claiming path, as in the realistic load test (bench_load.py: 3.6 %).
- *claim-heavy*: every decide is a visitor without a recent display, so ~70 % of decides claim
  a survey (each claim one compare-and-set UPDATE with the display's INSERT). DESIGN §9 holds
  both mixes to the same p99.

Maximum throughput is measured for both mixes beside the bare JSON view. Run by `make bench`
(full mode is up), or by hand: `.venv/bin/python bench/bench_decide.py --base-url
http://127.0.0.1:8000`.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Callable
from datetime import timedelta

from common import arguments, row, setup_django, write

args = arguments(
    contacts=100_000,
    surveys=50,
    rate=300.0,
    seconds=20.0,
    throughput_seconds=10.0,
    active_visitors=2_000,
)
setup_django()

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from seed import settle

from bench.loadgen import Result, best_of_turns, closed_loop, open_loop
from surveys.contacts.identity import user_hash
from surveys.contacts.models import Contact, VisitorId
from surveys.delivery.models import DecisionCount, Display
from surveys.design.services import QuestionIn, survey_create, survey_publish
from surveys.journey.services import touchpoint_create
from surveys.tenancy.models import Project
from surveys.tenancy.services import project_create


def seed() -> Project:
    project = Project.objects.filter(name="Bench: decide").order_by("-pk").first()
    if project and project.contacts.count() >= args.contacts:
        return project
    if project is not None:  # a seed interrupted half-way: start again
        Project.objects.filter(name="Bench: decide").delete()
    started = time.monotonic()
    with transaction.atomic():
        project, _ = project_create(name="Bench: decide", allowed_origins=[args.base_url])
        for i in range(args.surveys):
            touchpoint_create(project=project, key=f"tp_{i}", name=f"Touchpoint {i}")
        surveys = []
        for i in range(args.surveys):
            survey = survey_create(
                project=project,
                name=f"Survey {i}",
                questions=[
                    QuestionIn(type="nps", text={"en": "How likely…?"}),
                    QuestionIn(type="text", text={"en": "Why?"}, required=False),
                ],
                touchpoint_keys=[f"tp_{i}", f"tp_{(i + 1) % args.surveys}"],
                sample_percent=50,
                priority=i % 3,
            )
            survey_publish(survey=survey)
            survey.refresh_from_db()
            surveys.append(survey)
    rng = random.Random(1)
    batch = 10_000
    for start in range(0, args.contacts, batch):
        contacts = Contact.objects.bulk_create(
            [
                Contact(
                    project=project,
                    user_id=f"user-{i}",
                    attributes={"plan": rng.choice(["free", "pro"])},
                )
                for i in range(start, start + batch)
            ]
        )
        VisitorId.objects.bulk_create(
            [
                VisitorId(project=project, visitor_id=f"visitor-{start + n}", contact=c)
                for n, c in enumerate(contacts)
            ]
        )
        now = timezone.now()
        displays = []
        for contact in contacts:
            for _ in range(rng.randint(0, 3)):
                survey = rng.choice(surveys)
                displays.append(
                    Display(
                        project=project,
                        contact=contact,
                        survey=survey,
                        version_id=survey.current_version_id,
                        status="responded",
                        claimed_at=now - timedelta(days=rng.randint(8, 400)),
                    )
                )
        Display.objects.bulk_create(displays)
    print(
        f"seeded {args.contacts} contacts and {args.surveys} surveys in {time.monotonic() - started:.0f}s",
        flush=True,
    )
    return project


def reset(project: Project) -> int:
    """Start every run from the seeded history: the decides below pick the same visitors each
    run, so claims left by a run minutes earlier would otherwise turn this run's claims into
    cooldown refusals (measured: 72 %, 40 % and 0 % of decides claiming in three runs). The
    seed's displays are all at least 8 days old; what is newer was claimed by a run."""
    recent = Display.objects.filter(
        project=project, claimed_at__gte=timezone.now() - timedelta(days=7)
    )
    return recent.delete()[0]


project = seed()
print(f"reset: {reset(project)} rows claimed by earlier runs removed", flush=True)
settle("surveys_display", "surveys_contact")  # not autovacuum's work during the measurement
key = project.public_key
identity_secret = project.identity_secret
rng = random.Random(2)
ACTIVE = args.active_visitors  # visitor-0 … visitor-1999: the returning visitors


def _body(visitor: int) -> tuple[str, str, dict]:
    # The seeded visitors are signed-in customers: their widget names them, signed by the
    # company's server (identity verification is on, as for every new project).
    user_id = f"user-{visitor}"
    return (
        "POST",
        "/api/widget/v1/decide",
        {
            "key": key,
            "visitor_id": f"visitor-{visitor}",
            "user_id": user_id,
            "user_hash": user_hash(secret=identity_secret, user_id=user_id),
            "touchpoint": f"tp_{rng.randrange(args.surveys)}",
            "url": "https://shop.example/",
            "locale": "en",
        },
    )


def returning(i: int):
    """95 % from today's active visitors, 5 % from visitors not seen for a week."""
    if rng.random() < 0.95:
        return _body(rng.randrange(ACTIVE))
    return _body(rng.randrange(ACTIVE, args.contacts))


def claim_heavy(i: int):
    return _body(rng.randrange(ACTIVE, args.contacts))


def active_visit(i: int):
    return _body(i % ACTIVE)


def bare(i: int):
    return ("GET", "/bench/bare-json", None)


def decide_counts() -> Counter:
    """Decide's counters of the bench project, by reason (all days)."""
    return Counter(
        {
            row["reason"]: row["n"]
            for row in DecisionCount.objects.filter(project=project)
            .values("reason")
            .annotate(n=Sum("count"))
        }
    )


def claim_share(before: Counter) -> tuple[float, dict]:
    """The share of the phase's decides that claimed a survey: its counts are the counters'
    growth since `before`."""
    time.sleep(3)  # the web processes add their counts to the database every second
    answers = dict(decide_counts() - before)
    return answers.get("shown", 0) / max(1, sum(answers.values())), answers


# Warm-up, not measured: connections, caches, and today's visitors meeting their touchpoints.
closed_loop(args.base_url, active_visit, 3 * ACTIVE / 500, concurrency=4)
time.sleep(3)
before = decide_counts()
returning_rate = open_loop(args.base_url, returning, args.rate, args.seconds)
returning_share, returning_answers = claim_share(before)
before = decide_counts()
heavy_rate = open_loop(args.base_url, claim_heavy, args.rate, args.seconds)
heavy_share, heavy_answers = claim_share(before)
bare_rate = open_loop(args.base_url, bare, args.rate, args.seconds)


def most(make) -> Callable[[], Result]:
    """One round of a mix's maximum throughput (8 connections; bench.loadgen.closed_loop says
    how they are spread over the gunicorn processes)."""
    return lambda: closed_loop(args.base_url, make, args.throughput_seconds / 2, concurrency=8)


returning_max, heavy_max, bare_max = best_of_turns(most(returning), most(claim_heavy), most(bare))
ratio = returning_max.rps / bare_max.rps if bare_max.rps else 0.0
heavy_ratio = heavy_max.rps / bare_max.rps if bare_max.rps else 0.0
result = {
    "name": "decide",
    "contacts": args.contacts,
    "active_surveys": args.surveys,
    "rate": args.rate,
    "returning_at_rate": returning_rate.summary(),
    "returning_answers": returning_answers,
    "claim_heavy_at_rate": heavy_rate.summary(),
    "claim_heavy_answers": heavy_answers,
    "bare_at_rate": bare_rate.summary(),
    "returning_max": returning_max.summary(),
    "claim_heavy_max": heavy_max.summary(),
    "bare_max": bare_max.summary(),
    "throughput_ratio": round(ratio, 3),
    "claim_heavy_throughput_ratio": round(heavy_ratio, 3),
}
write("decide", result)
d, h, b = returning_rate.summary(), heavy_rate.summary(), bare_rate.summary()
row(
    f"decide p50 / p99 at {args.rate:.0f} req/s (returning visitors)",
    f"{d['p50_ms']} / {d['p99_ms']} ms ({d['errors']} errors; {100 * returning_share:.1f} % of"
    " decides claimed a survey)",
    f"bare JSON view: {b['p50_ms']} / {b['p99_ms']} ms",
    "p99 ≤ 15 ms",
    d["p99_ms"] <= 15 and d["errors"] == 0,
)
row(
    f"decide p50 / p99 at {args.rate:.0f} req/s (claim-heavy mix)",
    f"{h['p50_ms']} / {h['p99_ms']} ms ({h['errors']} errors; {100 * heavy_share:.0f} % of"
    " decides claimed a survey)",
    f"bare JSON view: {b['p50_ms']} / {b['p99_ms']} ms",
    "p99 ≤ 15 ms",
    h["p99_ms"] <= 15 and h["errors"] == 0,
)
row(
    "decide max throughput (returning visitors)",
    f"{returning_max.rps:.0f} req/s (claim-heavy: {heavy_max.rps:.0f} req/s,"
    f" {100 * heavy_ratio:.0f} %)",
    f"bare JSON view: {bare_max.rps:.0f} req/s ({100 * ratio:.0f} %)",
    "≥ 40 % of bare",
    ratio >= 0.4,
)
