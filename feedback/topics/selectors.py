"""Reads for open text: verbatims under filters, the topic overview and topic trends."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.translation import ngettext

from feedback.answering.models import Answer
from feedback.topics.models import Tag, Topic
from surveys.tenancy.models import Project


@dataclass(frozen=True)
class VerbatimFilters:
    topic_id: int | None = None
    sentiment: str = ""
    touchpoint: str = ""
    q: str = ""
    untagged: bool = False


def verbatims(*, project: Project, filters: VerbatimFilters) -> QuerySet[Answer]:
    """Open-text answers, newest first, with their tags and the response's scores."""

    answers = Answer.objects.filter(response__project=project, question_type="text").exclude(
        value_text=""
    )
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
    from django.db.models import Count
    from django.db.models.functions import TruncWeek

    window = (
        {"answer__response__finished_at__date__gte": since}
        if since is not None
        else {"answer__response__finished_at__gte": timezone.now() - timedelta(weeks=weeks)}
    )
    if until is not None:
        window["answer__response__finished_at__date__lte"] = until
    tags = Tag.objects.filter(
        scope or Q(),
        topic__project=project,
        suppressed=False,
        answer__isnull=False,
        **window,
    ).annotate(week=TruncWeek("answer__response__finished_at"))
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
