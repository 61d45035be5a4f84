"""Management API for survey design (DESIGN.md §6): surveys, publish, pause, resume, close.

Secret key (acts as admin) or a staff session with a role; everything is scoped to
`request.access.project`. Serializers check shape; `surveys.design.services` enforces the rules."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response

from surveys.design.models import Question, QuestionType, Survey, SurveyChannel
from surveys.design.scales import (
    HIGHEST_SCORE,
    LOWEST_SCORE,
    SCALE_MAXIMA,
    SCALE_MINIMA,
    SCALE_WORDINGS,
)
from surveys.design.services import (
    QuestionIn,
    survey_create,
    survey_publish,
    survey_set_status,
    survey_update,
)
from surveys.design.survey_settings import (
    BOOLEAN,
    CHOICE,
    DATETIME,
    DECIMAL,
    INTEGER,
    STRUCTURED,
    TEXT,
    TYPED_SETTINGS,
    Setting,
    settings_snapshot,
)
from surveys.journey.api import DesignApi
from vocsite.api_errors import ERROR_BODY, ERRORS


class ScaleSerializer(serializers.Serializer):
    """Shape only: which scale each question type allows is the services' rule (scales.SCALES)."""

    min = serializers.IntegerField(min_value=LOWEST_SCORE, max_value=SCALE_MINIMA[-1])
    max = serializers.IntegerField(min_value=SCALE_MAXIMA[0], max_value=HIGHEST_SCORE)


class ShowIfSerializer(serializers.Serializer):
    question = serializers.IntegerField(min_value=0, max_value=50)
    min = serializers.IntegerField(min_value=LOWEST_SCORE, max_value=HIGHEST_SCORE)
    max = serializers.IntegerField(min_value=LOWEST_SCORE, max_value=HIGHEST_SCORE)


class QuestionInputSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=QuestionType.choices)
    text = serializers.DictField(child=serializers.CharField(max_length=500, allow_blank=True))
    required = serializers.BooleanField(default=True)
    scale = ScaleSerializer(required=False)
    choices = serializers.ListField(
        child=serializers.DictField(child=serializers.CharField(max_length=200)),
        required=False,
        max_length=20,
        default=list,
    )
    labels = serializers.DictField(required=False, default=dict)
    style = serializers.ChoiceField(
        choices=["", "stars", "numbers", "smileys"], required=False, default=""
    )
    show_if = ShowIfSerializer(required=False, allow_null=True)
    scale_wording = serializers.ChoiceField(
        choices=SCALE_WORDINGS,
        required=False,
        default="agree",
        help_text="CES on 1–5 only: `effort` when the question asks how much effort it took "
        "(1 = very low, so 1–2 count as easy); `agree` (the default) when high is good.",
    )


def question_in(data: dict) -> QuestionIn:
    return QuestionIn(
        type=data["type"],
        text=data["text"],
        required=data.get("required", True),
        scale=data.get("scale"),
        choices=data.get("choices") or [],
        labels=data.get("labels") or {},
        style=data.get("style", ""),
        show_if=data.get("show_if"),
        scale_wording=data.get("scale_wording", "agree"),
    )


class TargetingSerializer(serializers.Serializer):
    attributes = serializers.ListField(child=serializers.DictField(), required=False, max_length=20)
    urls = serializers.ListField(child=serializers.DictField(), required=False, max_length=20)
    languages = serializers.ListField(
        child=serializers.CharField(max_length=16), required=False, max_length=20
    )


def _scalar_field(setting: Setting) -> serializers.Field:
    if setting.kind == TEXT:
        return serializers.CharField(max_length=setting.high)
    if setting.kind == INTEGER:
        return serializers.IntegerField(
            min_value=setting.low, max_value=setting.high, allow_null=setting.nullable
        )
    if setting.kind == DECIMAL:
        return serializers.DecimalField(
            max_digits=5, decimal_places=2, min_value=setting.low, max_value=setting.high
        )
    if setting.kind == BOOLEAN:
        return serializers.BooleanField()
    if setting.kind == CHOICE:
        return serializers.ChoiceField(choices=setting.choices)
    if setting.kind == DATETIME:
        return serializers.DateTimeField(allow_null=setting.nullable)
    raise ValueError(f"no API field for the {setting.kind} setting {setting.name}")


def _structured_field(name: str) -> serializers.Field:
    return {
        "targeting": TargetingSerializer,
        "thank_you": lambda: serializers.DictField(child=serializers.CharField(max_length=500)),
        "channels": lambda: serializers.ListField(
            child=serializers.ChoiceField(choices=SurveyChannel.choices), max_length=2
        ),
        "theme": serializers.DictField,
    }[name]()


def _settings_fields() -> dict[str, serializers.Field]:
    """The survey settings (surveys.design.survey_settings), the touchpoints after the name,
    and the questions; DRF orders fields as they are made."""
    fields: dict[str, serializers.Field] = {}
    for setting in TYPED_SETTINGS:
        if setting.kind == STRUCTURED:
            fields[setting.name] = _structured_field(setting.name)
        else:
            fields[setting.name] = _scalar_field(setting)
        if setting.name == "name":
            fields["touchpoints"] = serializers.ListField(
                child=serializers.SlugField(max_length=100), max_length=50
            )
    fields["questions"] = QuestionInputSerializer(many=True, max_length=20)
    return fields


SurveySettingsSerializer = serializers.SerializerMetaclass(
    "SurveySettingsSerializer",
    (serializers.Serializer,),
    {
        "__module__": __name__,
        "__doc__": "Fields shared by create and update (all optional on update).",
        **_settings_fields(),
    },
)


class SurveyCreateSerializer(SurveySettingsSerializer):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            field.required = name in ("name", "questions")


class SurveyUpdateSerializer(SurveySettingsSerializer):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.required = False


def survey_output(survey: Survey) -> dict:
    drafts = [q for q in survey.questions.all() if q.version_id is None]
    version = survey.current_version
    settings = {setting.name: getattr(survey, setting.name) for setting in TYPED_SETTINGS}
    return {
        "id": survey.pk,
        "status": survey.status,
        "version": version.number if version else None,
        "has_unpublished_changes": survey.has_unpublished_changes,
        "touchpoints": sorted(t.key for t in survey.touchpoints.all()),
        **settings_snapshot(settings),
        "sample_percent": float(survey.sample_percent),
        "questions": [_question_output(q) for q in sorted(drafts, key=lambda q: q.position)],
        "created_at": survey.created_at.isoformat(),
        "updated_at": survey.updated_at.isoformat(),
    }


def _question_output(q: Question) -> dict:
    out = {
        "position": q.position,
        "uid": str(q.uid),
        "type": q.type,
        "text": q.text,
        "required": q.required,
    }
    if q.scale_max is not None:
        out["scale"] = {"min": q.scale_min, "max": q.scale_max}
    if q.type == QuestionType.CES:
        out["scale_wording"] = q.scale_wording or "agree"
    if q.choices:
        out["choices"] = q.choices
    if q.labels:
        out["labels"] = q.labels
    if q.show_if:
        out["show_if"] = q.show_if
    return out


SURVEY_FIELDS = {
    "id": serializers.IntegerField(),
    "name": serializers.CharField(),
    "status": serializers.CharField(),
    "version": serializers.IntegerField(allow_null=True),
    "touchpoints": serializers.ListField(child=serializers.CharField()),
    "questions": serializers.ListField(child=serializers.DictField()),
}


SURVEY_OUTPUT = inline_serializer("Survey", SURVEY_FIELDS)


SURVEY_LIST = inline_serializer("Survey", SURVEY_FIELDS, many=True)


def _surveys(request):
    return (
        Survey.objects.filter(project=request.access.project)
        .select_related("current_version")
        .prefetch_related("touchpoints", "questions")
        .order_by("-created_at")
    )


def _settings_from(values: dict) -> tuple[dict, list | None, list | None]:
    values = dict(values)
    questions = values.pop("questions", None)
    touchpoints = values.pop("touchpoints", None)
    if "targeting" in values:
        values["targeting"] = {k: v for k, v in values["targeting"].items() if v}
    return values, questions, touchpoints


class SurveyListCreateApi(DesignApi):
    @extend_schema(operation_id="surveys_list", responses={200: SURVEY_LIST, **ERRORS})
    def get(self, request):
        return Response([survey_output(s) for s in _surveys(request)])

    @extend_schema(request=SurveyCreateSerializer, responses={201: SURVEY_OUTPUT, **ERRORS})
    def post(self, request):
        data = SurveyCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values, questions, touchpoints = _settings_from(data.validated_data)
        name = values.pop("name")
        survey = survey_create(
            project=request.access.project,
            name=name,
            questions=[question_in(q) for q in questions],
            touchpoint_keys=touchpoints or [],
            actor=request.user,
            **values,
        )
        return Response(
            survey_output(_surveys(request).get(pk=survey.pk)), status=status.HTTP_201_CREATED
        )


class SurveyDetailApi(DesignApi):
    @extend_schema(responses={200: SURVEY_OUTPUT, **ERRORS})
    def get(self, request, survey_id: int):
        return Response(survey_output(get_object_or_404(_surveys(request), pk=survey_id)))

    @extend_schema(request=SurveyUpdateSerializer, responses={200: SURVEY_OUTPUT, **ERRORS})
    def patch(self, request, survey_id: int):
        survey = get_object_or_404(_surveys(request), pk=survey_id)
        data = SurveyUpdateSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        values, questions, touchpoints = _settings_from(data.validated_data)
        survey_update(
            survey=survey,
            questions=[question_in(q) for q in questions] if questions is not None else None,
            touchpoint_keys=touchpoints,
            actor=request.user,
            **values,
        )
        return Response(survey_output(_surveys(request).get(pk=survey.pk)))


PUBLISH_OUTPUT = inline_serializer(
    "Published",
    {
        "id": serializers.IntegerField(),
        "status": serializers.CharField(),
        "version": serializers.IntegerField(),
    },
)


class SurveyPublishApi(DesignApi):
    """POST /surveys/{id}/publish. A draft translated in some languages but not all of them is
    refused with 400 `missing_translation`, its `fields` naming each text (`questions.1.text`,
    `questions.2.choices`, `thank_you`)."""

    @extend_schema(
        request=None,
        responses={200: PUBLISH_OUTPUT, **ERRORS},
        description="400 `missing_translation`: a text is filled in one of the survey's "
        "languages and empty in another; `fields` names each.",
    )
    def post(self, request, survey_id: int):
        survey = get_object_or_404(_surveys(request), pk=survey_id)
        version = survey_publish(survey=survey, actor=request.user)
        return Response({"id": survey.pk, "status": "active", "version": version.number})


class SurveyStatusApi(DesignApi):
    """POST /surveys/{id}/pause | resume | close."""

    action: str = ""

    @extend_schema(request=None, responses={200: SURVEY_OUTPUT, 409: ERROR_BODY, **ERRORS})
    def post(self, request, survey_id: int):
        survey = get_object_or_404(_surveys(request), pk=survey_id)
        survey_set_status(survey=survey, action=self.action, actor=request.user)
        return Response(survey_output(_surveys(request).get(pk=survey.pk)))
