"""Reads for open text: verbatims (survey comments and Feedback-tab messages) under filters, the
topic overview and topic trends."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import CharField, Count, Exists, F, OuterRef, Prefetch, Q, QuerySet, Value
from django.db.models.functions import TruncWeek
from django.utils import timezone
from django.utils.translation import ngettext

from feedback.answering.models import Answer, Feedback
from feedback.topics.models import Tag, Topic
from surveys.tenancy.models import Project
from surveys.tenancy.timezones import day_start, project_zone


@dataclass(frozen=True)
class VerbatimFilters:
    topic_id: int | None = None
    sentiment: str = ""
    touchpoint: str = ""
    q: str = ""
    untagged: bool = False
    source: str = ""  # VERBATIM_SOURCES, or "" for both


# Where a verbatim comes from: an open-text answer to a survey, or a Feedback-tab message.
VERBATIM_SOURCES = ("survey", "feedback")


@dataclass(frozen=True)
class Verbatim:
    kind: str  # "survey" (an Answer) or "feedback" (a Feedback)
    item: Answer | Feedback


def _tagged(filters: VerbatimFilters, target: str) -> Q:
    """The topic filters of either kind of verbatim, as subqueries (no join, no duplicates)."""
    wanted = Q()
    live_tags = Tag.objects.filter(**{target: OuterRef("pk")}, suppressed=False)
    if filters.topic_id is not None:
        wanted &= Q(Exists(live_tags.filter(topic_id=filters.topic_id)))
    if filters.untagged:
        wanted &= ~Q(Exists(live_tags))
    return wanted


def verbatim_rows(*, project: Project, filters: VerbatimFilters) -> QuerySet:
    """Survey comments and Feedback-tab messages in one list, newest first, as
    `(kind, id, at)` rows to paginate; `verbatims_load` turns a page of them into items.
    A touchpoint filter keeps survey comments only (messages come from no touchpoint)."""
    text = Q(value_text__icontains=filters.q) if filters.q else Q()
    answers = (
        Answer.objects.filter(
            text,
            _tagged(filters, "answer"),
            response__project=project,
            question_type="text",
        )
        .exclude(value_text="")
        .annotate(kind=Value("survey", output_field=CharField()), at=F("response__finished_at"))
    )
    if filters.sentiment:
        answers = answers.filter(sentiment=filters.sentiment)
    if filters.touchpoint:
        answers = answers.filter(response__touchpoint__key=filters.touchpoint)
    rows = answers.values_list("kind", "id", "at")
    if filters.source == "survey" or filters.touchpoint:
        return rows.order_by("-at", "-id")
    messages = Feedback.objects.filter(
        Q(text__icontains=filters.q) if filters.q else Q(),
        _tagged(filters, "feedback"),
        project=project,
    ).annotate(kind=Value("feedback", output_field=CharField()), at=F("created_at"))
    if filters.sentiment:
        messages = messages.filter(sentiment=filters.sentiment)
    message_rows = messages.values_list("kind", "id", "at")
    if filters.source == "feedback":
        return message_rows.order_by("-at", "-id")
    return rows.union(message_rows, all=True).order_by("-at", "-id")


def verbatims_load(*, project: Project, rows) -> list[Verbatim]:
    """A page of `verbatim_rows` as items, in the page's order, with their tags (and, for
    survey comments, the response's scores)."""
    answer_ids = [pk for kind, pk, _at in rows if kind == "survey"]
    feedback_ids = [pk for kind, pk, _at in rows if kind == "feedback"]
    answers = {
        a.pk: a for a in verbatims(project=project, filters=VerbatimFilters(), ids=answer_ids)
    }
    messages = {
        f.pk: f
        for f in Feedback.objects.filter(project=project, pk__in=feedback_ids)
        .select_related("contact")
        .prefetch_related(
            Prefetch("tags", queryset=Tag.objects.select_related("topic").order_by("span_start"))
        )
    }
    loaded = {"survey": answers, "feedback": messages}
    return [Verbatim(kind, loaded[kind][pk]) for kind, pk, _at in rows if pk in loaded[kind]]


def verbatims(
    *, project: Project, filters: VerbatimFilters, ids: list[int] | None = None
) -> QuerySet[Answer]:
    """The project's open-text answers, newest first, with their tags and the response's
    scores (only the answers `ids`, when given: a page of `verbatim_rows`)."""

    answers = Answer.objects.filter(response__project=project, question_type="text").exclude(
        value_text=""
    )
    if ids is not None:
        answers = answers.filter(pk__in=ids)
    if filters.topic_id is not None:
        answers = answers.filter(tags__topic_id=filters.topic_id, tags__suppressed=False)
    if filters.untagged:
        answers = answers.exclude(tags__suppressed=False)
    if filters.sentiment:
        answers = answers.filter(sentiment=filters.sentiment)
    if filters.touchpoint:
        answers = answers.filter(response__touchpoint__key=filters.touchpoint)
    if filters.q:
        answers = answers.filter(value_text__icontains=filters.q)
    return (
        answers.distinct()
        .select_related("response__touchpoint", "response__contact")
        .prefetch_related(
            Prefetch("tags", queryset=Tag.objects.select_related("topic").order_by("span_start")),
            Prefetch(
                "response__answers",
                queryset=Answer.objects.exclude(value_int=None).order_by("question__position"),
                to_attr="scores",
            ),
        )
        .order_by("-response__finished_at", "-pk")
    )


def topic_overview(*, project: Project, days: int = 30) -> list[dict]:
    """Every topic with the comments it tagged in the last `days` and the `days` before."""
    from django.db.models import Count

    now = timezone.now()
    recent, before = now - timedelta(days=days), now - timedelta(days=2 * days)
    tagged = Q(tags__suppressed=False)
    rows = (
        Topic.objects.filter(project=project)
        .annotate(
            recent=Count(
                "tags__answer",
                distinct=True,
                filter=tagged & Q(tags__answer__response__finished_at__gte=recent),
            ),
            previous=Count(
                "tags__answer",
                distinct=True,
                filter=tagged
                & Q(
                    tags__answer__response__finished_at__gte=before,
                    tags__answer__response__finished_at__lt=recent,
                ),
            ),
        )
        .order_by("-recent", "name")
    )
    return list(rows)


def topic_trends(
    *,
    project: Project,
    weeks: int = 12,
    top: int = 6,
    since: date | None = None,
    until: date | None = None,
    scope: Q | None = None,
) -> dict:
    """Comments per week for the `top` most frequent topics and one line for all the others
    together (chart data): the last `weeks` weeks, or
    the answers finished from `since` to `until`; `scope` filters their responses (a
    dashboard's filters, with the `answer__response__` prefix)."""
    zone = project_zone(project)  # weeks and days are the project's, as the rollups'
    window = {
        "answer__response__finished_at__gte": day_start(since, zone)
        if since is not None
        else timezone.now() - timedelta(weeks=weeks)
    }
    if until is not None:
        window["answer__response__finished_at__lt"] = day_start(until + timedelta(days=1), zone)
    tags = Tag.objects.filter(
        scope or Q(),
        topic__project=project,
        suppressed=False,
        answer__isnull=False,
        **window,
    ).annotate(week=TruncWeek("answer__response__finished_at", tzinfo=zone))
    rows = tags.values("topic__name", "week").annotate(n=Count("answer", distinct=True))
    counts: dict[str, dict[str, int]] = {}
    weeks_seen: set[str] = set()
    for row in rows:
        week = row["week"].date().isoformat()
        weeks_seen.add(week)
        counts.setdefault(row["topic__name"], {})[week] = row["n"]
    labels = sorted(weeks_seen)
    ranked = sorted(counts, key=lambda name: (-sum(counts[name].values()), name))
    leaders, rest = ranked[:top], ranked[top:]
    datasets = [
        {"label": name, "values": [counts[name].get(week, 0) for week in labels]}
        for name in leaders
    ]
    if rest:  # every topic is on the chart: the rest as one line of distinct comments
        other = {
            row["week"].date().isoformat(): row["n"]
            for row in tags.filter(topic__name__in=rest)
            .values("week")
            .annotate(n=Count("answer", distinct=True))
        }
        datasets.append(
            {
                "label": ngettext("Other topic (%(n)d)", "Other topics (%(n)d)", len(rest))
                % {"n": len(rest)},
                "values": [other.get(week, 0) for week in labels],
                "other": True,
            }
        )
    return {"labels": labels, "datasets": datasets}
