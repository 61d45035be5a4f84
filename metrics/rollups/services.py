"""Rollups: additive histograms of scores, kept incrementally and rebuildable from raw rows.

Each scored answer (NPS, CSAT, CES, rating) of a finished response adds 1 to one base cell —
(survey, question uid, the question's scale and wording, touchpoint, stage, channel, day,
score) — and to one cell per breakdown attribute the response carries (its frozen `segment`).
The day is the answer's local date in the project's timezone; a timezone change rebuilds.
Increments are one upsert per batch (`metrics.rollups.sql.cells_increment`), so cost grows with
the new answers, not with history.

Exactly-once: `rollup_responses` claims `Response.rolled_up_at` with a conditional UPDATE in the
same transaction as the increments; a second run (a retried task, the sweeper, a redelivered
message after a killed worker) finds the marker set and adds nothing. `rollups_rebuild`
recomputes everything from raw rows with GROUP BY and takes an exclusive lock that incremental
runs share, so the two never interleave.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from datetime import date

from django.db import transaction
from django.db.models import CharField, Count, F, Value
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Coalesce, NullIf, TruncDate
from django.utils import timezone

from feedback.answering.models import Answer, Response
from metrics.rollups.models import Rollup
from metrics.rollups.sql import cells_increment, responses_claim, rollups_lock, work_mem_set
from surveys.design.models import SCORED_TYPES
from surveys.journey.channels import channel_expression, response_channel
from surveys.tenancy.models import Project
from surveys.tenancy.timezones import day_start, local_day, project_zone


def cells_for(response: Response, answers: Iterable[Answer], breakdown: list[str]) -> Counter:
    """The cells one finished response adds 1 to, each keyed in the order of
    `metrics.rollups.sql.CELL_COLUMNS`."""
    touchpoint = response.touchpoint
    tp_key = touchpoint.key if touchpoint else ""
    stage_key = touchpoint.stage.key if touchpoint and touchpoint.stage else ""
    channel = response_channel(response.channel, touchpoint.channel if touchpoint else None)
    day = local_day(response.finished_at, project_zone(response.project))
    segments = [("", "")] + [
        (name, str(response.segment[name]))
        for name in breakdown
        if response.segment.get(name) not in (None, "")
    ]
    counts: Counter = Counter()
    for answer in answers:
        if answer.question_type not in SCORED_TYPES or answer.value_int is None:
            continue
        q = answer.question
        for attribute, value in segments:
            key = (
                response.project_id,
                response.survey_id,
                q.uid,
                q.type,
                q.scale_max,
                q.scale_wording or "agree",
                tp_key,
                stage_key,
                channel,
                attribute,
                value[:200],
                day,
                answer.value_int,
            )
            counts[key] += 1
    return counts


def rollup_response(response_id: int) -> bool:
    """Count one finished response into the rollups, exactly once. True if it was counted now."""
    return bool(rollup_responses([response_id]))


def rollup_responses(response_ids: Sequence[int]) -> set[int]:
    """Count finished responses into the rollups, exactly once; returns the ids counted now.

    One transaction per project: the claim — `rolled_up_at` set where it is still null, one
    UPDATE … RETURNING for the batch — and one upsert of the batch's summed cells. A worker
    takes a web process's batch of answers at a time (feedback.answering.pipeline), and per response
    this was eight statements."""
    by_project: dict[int, list[int]] = defaultdict(list)
    for pk, project_id in Response.objects.filter(pk__in=list(response_ids)).values_list(
        "pk", "project_id"
    ):
        by_project[project_id].append(pk)
    counted: set[int] = set()
    for project_id, ids in sorted(by_project.items()):
        with transaction.atomic():
            rollups_lock(project_id, exclusive=False)
            claimed = responses_claim(ids)
            if not claimed:
                continue
            answers: dict[int, list[Answer]] = defaultdict(list)
            for answer in Answer.objects.filter(response_id__in=claimed).select_related("question"):
                answers[answer.response_id].append(answer)
            counts: Counter = Counter()
            for response in Response.objects.select_related("touchpoint__stage", "project").filter(
                pk__in=claimed
            ):
                breakdown = list(response.project.breakdown_attributes or [])
                counts.update(cells_for(response, answers[response.pk], breakdown))
            cells_increment(counts)
            counted.update(claimed)
    return counted


def _grouped(
    project: Project,
    attribute: str | None,
    survey_ids: Sequence[int] | None = None,
    from_day: date | None = None,
) -> Iterable[dict]:
    """One GROUP BY over the raw answers of the project (of some surveys only, when given; of
    the days from `from_day` on, when given): a row per cell with its count.

    Mirrors `cells_for` expression by expression; the rollup tests hold the two together."""
    answers = Answer.objects.filter(
        response__project=project,
        response__finished=True,
        # Only what has been claimed: a response committed after the rebuild's claim below is
        # left for its own task (which waits for the rebuild's lock) to count.
        response__rolled_up_at__isnull=False,
        question_type__in=list(SCORED_TYPES),
        value_int__isnull=False,
    )
    if survey_ids is not None:
        answers = answers.filter(response__survey_id__in=list(survey_ids))
    value_expr = (
        NullIf(
            KeyTextTransform(attribute, "response__segment"), Value(""), output_field=CharField()
        )
        if attribute
        else Value("")
    )
    if attribute:
        answers = answers.filter(response__segment__has_key=attribute)
    answers = answers.annotate(
        tp=Coalesce(F("response__touchpoint__key"), Value(""), output_field=CharField()),
        stage=Coalesce(F("response__touchpoint__stage__key"), Value(""), output_field=CharField()),
        ch=channel_expression("response__"),
        wording=Coalesce(
            NullIf(F("question__scale_wording"), Value("")),
            Value("agree"),
            output_field=CharField(),
        ),
        bv=value_expr,
        d=TruncDate("response__finished_at", tzinfo=project_zone(project)),
    )
    if attribute:
        # The incremental path skips a segment value that is missing, null or blank.
        answers = answers.filter(bv__isnull=False)
    if from_day is not None:
        answers = answers.filter(d__gte=from_day)
    return (
        answers.values(
            "response__survey_id",
            "question__uid",
            "question_type",
            "question__scale_max",
            "wording",
            "tp",
            "stage",
            "ch",
            "bv",
            "d",
            "value_int",
        )
        .annotate(n=Count("id"))
        .order_by()
    )


# The rebuild's GROUP BY over every answer of a project sorted on disk with PostgreSQL's
# default 4 MB (5.6 s at 1M answers); with this much it aggregates in memory (3.3 s). Set for
# the rebuild's own transaction only.
REBUILD_WORK_MEM = "128MB"


def _raw_rows_kept_from(project: Project) -> date | None:
    """The first day whose raw rows data retention kept (surveys.tenancy.retention): the cells
    before it are the only record of their days, so a recount starts there and leaves them as
    they are. The project row is locked for the caller's transaction, so retention cannot move
    the day (and delete the rows after it) while the recount reads them."""
    return (
        Project.objects.select_for_update()
        .values_list("raw_rows_kept_from", flat=True)
        .get(pk=project.pk)
    )


def _cells_from(project: Project, from_day: date | None):
    cells = Rollup.objects.filter(project=project)
    return cells.filter(day__gte=from_day) if from_day is not None else cells


@transaction.atomic
def _rebuild_project(project: Project) -> int:
    rollups_lock(project.pk, exclusive=True)
    work_mem_set(REBUILD_WORK_MEM)
    from_day = _raw_rows_kept_from(project)
    _cells_from(project, from_day).delete()
    # Claim everything finished but not yet counted (in the recounted days): the rebuild counts
    # it now, and the response's own task (or the sweeper) then only runs the hooks. One
    # finished before `from_day` is left to its own task, which adds it to the kept cells.
    unclaimed = Response.objects.filter(project=project, finished=True, rolled_up_at__isnull=True)
    if from_day is not None:
        unclaimed = unclaimed.filter(finished_at__gte=day_start(from_day, project_zone(project)))
    unclaimed.update(rolled_up_at=timezone.now())
    return _recount(project, [None, *(project.breakdown_attributes or [])], from_day=from_day)


def _recount(
    project: Project,
    attributes: Sequence[str | None],
    survey_ids: Sequence[int] | None = None,
    from_day: date | None = None,
) -> int:
    """Count the claimed answers into the (emptied) cells of these attributes (None: the base
    cube), of these surveys or all, of the days from `from_day` on; returns the cells written."""
    written = 0
    for attribute in attributes:
        counts: Counter = Counter()
        grouped = _grouped(project, attribute, survey_ids, from_day)
        for row in grouped.iterator(chunk_size=5000):
            key = (
                project.pk,
                row["response__survey_id"],
                row["question__uid"],
                row["question_type"],
                row["question__scale_max"],
                row["wording"],
                row["tp"],
                row["stage"],
                row["ch"],
                attribute or "",
                (row["bv"] or "")[:200],
                row["d"],
                row["value_int"],
            )
            counts[key] += row["n"]
        cells_increment(counts)
        written += len(counts)
    return written


def rollups_recount_breakdowns(*, project: Project, survey_ids: Sequence[int]) -> int:
    """Recount these surveys' breakdown cells from the raw rows, in the caller's transaction,
    under the project's exclusive lock (taken here if the caller has not): what erasure runs
    after it rewrote segments, so the cells match the rows whatever changed since they were
    first counted. The base cube is left as it is (segments are not in it)."""
    rollups_lock(project.pk, exclusive=True)
    from_day = _raw_rows_kept_from(project)
    _cells_from(project, from_day).filter(survey_id__in=list(survey_ids)).exclude(
        breakdown_attribute=""
    ).delete()
    return _recount(project, list(project.breakdown_attributes or []), survey_ids, from_day)


def rollups_rebuild(*, project: Project | None = None) -> int:
    """Recompute the histograms of one project (or all) from raw answers; returns cells written.

    Each project is deleted and recomputed in its own transaction under the project's
    exclusive lock, so dashboards see either the old or the new counts, never half. After data
    retention deleted raw rows, only the days from `Project.raw_rows_kept_from` on are
    recomputed; the cells before it are kept as they are."""
    projects = [project] if project is not None else list(Project.objects.order_by("pk"))
    return sum(_rebuild_project(current) for current in projects)
