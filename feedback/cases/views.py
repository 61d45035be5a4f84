"""Staff pages of the closed loop: the support inbox, the Feedback inbox, the case page
(updated in place with htmx), alert rules (with how many recent answers each would have
matched) and the project's root-cause list."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from feedback.answering.models import Feedback, FeedbackStatus, Sentiment
from feedback.answering.services import feedback_mark_handled
from feedback.cases.forms import AlertRuleForm, CaseUpdateForm, RootCauseForm
from feedback.cases.models import AlertRule, CasePriority, CaseStatus, RootCause
from feedback.cases.selectors import (
    CaseFilters,
    FeedbackFilters,
    alert_rule_reach,
    case_detail,
    cases_list,
    contact_history,
    feedback_categories,
    feedback_messages,
    recovery_rate,
    root_causes_offered,
    root_causes_with_use,
    sla_by_team,
)
from feedback.cases.services import (
    TRANSITIONS,
    CaseChange,
    assignable_users,
    case_assign,
    case_change,
    feedback_case_open,
    root_cause_save,
    rule_in,
)
from feedback.topics.models import Topic
from surveys.journey.models import Touchpoint
from surveys.tenancy.models import Team
from surveys.tenancy.roles import ADMIN_ROLES, CASE_ROLES, DESIGN_ROLES
from surveys.tenancy.services import audit_record
from surveys.tenancy.staff import project_view
from vocsite import caches
from vocsite.errors import ApplicationError
from vocsite.ids import id_or_404, id_parse


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


def _case_form(request: HttpRequest, case, data=None) -> CaseUpdateForm:
    next_statuses = [
        (value, label)
        for value, label in CaseStatus.choices
        if value in TRANSITIONS.get(case.status, ())
    ]
    return CaseUpdateForm(
        data,
        next_statuses=next_statuses,
        root_causes=root_causes_offered(project=request.access.project, keep=case.root_cause),
        initial={"root_cause": case.root_cause_id},
    )


def _case_context(request: HttpRequest, case, form: CaseUpdateForm | None = None) -> dict:
    return {
        "case": case,
        "now": timezone.now(),
        "form": form or _case_form(request, case),
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
    form = _case_form(request, case, request.POST)
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
                    root_cause=data["root_cause"],
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
    """The rule's form. It shows how many answers of the last 30 days the rule would have
    matched: the saved rule's on opening, the form's as typed after "Preview" (which saves
    nothing)."""
    project = request.access.project
    rule = get_object_or_404(AlertRule, project=project, pk=rule_id) if rule_id else None
    before = _rule_snapshot(rule) if rule else None
    form = AlertRuleForm(request.POST or None, instance=rule, project=project)
    reach = None
    if request.method == "POST" and "preview" in request.POST:
        if form.is_valid():
            reach = alert_rule_reach(project=project, rule=form.plain_rule())
    elif request.method == "POST" and form.is_valid():
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
    elif rule is not None and request.method != "POST":
        reach = alert_rule_reach(project=project, rule=rule_in(rule))
    return render(
        request, "feedback/alert_rule_form.html", {"form": form, "rule": rule, "reach": reach}
    )


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


# ---------------------------------------------------------------- the Feedback inbox


def _feedback_filters(request: HttpRequest) -> FeedbackFilters:
    get = request.GET
    rating = id_parse(get.get("rating", ""))
    status = get.get("status", FeedbackStatus.NEW)
    return FeedbackFilters(
        category=get.get("category", "").strip()[:32],
        rating=rating if rating is not None and 1 <= rating <= 5 else None,
        topic_id=id_parse(get.get("topic", "")),
        sentiment=get.get("sentiment", "") if get.get("sentiment") in Sentiment.values else "",
        status=status if status in FeedbackStatus.values else "",
        q=get.get("q", "").strip()[:200],
    )


@project_view(CASE_ROLES)
def feedback_inbox(request: HttpRequest) -> HttpResponse:
    """Feedback-tab messages: filtered, marked handled, or opened as a case in one click."""
    project = request.access.project
    filters = _feedback_filters(request)
    page = Paginator(feedback_messages(project=project, filters=filters), 40).get_page(
        request.GET.get("page")
    )
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "feedback/feedback_inbox.html",
        {
            "page": page,
            "filters": filters,
            "querystring": query.urlencode(),
            "categories": feedback_categories(project=project),
            "topics": Topic.objects.filter(project=project).order_by("name"),
            "sentiments": Sentiment.choices,
            "statuses": FeedbackStatus.choices,
            "ratings": range(1, 6),
            "unhandled": Feedback.objects.filter(project=project, handled_at__isnull=True).count(),
        },
    )


def _feedback_or_404(request: HttpRequest, feedback_id: int) -> Feedback:
    return get_object_or_404(Feedback, project=request.access.project, pk=id_or_404(feedback_id))


def _back_to_feedback_inbox(request: HttpRequest) -> HttpResponse:
    querystring = request.POST.get("querystring", "")
    return redirect(
        f"{reverse('feedback-inbox')}?{querystring}" if querystring else "feedback-inbox"
    )


@require_POST
@project_view(CASE_ROLES)
def feedback_handle(request: HttpRequest, feedback_id: int) -> HttpResponse:
    """`handled=1` marks the message handled, `handled=0` puts it back among the new ones."""
    feedback = _feedback_or_404(request, feedback_id)
    handled = request.POST.get("handled", "1") != "0"
    feedback_mark_handled(feedback=feedback, actor=request.user, handled=handled)
    return _back_to_feedback_inbox(request)


@require_POST
@project_view(CASE_ROLES)
def feedback_case_open_view(request: HttpRequest, feedback_id: int) -> HttpResponse:
    """One click: the message's case (opened if it has none), then its page."""
    feedback = _feedback_or_404(request, feedback_id)
    opened = feedback_case_open(feedback=feedback, actor=request.user)
    if opened.created:
        messages.success(
            request, _("Case #%(number)s opened from the message.") % {"number": opened.case.pk}
        )
    return redirect("case-detail", case_id=opened.case.pk)


# ---------------------------------------------------------------- root causes


@project_view(ADMIN_ROLES)
def root_causes(request: HttpRequest) -> HttpResponse:
    """The project's list of root causes: add one, rename, retire or bring back."""
    project = request.access.project
    form = RootCauseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            saved = root_cause_save(
                project=project,
                actor=request.user,
                name=form.cleaned_data["name"],
                is_active=True,
            )
        except ApplicationError as error:
            for problems in error.fields.values():
                for problem in problems:
                    form.add_error("name", problem)
        else:
            messages.success(request, _("Root cause “%(name)s” added.") % {"name": saved.name})
            return redirect("root-causes")
    status = 422 if form.errors else 200
    return render(
        request,
        "feedback/root_causes.html",
        {"form": form, "entries": root_causes_with_use(project=project)},
        status=status,
    )


@require_POST
@project_view(ADMIN_ROLES)
def root_cause_edit(request: HttpRequest, root_cause_id: int) -> HttpResponse:
    project = request.access.project
    entry = get_object_or_404(RootCause, project=project, pk=id_or_404(root_cause_id))
    form = RootCauseForm(request.POST)
    if not form.is_valid():
        messages.error(request, "; ".join(m for ms in form.errors.values() for m in ms))
        return redirect("root-causes")
    try:
        root_cause_save(
            project=project,
            actor=request.user,
            name=form.cleaned_data["name"],
            is_active=form.cleaned_data["is_active"],
            root_cause=entry,
        )
    except ApplicationError as error:
        messages.error(request, " ".join(p for ps in error.fields.values() for p in ps))
    else:
        messages.success(
            request, _("Root cause “%(name)s” saved.") % {"name": form.cleaned_data["name"]}
        )
    return redirect("root-causes")
