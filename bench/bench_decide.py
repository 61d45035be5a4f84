"""Decide under load (DESIGN.md §9): p50/p99 at a fixed rate and maximum throughput, beside a
bare Django JSON view on the same gunicorn + PostgreSQL + Redis server in the same run.

Seeds (once) a project with 100,000 contacts, each with a visitor id and some display history,
and 50 active surveys over 50 touchpoints; each run starts from that seeded state. Visitors
are picked at random (the same sequence each run) and have no recent display, so most decides
of this benchmark claim a survey (the row prints the share) — the costlier path. The load test (bench_load.py) has the realistic mix, where most decides say no. Run by `make bench` (full mode is up), or by hand:
`.venv/bin/python bench/bench_decide.py --base-url http://127.0.0.1:8000`.
"""

from __future__ import annotations

import random
import time
from datetime import timedelta

from common import arguments, row, setup_django, write

args = arguments(contacts=100_000, surveys=50, rate=300.0, seconds=20.0, throughput_seconds=10.0)
setup_django()

from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from bench.loadgen import closed_loop, open_loop
from surveys.models import Contact, Decision, Display, Project, VisitorId
from surveys.services import (
    QuestionIn,
    project_create,
    survey_create,
    survey_publish,
    touchpoint_create,
)


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
key = project.public_key
rng = random.Random(2)


def decide(i: int):
    return (
        "POST",
        "/api/widget/v1/decide",
        {
            "key": key,
            "visitor_id": f"visitor-{rng.randrange(args.contacts)}",
            "touchpoint": f"tp_{rng.randrange(args.surveys)}",
            "url": "https://shop.example/",
            "locale": "en",
        },
    )


def bare(i: int):
    return ("GET", "/bench/bare-json", None)


closed_loop(args.base_url, decide, 3, concurrency=4)  # warm up connections and caches
phase_start = timezone.now()
decide_rate = open_loop(args.base_url, decide, args.rate, args.seconds)
time.sleep(3)  # the web processes write their Decision rows once a second
answers = {
    row["reason"]: row["n"]
    for row in Decision.objects.filter(project=project, created_at__gte=phase_start)
    .values("reason")
    .annotate(n=Count("id"))
}
shown_share = answers.get("shown", 0) / max(1, sum(answers.values()))
bare_rate = open_loop(args.base_url, bare, args.rate, args.seconds)
decide_max = closed_loop(args.base_url, decide, args.throughput_seconds, concurrency=8)
bare_max = closed_loop(args.base_url, bare, args.throughput_seconds, concurrency=8)
ratio = decide_max.rps / bare_max.rps if bare_max.rps else 0.0
result = {
    "name": "decide",
    "contacts": args.contacts,
    "active_surveys": args.surveys,
    "rate": args.rate,
    "decide_at_rate": decide_rate.summary(),
    "answers_at_rate": answers,
    "bare_at_rate": bare_rate.summary(),
    "decide_max": decide_max.summary(),
    "bare_max": bare_max.summary(),
    "throughput_ratio": round(ratio, 3),
}
write("decide", result)
d, b = decide_rate.summary(), bare_rate.summary()
row(
    f"decide p50 / p99 at {args.rate:.0f} req/s",
    f"{d['p50_ms']} / {d['p99_ms']} ms ({d['errors']} errors; {100 * shown_share:.0f} % of"
    " decides showed a survey)",
    f"bare JSON view: {b['p50_ms']} / {b['p99_ms']} ms",
    "p99 ≤ 15 ms",
    d["p99_ms"] <= 15 and d["errors"] == 0,
)
row(
    "decide max throughput",
    f"{decide_max.rps:.0f} req/s",
    f"bare JSON view: {bare_max.rps:.0f} req/s ({100 * ratio:.0f} %)",
    "≥ 50 % of bare",
    ratio >= 0.5,
)
