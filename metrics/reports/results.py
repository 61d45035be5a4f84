"""A survey's results: a summary per question, the response table and one response in full —
what a CX team reads after a survey has run (the Formbricks or Qualtrics summary page).

Everything counts the finished responses that `selectors.responses_list` returns under the
page's filters (metrics.rollups.filters), which is also the set the responses API exports, so
the table, the summary and the export agree. The summary reads those responses' answers
rather than the rollups because the version and score-range filters are properties of a
response that rollup cells do not carry; NPS, CSAT and CES are still scored by `score_dict`
(metrics.scores, DESIGN.md §7), on histograms of the same shape, so for the dashboards'
filters a question's n, score and interval equal the dashboards' for its survey."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db.models import Count, Min, Prefetch, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext

from feedback.answering.models import Answer, Response, Sentiment
from feedback.cases.models import Case
from feedback.topics.models import Tag
from metrics import scores
from metrics.reports.selectors import Hists, responses_list, score_dict
from metrics.rollups.filters import MetricFilters, ScoreRange
from surveys.design.models import SCORED_TYPES, Question, QuestionType, Survey
from surveys.design.payload import text_in
from surveys.tenancy.models import Project

METRIC_TYPES = (QuestionType.NPS, QuestionType.CSAT, QuestionType.CES)
CHOICE_TYPES = (QuestionType.SINGLE_CHOICE, QuestionType.MULTI_CHOICE)
TEXT_SAMPLES = 5  # the newest text answers shown under a text question (the rest: the table)


@dataclass
class QuestionSummary:
    """One question (followed by its uid through versions) and what its answers say."""

    uid: str
    position: int
    type: str
    type_label: str
    text: str
    answered: int = 0
    metric: dict[str, Any] | None = None  # score_dict: NPS, CSAT, CES
    mean: dict[str, Any] | None = None  # rating: mean with its t interval, per scale
    distribution: list[dict[str, Any]] = field(default_factory=list)
    sentiments: list[dict[str, Any]] = field(default_factory=list)
    topics: list[dict[str, Any]] = field(default_factory=list)
    samples: list[Answer] = field(default_factory=list)


def survey_for(project: Project, survey_id: int) -> Survey:
    """The project's survey, or 404: another project's survey is as unknown as none."""
    return get_object_or_404(
        Survey.objects.select_related("current_version"), project=project, pk=survey_id
    )


def first_day(survey: Survey) -> date:
    """The local day the survey's history starts (its first response, or its creation): the
    results page shows all of it unless the URL says otherwise."""
    first = Response.objects.filter(survey=survey).aggregate(first=Min("created_at"))["first"]
    moment = min(filter(None, (first, survey.created_at)))
    return timezone.localdate(moment)


def results_responses(*, project: Project, filters: MetricFilters) -> QuerySet[Response]:
    """The finished responses the page counts (the responses API's, under the same filters)."""
    return responses_list(project=project, filters=filters)


def response_table(responses: QuerySet[Response]) -> QuerySet[Response]:
    """The response table's rows, newest first, with what each row shows."""
    return (
        responses.select_related("contact", "touchpoint", "version")
        .prefetch_related(
            Prefetch(
                "answers",
                queryset=Answer.objects.select_related("question").order_by("question__position"),
            )
        )
        .order_by("-finished_at", "-pk")
    )


def _questions(survey: Survey, language: str, fallback: str) -> dict[str, QuestionSummary]:
    """The survey's published questions by uid, named (and placed) as their latest version has
    them; questions the current version dropped come after its own."""
    rows = Question.objects.filter(survey=survey, version__isnull=False).order_by(
        "version__number", "position"
    )
    latest: dict[str, Question] = {}
    for question in rows:
        latest[str(question.uid)] = question
    current = survey.current_version_id
    ordered = sorted(
        latest.values(), key=lambda q: (q.version_id != current, q.position, q.version_id)
    )
    return {
        str(q.uid): QuestionSummary(
            uid=str(q.uid),
            position=q.position,
            type=q.type,
            type_label=str(q.get_type_display()),
            text=text_in(q.text or {}, language, fallback) or str(q.get_type_display()),
        )
        for q in ordered
    }


def _share_rows(counts: dict[Any, int], labels: dict[Any, str], n: int) -> list[dict[str, Any]]:
    """Each value's count with its share of `n` and the share's Wilson interval."""
    return [
        {"value": value, "label": label, "count": counts.get(value, 0)}
        | scores.proportion(counts.get(value, 0), n).to_dict("share")
        for value, label in labels.items()
    ]


def _choice_labels(survey: Survey, language: str, fallback: str) -> dict[str, dict[str, str]]:
    """{question uid: {choice id: text}} over every version (the latest text of a choice)."""
    labels: dict[str, dict[str, str]] = defaultdict(dict)
    rows = Question.objects.filter(
        survey=survey, version__isnull=False, type__in=CHOICE_TYPES
    ).order_by("version__number")
    for question in rows:
        for choice in question.choices or []:
            labels[str(question.uid)][choice["id"]] = text_in(choice["text"], language, fallback)
    return labels


def question_summaries(
    *, project: Project, survey: Survey, responses: QuerySet[Response], language: str
) -> list[QuestionSummary]:
    """A summary per question of the finished responses given: NPS, CSAT and CES scored with
    their intervals and their answers per score; ratings per score with the mean; yes/no and
    choices as shares (a multi-choice share is of the people who answered it); open text with
    its sentiment, its topics and the newest answers."""
    fallback = project.default_language
    summaries = _questions(survey, language, fallback)
    answers = Answer.objects.filter(response__in=responses)

    answered = answers.exclude(value_int=None, value_choices__isnull=True, value_text="")
    for row in answered.values("question__uid").annotate(n=Count("id")).order_by():
        if (summary := summaries.get(str(row["question__uid"]))) is not None:
            summary.answered = row["n"]

    _add_scored(summaries, answers)
    _add_choices(summaries, answers, _choice_labels(survey, language, fallback))
    _add_text(summaries, answers)
    return [summary for summary in summaries.values()]


def _add_scored(summaries: dict[str, QuestionSummary], answers: QuerySet[Answer]) -> None:
    hists: dict[str, Hists] = defaultdict(lambda: defaultdict(dict))
    rows = (
        answers.filter(question_type__in=[*SCORED_TYPES, QuestionType.YES_NO])
        .exclude(value_int=None)
        .values("question__uid", "question__scale_max", "question__scale_wording", "value_int")
        .annotate(n=Count("id"))
        .order_by()
    )
    for row in rows:
        scale = (row["question__scale_max"], row["question__scale_wording"] or "agree")
        hist = hists[str(row["question__uid"])][scale]
        hist[row["value_int"]] = hist.get(row["value_int"], 0) + row["n"]
    for summary in summaries.values():
        if summary.type in METRIC_TYPES:  # scored even with no answer, as on the dashboards
            summary.metric = score_dict(summary.type, {})
    for uid, by_scale in hists.items():
        summary = summaries.get(uid)
        if summary is None:
            continue
        by_scale = {scale: dict(hist) for scale, hist in by_scale.items()}
        if summary.type in METRIC_TYPES:
            summary.metric = score_dict(summary.type, by_scale)
        if summary.type == QuestionType.YES_NO:
            merged = scores.merge(*by_scale.values())
            labels = {1: gettext("yes"), 0: gettext("no")}
            summary.distribution = _share_rows(merged, labels, sum(merged.values()))
            continue
        summary.distribution = []
        for (scale_max, _wording), hist in sorted(by_scale.items()):
            low = 0 if summary.type == QuestionType.NPS else 1
            values = {score: str(score) for score in range(low, (scale_max or 10) + 1)}
            summary.distribution += [
                row | {"scale_max": scale_max}
                for row in _share_rows(hist, values, sum(hist.values()))
            ]
        if summary.type == QuestionType.RATING:
            summary.mean = _rating_means(by_scale)


def _rating_means(by_scale: Hists) -> dict[str, Any]:
    """A rating's mean per scale with its 95 % t interval (ratings have no share, §7)."""
    parts = []
    for (scale_max, _wording), hist in sorted(by_scale.items()):
        interval = scores.mean_interval(hist)
        mean = scores.mean(hist)
        parts.append(
            {
                "scale_max": scale_max,
                "n": sum(hist.values()),
                "mean": None if mean is None else round(mean, 2),
                "mean_ci_low": None if interval is None else round(interval[0], 2),
                "mean_ci_high": None if interval is None else round(interval[1], 2),
            }
        )
    return {"by_scale": parts}


def _add_choices(
    summaries: dict[str, QuestionSummary],
    answers: QuerySet[Answer],
    labels: dict[str, dict[str, str]],
) -> None:
    picked: dict[str, Counter] = defaultdict(Counter)
    for uid, choices in (
        answers.filter(question_type__in=CHOICE_TYPES)
        .exclude(value_choices__isnull=True)
        .values_list("question__uid", "value_choices")
        .iterator(chunk_size=5000)
    ):
        picked[str(uid)].update(set(choices or []))
    for uid, summary in summaries.items():
        if summary.type not in CHOICE_TYPES:
            continue
        known = dict(labels.get(uid, {}))
        for choice in picked.get(uid, {}):  # a choice since removed keeps its answers
            known.setdefault(choice, choice)
        summary.distribution = _share_rows(picked.get(uid, Counter()), known, summary.answered)


def _add_text(summaries: dict[str, QuestionSummary], answers: QuerySet[Answer]) -> None:
    texts = answers.filter(question_type=QuestionType.TEXT).exclude(value_text="")
    by_sentiment: dict[str, Counter] = defaultdict(Counter)
    for row in texts.values("question__uid", "sentiment").annotate(n=Count("id")).order_by():
        by_sentiment[str(row["question__uid"])][row["sentiment"] or ""] += row["n"]
    topics: dict[str, list[dict[str, Any]]] = defaultdict(list)
    tags = (
        Tag.objects.filter(answer__in=texts, suppressed=False)
        .values("answer__question__uid", "topic__name")
        .annotate(n=Count("answer", distinct=True))
        .order_by("-n", "topic__name")
    )
    for row in tags:
        topics[str(row["answer__question__uid"])].append(
            {"topic": row["topic__name"], "count": row["n"]}
        )
    sentiment_labels = {value: str(label) for value, label in Sentiment.choices}
    for uid, summary in summaries.items():
        if summary.type != QuestionType.TEXT:
            continue
        summary.sentiments = _share_rows(by_sentiment[uid], sentiment_labels, summary.answered)
        summary.topics = [
            row | scores.proportion(row["count"], summary.answered).to_dict("share")
            for row in topics[uid]
        ]
        summary.samples = list(
            texts.filter(question__uid=uid)
            .select_related("response")
            .prefetch_related(
                Prefetch(
                    "tags", queryset=Tag.objects.filter(suppressed=False).select_related("topic")
                )
            )
            .order_by("-response__finished_at", "-pk")[:TEXT_SAMPLES]
        )


def response_for(project: Project, response_id: int) -> Response:
    """One response of the project with what its page shows, or 404."""
    return get_object_or_404(
        Response.objects.select_related(
            "survey", "version", "contact", "touchpoint", "display__touchpoint"
        ).prefetch_related(
            Prefetch(
                "answers",
                queryset=Answer.objects.select_related("question")
                .prefetch_related(
                    Prefetch(
                        "tags",
                        queryset=Tag.objects.filter(suppressed=False).select_related("topic"),
                    )
                )
                .order_by("question__position"),
            )
        ),
        project=project,
        pk=response_id,
    )


def answer_rows(response: Response, language: str, fallback: str) -> list[dict[str, Any]]:
    """Each answer of a response as its page shows it: the question's text in the viewer's
    language, the value in words (choices by their text, yes/no), sentiment and topics."""
    rows = []
    for answer in response.answers.all():
        question = answer.question
        choices = {c["id"]: text_in(c["text"], language, fallback) for c in question.choices or []}
        if answer.value_choices:
            value = ", ".join(choices.get(c, c) for c in answer.value_choices)
        elif answer.question_type == QuestionType.YES_NO and answer.value_int is not None:
            value = gettext("yes") if answer.value_int else gettext("no")
        elif answer.value_int is not None:
            value = str(answer.value_int)
        else:
            value = answer.value_text
        rows.append(
            {
                "answer": answer,
                "question": text_in(question.text or {}, language, fallback)
                or str(question.get_type_display()),
                "value": value,
                "scale_max": question.scale_max,
            }
        )
    return rows


def response_cases(project: Project, response: Response) -> QuerySet[Case]:
    """The cases opened from this response."""
    return Case.objects.filter(project=project, response=response).order_by("created_at")


def score_choices(survey: Survey) -> list[tuple[str, str]]:
    """The score ranges offered as filters for the survey's scored questions: NPS by category,
    the other scales value by value (any `type:low-high` works in the URL)."""
    choices: list[tuple[str, str]] = []
    seen: set[tuple[str, int | None]] = set()
    rows = Question.objects.filter(survey=survey, version__isnull=False, type__in=SCORED_TYPES)
    for question_type, scale_max in rows.values_list("type", "scale_max").order_by("type"):
        if (question_type, scale_max) in seen:
            continue
        seen.add((question_type, scale_max))
        label = str(QuestionType(question_type).label)
        if question_type == QuestionType.NPS:
            choices += [
                (str(ScoreRange("nps", 0, 6)), gettext("NPS detractors (0–6)")),
                (str(ScoreRange("nps", 7, 8)), gettext("NPS passives (7–8)")),
                (str(ScoreRange("nps", 9, 10)), gettext("NPS promoters (9–10)")),
            ]
            continue
        choices += [
            (str(ScoreRange(question_type, value, value)), f"{label} = {value}")
            for value in range(1, (scale_max or 5) + 1)
        ]
    return list(dict.fromkeys(choices))
