"""Staff pages for open text: topics (rules, suggestions, retag progress, trends) and the
verbatims with their matched spans, where agents and the CX team correct tags by hand."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from feedback.answering.models import Sentiment
from feedback.topics.forms import TopicForm
from feedback.topics.models import RetagRun, Topic
from feedback.topics.selectors import VerbatimFilters, topic_overview, topic_trends, verbatims
from feedback.topics.services import (
    TopicIn,
    tag_add,
    tag_remove,
    topic_delete,
    topic_save,
    topic_suggestions,
)
from surveys.journey.models import Touchpoint
from surveys.tenancy.roles import CASE_ROLES, DESIGN_ROLES
from surveys.tenancy.staff import project_view
from vocsite.errors import ApplicationError
from vocsite.ids import id_or_404, id_parse


def _latest_run(project) -> RetagRun | None:
    return RetagRun.objects.filter(project=project).order_by("-pk").first()


@project_view(DESIGN_ROLES)
def topics(request: HttpRequest) -> HttpResponse:
    project = request.access.project
    return render(
        request,
        "feedback/topics.html",
        {
            "topics": topic_overview(project=project),
            "suggestions": topic_suggestions(project),
            "run": _latest_run(project),
            "trends": topic_trends(project=project),
        },
    )


@project_view(DESIGN_ROLES)
def retag_progress(request: HttpRequest, run_id: int) -> HttpResponse:
    run = get_object_or_404(RetagRun, project=request.access.project, pk=run_id)
    return render(request, "feedback/_retag_progress.html", {"run": run})


@project_view(DESIGN_ROLES)
def topic_edit(request: HttpRequest, topic_id: int | None = None) -> HttpResponse:
    project = request.access.project
    topic = get_object_or_404(Topic, project=project, pk=topic_id) if topic_id else None
    initial = (
        {
            "name": topic.name,
            "keywords_text": "\n".join(topic.keywords),
            "exclusions_text": "\n".join(topic.exclusions),
            "is_active": topic.is_active,
        }
        if topic
        else {"is_active": True}
    )
    form = TopicForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            saved, run = topic_save(
                project=project,
                topic=topic,
                actor=request.user,
                data=TopicIn(
                    name=data["name"],
                    keywords=form.lines(data["keywords_text"]),
                    exclusions=form.lines(data["exclusions_text"]),
                    is_active=data["is_active"],
                ),
            )
        except ApplicationError as error:
            names = {"keywords": "keywords_text", "exclusions": "exclusions_text"}
            for field, problems in error.fields.items():
                for problem in problems:
                    form.add_error(names.get(field, field) if field != "" else None, problem)
        else:
            saved_text = (
                _("Topic “%(name)s” saved. History is being retagged.")
                if run
                else _("Topic “%(name)s” saved.")
            )
            messages.success(request, saved_text % {"name": saved.name})
            return redirect("topics")
    return render(request, "feedback/topic_form.html", {"form": form, "topic": topic})


@require_POST
@project_view(DESIGN_ROLES)
def topic_delete_view(request: HttpRequest, topic_id: int) -> HttpResponse:
    topic = get_object_or_404(Topic, project=request.access.project, pk=topic_id)
    topic_delete(topic=topic, actor=request.user)
    messages.success(request, _("Topic “%(name)s” deleted with its tags.") % {"name": topic.name})
    return redirect("topics")


@require_POST
@project_view(DESIGN_ROLES)
def topic_from_suggestion(request: HttpRequest) -> HttpResponse:
    """One click: the suggested term becomes a topic of its own name, and history is retagged."""
    term = request.POST.get("term", "").strip()[:100]
    try:
        topic, _run = topic_save(
            project=request.access.project,
            actor=request.user,
            data=TopicIn(name=term[:1].upper() + term[1:], keywords=[term], exclusions=[]),
        )
    except ApplicationError as error:
        messages.error(request, " ".join(p for ps in error.fields.values() for p in ps))
    else:
        messages.success(
            request,
            _("Topic “%(name)s” created; history is being retagged.") % {"name": topic.name},
        )
    return redirect("topics")


def _verbatim_filters(request: HttpRequest) -> VerbatimFilters:
    topic = request.GET.get("topic", "")
    sentiment = request.GET.get("sentiment", "")
    return VerbatimFilters(
        topic_id=id_parse(topic),
        sentiment=sentiment if sentiment in Sentiment.values else "",
        touchpoint=request.GET.get("touchpoint", "")[:100],
        q=request.GET.get("q", "").strip()[:200],
        untagged=request.GET.get("untagged") == "1",
    )


@project_view(CASE_ROLES)
def verbatims_page(request: HttpRequest) -> HttpResponse:
    project = request.access.project
    filters = _verbatim_filters(request)
    page = Paginator(verbatims(project=project, filters=filters), 40).get_page(
        request.GET.get("page")
    )
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "feedback/verbatims.html",
        {
            "page": page,
            "filters": filters,
            "querystring": query.urlencode(),
            "topics": Topic.objects.filter(project=project).order_by("name"),
            "touchpoints": Touchpoint.objects.filter(project=project).order_by("position", "name"),
            "sentiments": Sentiment.choices,
        },
    )


@require_POST
@project_view(CASE_ROLES)
def verbatim_tag(request: HttpRequest, answer_id: int) -> HttpResponse:
    """Add (`action=add`) or remove (`action=remove`) a topic by hand; replies with the item."""
    project = request.access.project
    topic = get_object_or_404(Topic, project=project, pk=id_or_404(request.POST.get("topic")))
    change = tag_add if request.POST.get("action") == "add" else tag_remove
    change(project=project, topic=topic, actor=request.user, answer_id=answer_id)
    answer = verbatims(project=project, filters=VerbatimFilters()).get(pk=answer_id)
    topics_list = Topic.objects.filter(project=project).order_by("name")
    if request.htmx:
        return render(request, "feedback/_verbatim.html", {"a": answer, "topics": topics_list})
    target = request.POST.get("next") or ""
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect("verbatims")
    return HttpResponseRedirect(target)  # a URL, never a view name to reverse (`next=a`)
