"""Staff pages for survey design: the survey list, the designer and its live preview."""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from surveys.design.designer_page import error_summary, question_rows
from surveys.design.forms import (
    QuestionForm,
    QuestionFormSet,
    SurveyFromTemplateForm,
    SurveySettingsForm,
    apply_service_errors,
    language_name,
    project_languages,
)
from surveys.design.models import Survey
from surveys.design.payload import draft_payload
from surveys.design.services import (
    QuestionIn,
    draft_snapshot,
    question_errors,
    snapshot_from_inputs,
    survey_create,
    survey_publish,
    survey_set_status,
    survey_update,
)
from surveys.design.survey_templates import TEMPLATES
from surveys.design.translations import translation_gaps
from surveys.tenancy.roles import DESIGN_ROLES
from surveys.tenancy.staff import project_view
from vocsite.csp import widget_page
from vocsite.errors import ApplicationError


@project_view(DESIGN_ROLES)
def survey_list(request: HttpRequest) -> HttpResponse:
    return _survey_list_page(request)


def _survey_list_page(
    request: HttpRequest, refused: SurveyFromTemplateForm | None = None
) -> HttpResponse:
    """The surveys, and a form per template asking the new survey's name (`refused`: the one
    sent without a usable name, with its error)."""
    project = request.access.project
    surveys = (
        Survey.objects.filter(project=project)
        .select_related("current_version")
        .prefetch_related("touchpoints")
        .annotate(answers=Count("responses", filter=Q(responses__finished=True)))
        .order_by("-updated_at")
    )
    refused_key = refused.data.get("template") if refused is not None else None
    if refused is not None and refused_key not in TEMPLATES:
        messages.error(request, _("Choose one of the templates."))
    templates = [
        (
            template,
            refused
            if template.key == refused_key
            else SurveyFromTemplateForm(initial={"template": template.key, "name": template.name}),
        )
        for template in TEMPLATES.values()
    ]
    return render(
        request,
        "surveys/survey_list.html",
        {"surveys": surveys, "templates": templates},
        status=400 if refused is not None else 200,
    )


@require_POST
@project_view(DESIGN_ROLES)
def survey_new(request: HttpRequest) -> HttpResponse:
    """Create a draft from a template, under the name given, and open it in the designer."""
    project = request.access.project
    form = SurveyFromTemplateForm(request.POST)
    if not form.is_valid():
        return _survey_list_page(request, refused=form)
    template = TEMPLATES[form.cleaned_data["template"]]
    settings_values = dict(template.settings)
    if not settings_values.get("bypass_global_cooldown") and "recontact_days" in settings_values:
        settings_values["recontact_days"] = max(
            settings_values["recontact_days"], project.recontact_days
        )
    survey = survey_create(
        project=project,
        name=form.cleaned_data["name"],
        questions=[_for_languages(q, project_languages(project)) for q in template.questions],
        actor=request.user,
        template=template.key,
        **settings_values,
    )
    messages.success(
        request,
        _("Draft “%(survey)s” created from “%(template)s”.")
        % {"survey": survey.name, "template": template.title},
    )
    return redirect("survey-edit", survey_id=survey.pk)


def _for_languages(question: QuestionIn, languages: list[str]) -> QuestionIn:
    """Keep the template's texts in the project's languages (fall back to English)."""

    def pick(texts: dict) -> dict:
        kept = {lang: texts[lang] for lang in languages if texts.get(lang)}
        return kept or {languages[0]: texts.get("en", next(iter(texts.values()), ""))}

    return QuestionIn(
        type=question.type,
        text=pick(question.text),
        required=question.required,
        scale=question.scale,
        choices=[pick(c) for c in question.choices],
        labels={end: pick(t) for end, t in question.labels.items()},
        style=question.style,
        show_if=question.show_if,
    )


def _designer_forms(request: HttpRequest, survey: Survey):
    project = request.access.project
    languages = project_languages(project)
    drafts = list(survey.questions.filter(version__isnull=True).order_by("position"))
    if request.method == "POST":
        settings_form = SurveySettingsForm(request.POST, project=project)
        questions = QuestionFormSet(request.POST, prefix="q", languages=languages)
    else:
        settings_form = SurveySettingsForm(
            initial=SurveySettingsForm.initial_for(survey), project=project
        )
        questions = QuestionFormSet(
            prefix="q",
            languages=languages,
            initial=[QuestionForm.initial_for(q, languages) for q in drafts],
        )
    return settings_form, questions, languages


@widget_page  # the live preview draws with the real widget
@project_view(DESIGN_ROLES)
def survey_edit(request: HttpRequest, survey_id: int) -> HttpResponse:
    project = request.access.project
    survey = get_object_or_404(Survey.objects.filter(project=project), pk=survey_id)
    settings_form, questions, languages = _designer_forms(request, survey)
    if request.method == "POST" and settings_form.is_valid() and questions.is_valid():
        kept = questions.kept_forms()
        values, touchpoint_keys = settings_form.settings_values()
        try:
            survey_update(
                survey=survey,
                questions=[form.question_in() for form in kept],
                touchpoint_keys=touchpoint_keys,
                actor=request.user,
                **values,
            )
        except ApplicationError as error:
            apply_service_errors(error.fields, settings_form, kept, languages)
            if not error.fields:
                settings_form.add_error(None, error.message)
        else:
            messages.success(request, _("Draft saved. Publish to make it live."))
            return redirect("survey-edit", survey_id=survey.pk)
    survey.refresh_from_db()
    previews = {
        lang: draft_payload(survey=survey, project=project, language=lang) for lang in languages
    }
    status = 422 if request.method == "POST" else 200
    # The saved draft's gaps, shown beside questions in the saved order (not after a failed save,
    # where the forms may be arranged otherwise).
    gaps = (
        translation_gaps(
            draft_snapshot(survey),
            project_languages=languages,
            target_languages=(survey.targeting or {}).get("languages") or [],
        )
        if request.method == "GET"
        else []
    )
    rows = question_rows(questions, gaps)
    return render(
        request,
        "surveys/survey_edit.html",
        {
            "survey": survey,
            "form": settings_form,
            "questions": questions,
            "question_rows": rows,
            "errors": error_summary(settings_form, questions, rows),
            "thank_you_gaps": [gap.what() for gap in gaps if gap.question is None],
            "languages": languages,
            "language_names": [(lang, language_name(lang)) for lang in languages],
            "previews": previews,
            "versions": survey.versions.order_by("-number")[:10],
        },
        status=status,
    )


# What staff are told once a survey's status changed, per action of `survey_action`.
STATUS_DONE = {
    "pause": gettext_lazy("Survey %(survey)s paused."),
    "resume": gettext_lazy("Survey %(survey)s resumed."),
    "close": gettext_lazy("Survey %(survey)s closed."),
}


@require_POST
@project_view(DESIGN_ROLES)
def survey_action(request: HttpRequest, survey_id: int, action: str) -> HttpResponse:
    if action not in ("publish", "pause", "resume", "close"):
        raise Http404("No such action.")
    survey = get_object_or_404(Survey.objects.filter(project=request.access.project), pk=survey_id)
    try:
        if action == "publish":
            version = survey_publish(survey=survey, actor=request.user)
            messages.success(
                request,
                _("Published version %(number)s: it is live now.") % {"number": version.number},
            )
        else:
            survey_set_status(survey=survey, action=action, actor=request.user)
            messages.success(request, STATUS_DONE[action] % {"survey": survey.name})
    except ApplicationError as error:
        messages.error(request, error.message)
    return redirect("survey-edit", survey_id=survey.pk)


@require_POST
@project_view(DESIGN_ROLES)
def survey_preview(request: HttpRequest, survey_id: int) -> HttpResponse:
    """The designer's live preview: what the form holds right now (not saved), as the widget
    payload per language; field problems come back as 422 so the page can say so."""
    project = request.access.project
    survey = get_object_or_404(Survey.objects.filter(project=project), pk=survey_id)
    settings_form, questions, languages = _designer_forms(request, survey)
    if not (settings_form.is_valid() and questions.is_valid()):
        return JsonResponse({"error": "Fix the highlighted fields first."}, status=422)
    kept = [form.question_in() for form in questions.kept_forms()]
    problems = question_errors(kept)
    if problems:
        return JsonResponse(
            {"error": " ".join(m for ms in problems.values() for m in ms)}, status=422
        )
    values, _ = settings_form.settings_values()
    snapshot = snapshot_from_inputs(kept, values["thank_you"])
    survey.delay_seconds, survey.auto_close_seconds = 0, None  # preview at once, stay open
    survey.theme = values["theme"]  # the colour as picked, not yet saved
    return JsonResponse(
        {
            lang: draft_payload(survey=survey, project=project, language=lang, snapshot=snapshot)
            for lang in languages
        }
    )
