"""Dashboards for three levels: executives (the whole journey), business leads (one slice, in
depth) and the frontline (today's unhappy customers and my cases). Every view takes its
filters from the URL, so it can be bookmarked and shared."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.core.paginator import Paginator
from django.db.models import Prefetch, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language, gettext

from feedback.answering.models import Answer
from feedback.answering.selectors import unhappy_scores
from feedback.cases.selectors import CaseFilters, cases_list, sla_by_team
from feedback.topics.selectors import topic_trends
from metrics.reports import dashboards, results, selectors, wave_selectors
from metrics.reports.exports import metric_series_export
from metrics.rollups.filters import rows_scope
from surveys.delivery.models import DecisionReason
from surveys.design.payload import resolve_language
from surveys.tenancy.models import Channel, Team
from surveys.tenancy.roles import CASE_ROLES, DIGEST_ROLES, READ_ROLES
from surveys.tenancy.staff import project_view


def _base_context(request: HttpRequest, view: str) -> tuple[dashboards.DashboardQuery, dict]:
    project = request.access.project
    query = dashboards.dashboard_query(request.GET, project)
    return query, {
        "view": view,
        "query": query,
        "filters": query.filters,
        "choices": dashboards.filter_choices(project),
        "querystring": query.querystring(),
        "channels": Channel.choices,
        "notes": dashboards.panel_notes(query),
        "digest_allowed": request.access.role in DIGEST_ROLES,
    }


@project_view(READ_ROLES)
def executive(request: HttpRequest) -> HttpResponse:
    project = request.access.project
    query, context = _base_context(request, "executive")
    if request.GET.get("export") in ("csv", "xlsx"):
        return metric_series_export(project, query, request.GET["export"])
    context.update(
        reports=dashboards.metric_reports(project, query, interval="week"),
        journey=dashboards.journey_table(project, query),
        recovery=dashboards.recovery(project, query),
        cases=dashboards.case_overview(project, query),
        churn=dashboards.churn_beside_nps(project, query),
    )
    return render(request, "metrics/executive.html", context)


@project_view(READ_ROLES)
def business_lead(request: HttpRequest) -> HttpResponse:
    project = request.access.project
    query, context = _base_context(request, "lead")
    metric = request.GET.get("metric") if request.GET.get("metric") in selectors.METRICS else "nps"
    f = query.filters
    context.update(
        metric=metric,
        reports=dashboards.metric_reports(project, query, interval="week"),
        breakdowns=dashboards.breakdowns(project, query, metric),
        response_rate=selectors.response_rate(
            project,
            survey_id=f.survey_id,
            since=f.since,
            until=f.until,
            scope=dashboards.delivery_scope(query),
        ),
        decisions=selectors.decisions_by_reason(project, f),
        drop_off=selectors.drop_off(
            project,
            survey_id=f.survey_id,
            since=f.since,
            until=f.until,
            scope=dashboards.response_scope(query),
        )
        if f.survey_id
        else None,
        cases=dashboards.case_overview(project, query),
        sla=_team_sla(project, query),
        drivers=dashboards.topic_drivers(project, query),
        topic_trends=topic_trends(
            project=project,
            since=f.since,
            until=f.until,
            scope=dashboards.response_scope(query, prefix="answer__response__"),
        ),
    )
    context["breakdown_charts"] = [
        {
            "id": f"breakdown-{i}",
            "label": label,
            # The channel split is named in the staff's language; attributes by their key.
            "name": gettext("channel") if label == "channel" else label,
            "rows": split["rows"],
            "note": split["note"],
            "metric": metric,
        }
        for i, (label, split) in enumerate(context["breakdowns"].items())
    ]
    names = dict(context["choices"]["surveys"])
    surveys = context["decisions"]["surveys"]
    # Why surveys were held back: every reason but "shown", in words.
    reasons = sorted(
        {reason for s in surveys for reason in s["reasons"] if reason != DecisionReason.SHOWN}
    )
    context["reasons_chart"] = {
        "labels": [DecisionReason(reason).label for reason in reasons],
        "datasets": [
            {
                "label": names.get(s["survey"], gettext("no survey at the touchpoint")),
                "values": [s["reasons"].get(reason, 0) for reason in reasons],
            }
            for s in surveys
        ],
    }
    rows = context["drivers"]["rows"]
    context["drivers_chart"] = {
        "labels": [r["topic"] for r in rows],
        "impact": [r["impact"] for r in rows],
        "interval": [[r["impact_ci_low"], r["impact_ci_high"]] for r in rows],
    }
    report = context["reports"].get(metric, {})
    counts = (report.get("total") or {}).get("counts") or {}
    context["histogram_chart"] = {
        "metric": metric,
        "labels": list(counts),
        "values": list(counts.values()),
    }
    return render(request, "metrics/lead.html", context)


@project_view(READ_ROLES)
def frontline(request: HttpRequest) -> HttpResponse:
    """Today's unhappy answers and recent verbatims: the frontline works individual customers,
    so this view reads recent responses (bounded by date and count), not rollups. The low
    scores cover the last 24 hours unless the URL carries dates."""
    project = request.access.project
    query, context = _base_context(request, "frontline")
    now = timezone.now()
    search = request.GET.get("q", "").strip()[:200]
    scope = dashboards.response_scope(query, prefix="response__")
    dated = dashboards.response_scope(query, prefix="response__", day="finished_at")
    if "since" in request.GET or "until" in request.GET:
        window = dated
    else:
        window = scope & Q(response__finished_at__gte=now - timedelta(hours=24))
    low = list(
        Answer.objects.filter(window, unhappy_scores(), response__project=project)
        .select_related("response__touchpoint", "response__contact")
        .prefetch_related("response__cases")
        .order_by("-response__finished_at")[:50]
    )
    comments = (
        Answer.objects.filter(dated, response__project=project, question_type="text")
        .exclude(value_text="")
        .select_related("response__touchpoint", "response__contact")
        .prefetch_related(
            "tags__topic",
            Prefetch(
                "response__answers",
                queryset=Answer.objects.exclude(value_int=None).order_by("question__position"),
                to_attr="scores",
            ),
        )
        .order_by("-response__finished_at", "pk")
    )
    if search:
        comments = comments.filter(value_text__icontains=search)
    mine = []
    if request.access.role in CASE_ROLES:
        mine = list(
            cases_list(
                project=project,
                user=request.user,
                role=request.access.role,
                filters=CaseFilters(status="open", assignee="me"),
            )[:50]
        )
    context.update(
        low=low,
        comments=comments[:30],
        search=search,
        mine=mine,
        now=now,
        window_from_url="since" in request.GET or "until" in request.GET,
    )
    return render(request, "metrics/frontline.html", context)


def _team_sla(project, query: dashboards.DashboardQuery):
    """SLA per team for the cases opened within the dates (one team's with the team filter)."""
    team_id = query.team_id
    zone = timezone.get_current_timezone()  # the project's (project_view)
    rows = sla_by_team(
        project=project,
        since=datetime.combine(query.filters.since, time.min, tzinfo=zone),
        until=datetime.combine(query.filters.until + timedelta(days=1), time.min, tzinfo=zone),
    )
    if team_id is None:
        return rows

    name = Team.objects.filter(project=project, pk=team_id).values_list("name", flat=True).first()
    return [row for row in rows if row.team == name]


RESPONSES_PER_PAGE = 25


@project_view(CASE_ROLES)
def survey_results(request: HttpRequest, survey_id: int) -> HttpResponse:
    """A survey's results: a summary per question, drop-off, the response table and exports,
    all under the URL's filters (the whole history of the survey unless it names dates)."""
    project = request.access.project
    survey = results.survey_for(project, survey_id)
    params = request.GET.copy()
    params["survey"] = str(survey.pk)
    if not params.get("since"):
        params["since"] = results.first_day(survey).isoformat()
    query = dashboards.dashboard_query(params, project, response_filters=True)
    filters = query.filters
    language = resolve_language(project, get_language())
    responses = results.results_responses(project=project, filters=filters)
    page = Paginator(results.response_table(responses), RESPONSES_PER_PAGE).get_page(
        request.GET.get("page")
    )
    querystring = query.querystring()
    export = reverse("api-responses") + "?" + querystring
    waves = wave_selectors.survey_waves(
        project=project,
        survey=survey,
        responses=responses,
        today=timezone.localdate(),
        # The page's default start is the first answer, which cuts no wave.
        since=filters.since if request.GET.get("since") else None,
        until=filters.until,
    )
    if waves is not None:
        for movement in waves["movements"]:
            movement["rows"] = wave_selectors.matrix_rows(movement["matrix"])
    return render(
        request,
        "metrics/results.html",
        {
            "survey": survey,
            "query": query,
            "filters": filters,
            "querystring": querystring,
            # The dashboards read rollups, which know no version or score range.
            "dashboard_querystring": query.querystring(version="", score=""),
            "choices": dashboards.filter_choices(project),
            "channels": Channel.choices,
            "versions": survey.versions.order_by("-number").values_list("number", flat=True),
            "score_choices": results.score_choices(survey),
            "summaries": results.question_summaries(
                project=project, survey=survey, responses=responses, language=language
            ),
            "waves": waves,
            "category_labels": wave_selectors.CATEGORY_LABELS.values(),
            "drop_off": selectors.drop_off(
                project,
                survey_id=survey.pk,
                since=filters.since,
                until=filters.until,
                scope=rows_scope(filters, survey=False),
                language=language,
            ),
            "page": page,
            "rows": [
                (response, results.answer_rows(response, language, project.default_language))
                for response in page
            ],
            "export_csv": export + "&format=csv",
            "export_xlsx": export + "&format=xlsx",
            "language": language,
        },
    )


@project_view(CASE_ROLES)
def response_page(request: HttpRequest, response_id: int) -> HttpResponse:
    """One response in full: every answer, the contact, the display it answered, its cases."""
    project = request.access.project
    response = results.response_for(project, response_id)
    language = resolve_language(project, get_language())
    return render(
        request,
        "metrics/response.html",
        {
            "response": response,
            "answers": results.answer_rows(response, language, project.default_language),
            "cases": results.response_cases(project, response),
        },
    )
