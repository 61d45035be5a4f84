"""Staff pages of the closed loop: the support inbox, the case page (updated in place with htmx)
and alert rules."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from feedback.cases.forms import AlertRuleForm, CaseUpdateForm
from feedback.cases.models import AlertRule, CasePriority, CaseStatus
from feedback.cases.selectors import (
    CaseFilters,
    case_detail,
    cases_list,
    contact_history,
    recovery_rate,
    sla_by_team,
)
from feedback.cases.services import (
    TRANSITIONS,
    CaseChange,
    assignable_users,
    case_assign,
    case_change,
)
from surveys.journey.models import Touchpoint
from surveys.tenancy.models import Team
from surveys.tenancy.roles import CASE_ROLES, DESIGN_ROLES
from surveys.tenancy.services import audit_record
from surveys.tenancy.staff import project_view
from vocsite import caches
from vocsite.errors import ApplicationError
from vocsite.ids import id_parse


def _filters(request: HttpRequest) -> CaseFilters:
    get = request.GET
    team = get.get("team", "")
    overdue = {"1": True, "0": False}.get(get.get("overdue", ""))
    status = get.get("status", "open")
    return CaseFilters(
        status=status if status in ("open", "", *CaseStatus.values) else "open",
        team_id=id_parse(team),
        assignee=get.get("assignee", "")[:150],
        priority=get.get("priority", "") if get.get("priority") in CasePriority.values else "",
        overdue=overdue,
        touchpoint=get.get("touchpoint", "")[:100],
        q=get.get("q", "").strip()[:200],
    )


@project_view(CASE_ROLES)
def inbox(request: HttpRequest) -> HttpResponse:
    project, role = request.access.project, request.access.role
    filters = _filters(request)
    cases = cases_list(project=project, user=request.user, role=role, filters=filters)
    page = Paginator(cases, 50).get_page(request.GET.get("page"))
    mine = cases_list(
        project=project, user=request.user, role=role, filters=CaseFilters(status="open")
    )
    context = {
        "page": page,
        "filters": filters,
        "now": timezone.now(),
        "teams": Team.objects.filter(project=project).order_by("name"),
        "touchpoints": Touchpoint.objects.filter(project=project).order_by("position", "name"),
        "statuses": CaseStatus.choices,
        "priorities": CasePriority.choices,
        "open_visible": mine.count(),
        "open_mine": mine.filter(assignee=request.user).count(),
        "overdue_visible": mine.filter(due_at__lt=timezone.now()).count(),
        "sla": sla_by_team(project=project),
        "recovery": recovery_rate(project=project),
        "querystring": request.GET.urlencode(),
    }
    template = "feedback/_inbox_rows.html" if request.htmx else "feedback/inbox.html"
    return render(request, template, context)


def _case_or_404(request: HttpRequest, case_id: int):
    case = case_detail(
        case_id=case_id,
        project=request.access.project,
        user=request.user,
        role=request.access.role,
    )
    if case is None:
        raise Http404("No such case in this project.")
    return case


def _case_context(request: HttpRequest, case, form: CaseUpdateForm | None = None) -> dict:
    next_statuses = [
        (value, label)
        for value, label in CaseStatus.choices
        if value in TRANSITIONS.get(case.status, ())
    ]
    return {
        "case": case,
        "now": timezone.now(),
        "form": form or CaseUpdateForm(next_statuses=next_statuses),
        "assignable": assignable_users(case),
        "history": contact_history(case=case),
        "answers": list(case.response.answers.all()) if case.response_id else [],
    }


@project_view(CASE_ROLES)
def case_page(request: HttpRequest, case_id: int) -> HttpResponse:
    case = _case_or_404(request, case_id)
    return render(request, "feedback/case.html", _case_context(request, case))


def _case_reply(request: HttpRequest, case_id: int, form: CaseUpdateForm | None = None):
    """htmx gets the re-rendered case panel; a plain POST is redirected back to the page."""
    if not request.htmx:
        return redirect("case-detail", case_id=case_id)
    case = _case_or_404(request, case_id)
    status = 422 if form is not None and form.errors else 200
    return render(
        request, "feedback/_case_main.html", _case_context(request, case, form), status=status
    )


@require_POST
@project_view(CASE_ROLES)
def case_update(request: HttpRequest, case_id: int) -> HttpResponse:
    case = _case_or_404(request, case_id)
    next_statuses = [
        (v, label) for v, label in CaseStatus.choices if v in TRANSITIONS.get(case.status, ())
    ]
    form = CaseUpdateForm(request.POST, next_statuses=next_statuses)
    if form.is_valid():
        data = form.cleaned_data
        try:
            case_change(
                case=case,
                actor=request.user,
                change=CaseChange(
                    status=data["status"] or None,
                    priority=data["priority"] or None,
                    note=data["note"],
                    root_cause=data["root_cause"] or None,
                    resolution_note=data["resolution_note"] or None,
                    contact_method=data["contact_method"] or None,
                ),
            )
        except ApplicationError as error:
            for field, problems in error.fields.items():
                for problem in problems:
                    form.add_error(field if field in form.fields else None, problem)
    if form.errors:
        if not request.htmx:
            messages.error(request, "; ".join(m for ms in form.errors.values() for m in ms))
        return _case_reply(request, case_id, form)
    return _case_reply(request, case_id)


@require_POST
@project_view(CASE_ROLES)
def case_assign_view(request: HttpRequest, case_id: int) -> HttpResponse:
    """`assignee=me` claims; a user id assigns; empty unassigns."""
    case = _case_or_404(request, case_id)
    wanted = request.POST.get("assignee", "")
    assignee = None
    if wanted == "me":
        assignee = request.user
    elif wanted:
        assignee = next((u for u in assignable_users(case) if str(u.pk) == wanted), None)
        if assignee is None:
            messages.error(request, _("That person cannot work this case."))
            return _case_reply(request, case_id)
    try:
        case_assign(case=case, assignee=assignee, actor=request.user)
    except ApplicationError as error:
        messages.error(request, error.message)
    if request.POST.get("from") == "inbox":
        return redirect(f"/app/inbox/?{request.POST.get('querystring', '')}")
    return _case_reply(request, case_id)


@project_view(DESIGN_ROLES)
def alert_rules(request: HttpRequest) -> HttpResponse:
    rules = (
        AlertRule.objects.filter(project=request.access.project)
        .select_related("team")
        .prefetch_related("touchpoints", "topics")
        .order_by("name")
    )
    return render(request, "feedback/alert_rules.html", {"rules": rules})


@project_view(DESIGN_ROLES)
def alert_rule_edit(request: HttpRequest, rule_id: int | None = None) -> HttpResponse:

    project = request.access.project
    rule = get_object_or_404(AlertRule, project=project, pk=rule_id) if rule_id else None
    before = _rule_snapshot(rule) if rule else None
    form = AlertRuleForm(request.POST or None, instance=rule, project=project)
    if request.method == "POST" and form.is_valid():
        saved = form.save()
        caches.alert_rules_forget(project_id=project.pk)
        audit_record(
            project=project,
            action="alert_rule.updated" if rule else "alert_rule.created",
            obj=saved,
            actor=request.user,
            before=before,
            after=_rule_snapshot(saved),
        )
        messages.success(request, _("Alert rule “%(name)s” saved.") % {"name": saved.name})
        return redirect("alert-rules")
    return render(request, "feedback/alert_rule_form.html", {"form": form, "rule": rule})


def _rule_snapshot(rule: AlertRule) -> dict:
    return {
        "name": rule.name,
        "is_active": rule.is_active,
        "question_type": rule.question_type,
        "score_min": rule.score_min,
        "score_max": rule.score_max,
        "keywords": rule.keywords,
        "segment": rule.segment,
        "touchpoints": sorted(t.key for t in rule.touchpoints.all()),
        "priority": rule.priority,
        "team": rule.team.name if rule.team_id else None,
        "assignment": rule.assignment,
        "sla_hours": rule.sla_hours,
    }
