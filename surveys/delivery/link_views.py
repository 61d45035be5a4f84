"""Staff pages of a survey's links: list with answer counts, create, deactivate, and the QR
code of each as PNG or SVG (admins and designers, as the survey designer)."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from surveys.delivery.link_forms import LinkForm
from surveys.delivery.link_qr import QR_KINDS, qr_response
from surveys.delivery.link_selectors import link_of_survey, link_url, survey_links
from surveys.delivery.links import link_create, link_deactivate
from surveys.design.models import Survey
from surveys.tenancy.roles import DESIGN_ROLES
from surveys.tenancy.staff import project_view
from vocsite.errors import ApplicationError
from vocsite.ids import id_or_404


def _survey(request: HttpRequest, survey_id: int) -> Survey:
    return get_object_or_404(
        Survey.objects.filter(project=request.access.project), pk=id_or_404(survey_id)
    )


@project_view(DESIGN_ROLES)
def survey_links_page(request: HttpRequest, survey_id: int) -> HttpResponse:
    project = request.access.project
    survey = _survey(request, survey_id)
    form = LinkForm(request.POST or None, project=project)
    if request.method == "POST" and form.is_valid():
        values = form.cleaned_data
        try:
            link = link_create(
                project=project,
                survey=survey,
                label=values["label"],
                channel=values["channel"],
                touchpoint_key=values["touchpoint"] or None,
                hidden_fields=form.hidden_field_names(),
                mode=values["mode"],
                actor=request.user,
            )
        except ApplicationError as error:
            for field, problems in error.fields.items():
                name = field.split(".")[0]
                form.add_error(name if name in form.fields else None, problems)
            if not error.fields:
                form.add_error(None, error.message)
        else:
            messages.success(request, _("Link “%(label)s” created.") % {"label": link.label})
            return redirect("survey-links", survey_id=survey.pk)
    links = [(link, link_url(link)) for link in survey_links(project=project, survey=survey)]
    breakdown = set(project.breakdown_attributes or [])
    return render(
        request,
        "surveys/survey_links.html",
        {"survey": survey, "form": form, "links": links, "breakdown": breakdown},
        status=422 if form.errors else 200,
    )


@require_POST
@project_view(DESIGN_ROLES)
def survey_link_deactivate(request: HttpRequest, survey_id: int, link_id: int) -> HttpResponse:
    link = link_of_survey(project=request.access.project, survey_id=survey_id, link_id=link_id)
    if link is None:
        raise Http404
    link_deactivate(link=link, actor=request.user)
    messages.success(
        request,
        _("Link “%(label)s” deactivated: it now answers “not found”.") % {"label": link.label},
    )
    return redirect("survey-links", survey_id=survey_id)


@project_view(DESIGN_ROLES)
def survey_link_qr(request: HttpRequest, survey_id: int, link_id: int, kind: str) -> HttpResponse:
    link = link_of_survey(project=request.access.project, survey_id=survey_id, link_id=link_id)
    if link is None or kind not in QR_KINDS:
        raise Http404
    return qr_response(link, kind)
