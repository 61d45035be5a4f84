"""Reads for a recurring survey's waves (metrics.reports.waves): the score of each wave with its
interval and n, the change from the wave before, and how each contact moved between consecutive
waves — for the survey's results page and the metrics API alike.

The answers are read rather than the rollups: a wave is cut by when the contact was asked and
the movement follows each contact, neither of which a rollup cell keeps. The answers are those
of the finished responses the caller passes (the results page's filters, the API's), scored by
`score_dict` like every other figure (DESIGN.md §7)."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

from django.db.models import Min, QuerySet
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from feedback.answering.models import Answer, Response
from metrics import scores
from metrics.reports.selectors import Hists, method_of, score_dict
from metrics.reports.waves import CATEGORIES, nps_movements, wave_days, wave_of
from surveys.contacts.models import Contact
from surveys.design.models import Question, QuestionType, Survey, SurveyVersion
from surveys.tenancy.models import Project
from surveys.tenancy.timezones import local_day, project_zone

WAVE_METRICS = (QuestionType.NPS, QuestionType.CSAT, QuestionType.CES)
CATEGORY_LABELS = {
    "detractor": _("Detractors"),
    "passive": _("Passives"),
    "promoter": _("Promoters"),
}


def matrix_rows(matrix: dict[str, dict[str, int]]) -> list[dict[str, Any]]:
    """A movement matrix as a table reads it: one row per group in the earlier wave, its
    counts in the later wave's groups in CATEGORIES order."""
    return [
        {
            "category": before,
            "label": CATEGORY_LABELS[before],
            "counts": [matrix[before][after] for after in CATEGORIES],
            "total": sum(matrix[before].values()),
        }
        for before in CATEGORIES
    ]


def _wave_question(survey: Survey) -> tuple[str, str] | None:
    """(uid, type) of the question the waves follow: the first NPS, CSAT or CES question of the
    current version (of the latest version that has one when the current has none)."""
    rows = Question.objects.filter(
        survey=survey, version__isnull=False, type__in=WAVE_METRICS
    ).order_by("-version__number", "position")
    current = rows.filter(version=survey.current_version_id).first() or rows.first()
    return (str(current.uid), current.type) if current else None


def _change(metric: str, before: Hists, after: Hists) -> dict[str, Any]:
    """A wave against the one before, tested as two periods are (DESIGN.md §7)."""
    if metric == QuestionType.NPS:
        comparison = scores.compare_nps(
            scores.merge(*before.values()), scores.merge(*after.values())
        )
    else:
        comparison = scores.compare_share(
            scores.score_by_scale(metric, before), scores.score_by_scale(metric, after)
        )
    return comparison.to_dict()


def no_waves(survey: Survey) -> dict[str, Any]:
    """The shape of `survey_waves` for a survey without waves."""
    return {
        "survey": survey.pk,
        "metric": None,
        "question": None,
        "method": None,
        "recurrence_days": survey.recurrence_days,
        "first_day": None,
        "waves": [],
        "movements": [],
    }


def survey_waves(
    *,
    project: Project,
    survey: Survey,
    responses: QuerySet[Response],
    today: date,
    since: date | None = None,
    until: date | None = None,
) -> dict[str, Any] | None:
    """The survey's waves under the given responses, or None when it does not recur (or was
    never published, or asks no NPS, CSAT or CES question). `since`/`until` (the filters' days)
    only mark the waves they cut as partial; the responses are already filtered by them."""
    days = survey.recurrence_days
    if days is None:
        return None
    first_published = SurveyVersion.objects.filter(survey=survey).aggregate(
        first=Min("published_at")
    )["first"]
    question = _wave_question(survey)
    if first_published is None or question is None:
        return None
    uid, metric = question
    zone = project_zone(project)
    first_day = local_day(first_published, zone)

    hists: dict[int, Hists] = defaultdict(lambda: defaultdict(dict))
    latest: dict[int, dict[int, int]] = defaultdict(dict)  # contact → wave → NPS score
    rows = (
        Answer.objects.filter(response__in=responses, question__uid=uid)
        .exclude(value_int=None)
        .annotate(asked_at=Coalesce("response__display__claimed_at", "response__created_at"))
        .order_by("asked_at", "response_id")
        .values_list(
            "response__contact_id",
            "asked_at",
            "value_int",
            "question__scale_max",
            "question__scale_wording",
        )
    )
    for contact_id, asked_at, value, scale_max, wording in rows.iterator(chunk_size=5000):
        wave = wave_of(local_day(asked_at, zone), first_day=first_day, days=days)
        hist = hists[wave][(scale_max, wording or "agree")]
        hist[value] = hist.get(value, 0) + 1
        if contact_id is not None and metric == QuestionType.NPS:
            latest[contact_id][wave] = value  # in order of asking: the latest stays

    numbers = range(min(hists), max(hists) + 1) if hists else range(0)
    waves = []
    previous: Hists | None = None
    for number in numbers:
        start, end = wave_days(number, first_day=first_day, days=days)
        by_scale = {scale: dict(hist) for scale, hist in hists.get(number, {}).items()}
        change = None if previous is None else _change(metric, previous, by_scale)
        waves.append(
            {
                "wave": number,
                "start": start,
                "end": end,
                "partial": end >= today
                or (since is not None and start < since)
                or (until is not None and end > until),
                **score_dict(metric, by_scale),
                "change": change,
            }
        )
        previous = by_scale

    movements = nps_movements(latest, numbers) if metric == QuestionType.NPS else []
    movers = {pk for m in movements for pk in m.detractors_to_promoters}
    people = {
        row["pk"]: row
        for row in Contact.objects.filter(project=project, pk__in=movers).values(
            "pk", "user_id", "email"
        )
    }
    return {
        "survey": survey.pk,
        "metric": metric,
        "question": uid,
        "method": method_of(metric, {s for w in hists.values() for s in w}),
        "recurrence_days": days,
        "first_day": first_day,
        "waves": waves,
        "movements": [
            {
                "from_wave": m.from_wave,
                "to_wave": m.to_wave,
                "contacts": m.contacts,
                "improved": m.improved,
                "unchanged": m.unchanged,
                "declined": m.declined,
                "matrix": m.matrix,
                "detractors_to_promoters": [
                    {
                        "contact": pk,
                        "user_id": people[pk]["user_id"],
                        "email": people[pk]["email"],
                    }
                    for pk in m.detractors_to_promoters
                    if pk in people
                ],
            }
            for m in movements
        ],
    }
