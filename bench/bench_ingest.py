"""Response ingest (DESIGN.md §9): throughput of POST /api/widget/v1/responses beside a bare
endpoint doing one INSERT, same server, same run — each the best of three rounds taken in turns
(bench.loadgen.best_of_turns) — then zero loss: every accepted response of every round is
stored and, once the Celery worker has processed it, counted in the rollups exactly once.

The worker processes the answers on the same two cores while ingest runs, as in full mode.
Each ingest round waits for it to finish before the next round starts: otherwise that backlog
would take its CPU from the bare baseline's round, not from ingest."""

from __future__ import annotations

import itertools
import time
import uuid

from common import arguments, row, setup_django, write

args = arguments(displays=30_000, seconds=10.0, concurrency=8)
setup_django()

from django.db.models import Sum
from django.utils import timezone
from seed import wait_processed

from bench.loadgen import Result, best_of_turns, closed_loop
from feedback.answering.models import Response
from metrics.rollups.models import Rollup
from surveys.contacts.models import Contact
from surveys.delivery.models import Display
from surveys.design.services import QuestionIn, survey_create, survey_publish
from surveys.journey.services import touchpoint_create
from surveys.tenancy.services import project_create

project, _ = project_create(
    name=f"Bench: ingest {uuid.uuid4().hex[:6]}", allowed_origins=[args.base_url]
)
touchpoint_create(project=project, key="checkout", name="Checkout")
survey = survey_create(
    project=project,
    name="Ingest",
    questions=[QuestionIn(type="nps", text={"en": "NPS"})],
    touchpoint_keys=["checkout"],
)
version = survey_publish(survey=survey)
question_id = version.snapshot["questions"][0]["id"]
contacts = Contact.objects.bulk_create(
    [Contact(project=project, user_id=f"ingest-{i}") for i in range(args.displays)]
)
now = timezone.now()
displays = Display.objects.bulk_create(
    [
        Display(
            project=project,
            contact=c,
            survey=survey,
            version=version,
            status="shown",
            claimed_at=now,
            shown_at=now,
        )
        for c in contacts
    ]
)
display_ids = [str(d.pk) for d in displays]
key = project.public_key
unanswered = itertools.count()  # each answer to a display of its own, across the rounds


def respond(i: int):
    return (
        "POST",
        "/api/widget/v1/responses",
        {
            "key": key,
            "display_id": display_ids[next(unanswered)],
            "submission_id": str(uuid.uuid4()),
            "answers": [{"question_id": question_id, "value": i % 11}],
            "finished": True,
        },
    )


def bare(i: int):
    return ("POST", f"/bench/bare-insert?project={project.pk}", {"n": i})


def processed() -> None:
    """Wait until the worker has processed every stored response of the project and has no
    task left waiting (the e-mails and webhooks that processing queued)."""
    wait_processed(project, 300, queues=("default", "rollups", "alerts"))
    time.sleep(2)  # the last tasks taken from the queues finish


accepted = 0


def ingest_round() -> Result:
    global accepted
    result = closed_loop(
        args.base_url, respond, args.seconds / 2, concurrency=args.concurrency, ok=(201,)
    )
    accepted += result.requests - result.errors
    processed()
    return result


def bare_round() -> Result:
    return closed_loop(
        args.base_url, bare, args.seconds / 2, concurrency=args.concurrency, ok=(201,)
    )


ingest, baseline = best_of_turns(ingest_round, bare_round)
stored = Response.objects.filter(project=project).count()
counted = (
    Rollup.objects.filter(project=project, breakdown_attribute="").aggregate(n=Sum("count"))["n"]
    or 0
)
ratio = ingest.rps / baseline.rps if baseline.rps else 0.0
result = {
    "name": "ingest",
    "ingest": ingest.summary(),
    "bare_insert": baseline.summary(),
    "throughput_ratio": round(ratio, 3),
    "accepted": accepted,
    "stored": stored,
    "counted_in_rollups": counted,
}
write("ingest", result)
row(
    "response ingest throughput",
    f"{ingest.rps:.0f} req/s (p99 {ingest.pct(99):.1f} ms)",
    f"bare one-INSERT endpoint: {baseline.rps:.0f} req/s ({100 * ratio:.0f} %)",
    "≥ 40 % of bare",
    ratio >= 0.4,
)
row(
    "ingest loss",
    f"accepted {accepted}, stored {stored}, in rollups {counted}",
    "—",
    "zero loss, no double count",
    accepted == stored == counted,
)
