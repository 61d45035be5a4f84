"""surveys.delivery.widget_api."""

from __future__ import annotations

import re
from typing import Any

from django.utils.cache import patch_vary_headers
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from surveys.contacts.identity import identity_verify
from surveys.delivery import ledger
from surveys.design.widget_texts import widget_texts
from surveys.tenancy.api_auth import IsWidget, PublicKeyAuthentication, WidgetRateThrottle
from surveys.tenancy.selectors import origin_allowed_by_any_project
from vocsite.api_errors import ERROR_BODY
from vocsite.errors import ApplicationError
from vocsite.parsers import StrictJSONParser

WIDGET_ERRORS = {
    400: OpenApiResponse(ERROR_BODY, description="Invalid input"),
    401: OpenApiResponse(ERROR_BODY, description="Missing or unknown public key"),
    403: OpenApiResponse(
        ERROR_BODY,
        description="Origin not allowed for this project (`origin_not_allowed`), or a user_id "
        "without a valid user_hash (`identity_unverified`)",
    ),
    413: OpenApiResponse(ERROR_BODY, description="Request body too large"),
    415: OpenApiResponse(ERROR_BODY, description="Not a JSON body"),
    429: OpenApiResponse(ERROR_BODY, description="Rate limited"),
}


NOT_FOUND = {404: OpenApiResponse(ERROR_BODY, description="Unknown display for this key")}


CONFLICT = {409: OpenApiResponse(ERROR_BODY, description="submission_id used elsewhere")}


CORS_MAX_AGE = "600"


def _normalise_origin(origin: str) -> str:
    return origin.strip().rstrip("/").lower()


def origin_allowed(origin: str, allowed: list[str] | None) -> bool:
    return _normalise_origin(origin) in {_normalise_origin(o) for o in allowed or []}


class WidgetCorsMixin:
    """Per-project CORS for the widget endpoints (see the module docstring).

    Preflights skip authentication, permissions and throttles (they carry no key); real
    requests from a foreign origin fail in `initial`, after authentication found the project
    and before the handler writes anything."""

    def initialize_request(self, request, *args, **kwargs):
        drf_request = super().initialize_request(request, *args, **kwargs)
        if request.method == "OPTIONS":
            drf_request.authenticators = []
        return drf_request

    def check_permissions(self, request):
        if request.method != "OPTIONS":
            super().check_permissions(request)

    def check_throttles(self, request):
        if request.method != "OPTIONS":
            super().check_throttles(request)

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        origin = request.headers.get("Origin")
        if request.method == "OPTIONS" or not origin:
            return
        if not origin_allowed(origin, request.access.project.allowed_origins):
            raise ApplicationError(
                "origin_not_allowed",
                "This origin may not use this project's widget.",
                status_code=status.HTTP_403_FORBIDDEN,
            )

    def options(self, request, *args, **kwargs):
        response = Response(status=status.HTTP_204_NO_CONTENT)
        origin = request.headers.get("Origin", "")
        if origin and origin_allowed_by_any_project(origin=_normalise_origin(origin)):
            response["Access-Control-Allow-Origin"] = origin
            response["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
            response["Access-Control-Allow-Headers"] = "Content-Type"
            response["Access-Control-Max-Age"] = CORS_MAX_AGE
        return response

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        origin = request.headers.get("Origin")
        access = getattr(request, "access", None)
        if (
            origin
            and request.method != "OPTIONS"
            and access is not None
            and origin_allowed(origin, access.project.allowed_origins)
        ):
            response["Access-Control-Allow-Origin"] = origin
        patch_vary_headers(response, ["Origin"])
        return response


class JsonOnlyNegotiation(DefaultContentNegotiation):
    """The widget API speaks JSON only, so the reply is JSON whatever the Accept header says
    (browsers' fetch sends */*) — without parsing it on every call (3 % of a decide's CPU in
    its web process). Request bodies are still checked: a non-JSON body is a 415."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class WidgetApi(WidgetCorsMixin, APIView):
    content_negotiation_class = JsonOnlyNegotiation
    renderer_classes = [JSONRenderer]
    parser_classes = [StrictJSONParser]
    authentication_classes = [PublicKeyAuthentication]
    permission_classes = [IsWidget]
    throttle_classes = [WidgetRateThrottle]


class Text(serializers.CharField):
    """A CharField that refuses numbers, booleans and lists instead of stringifying them
    (and, like every field here, says which field was wrong)."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class Slug(serializers.SlugField):
    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictInteger(serializers.IntegerField):
    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictBoolean(serializers.BooleanField):
    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data


class Identity(serializers.Serializer):
    key = Text(max_length=64)
    visitor_id = Text(max_length=100, required=False)
    user_id = Text(max_length=200, required=False, allow_null=True, allow_blank=True)
    user_hash = Text(
        max_length=128,
        required=False,
        allow_null=True,
        allow_blank=True,
        help_text="Hex HMAC-SHA256 of user_id under the project's identity secret.",
    )

    def validate(self, attrs):
        if not attrs.get("visitor_id") and not attrs.get("user_id"):
            raise serializers.ValidationError(
                {"visitor_id": ["A visitor_id or user_id is required."]}
            )
        return attrs


class KeyOnly(serializers.Serializer):
    key = Text(max_length=64)


def verified(project, values: dict[str, Any]) -> dict[str, Any]:
    """The call's values once its user id is proven (`surveys.contacts.identity`); raises 403."""
    identity_verify(
        project=project,
        user_id=values.get("user_id") or None,
        user_hash_given=values.get("user_hash"),
    )
    return values


def _resolve_contact(project, values):
    return ledger.contact_resolve(
        project=project,
        visitor_id=values.get("visitor_id"),
        user_id=values.get("user_id") or None,
        attributes=values.get("attributes"),
        language=values.get("locale"),
    )


class ConfigApi(WidgetApi):
    """What the widget needs before anything else: languages, theme, the Feedback tab."""

    class OutputSerializer(serializers.Serializer):
        class ProjectOut(serializers.Serializer):
            name = serializers.CharField()
            languages = serializers.ListField(child=serializers.CharField())
            default_language = serializers.CharField()

        class FeedbackTabOut(serializers.Serializer):
            enabled = serializers.BooleanField()
            label = serializers.DictField(child=serializers.CharField())

        project = ProjectOut()
        theme = serializers.DictField()
        feedback_tab = FeedbackTabOut()
        texts = serializers.DictField(help_text="The widget's fixed texts in each language")

    @extend_schema(
        operation_id="widget_config",
        parameters=[OpenApiParameter("key", str, required=True, description="pk_…")],
        responses={200: OutputSerializer, **WIDGET_ERRORS},
    )
    def get(self, request):
        project = request.access.project
        response = Response(
            {
                "project": {
                    "name": project.name,
                    "languages": project.languages or [project.default_language],
                    "default_language": project.default_language,
                },
                "theme": project.theme or {},
                "feedback_tab": {
                    "enabled": project.feedback_tab_enabled,
                    "label": project.feedback_tab_label or {},
                },
                "texts": {
                    lang: widget_texts(lang)
                    for lang in project.languages or [project.default_language]
                },
            }
        )
        response["Cache-Control"] = "public, max-age=60"
        return response


class DecideApi(WidgetApi):
    """Whether to show a survey at this touchpoint now; if so the display is claimed."""

    class InputSerializer(Identity):
        attributes = serializers.DictField(required=False, allow_empty=True)
        touchpoint = Slug(max_length=100)
        url = Text(max_length=2000, required=False, allow_blank=True)
        locale = Text(max_length=35, required=False, allow_blank=True)

    class OutputSerializer(serializers.Serializer):
        class SurveyOut(serializers.Serializer):
            class QuestionOut(serializers.Serializer):
                class ScaleOut(serializers.Serializer):
                    min = serializers.IntegerField()
                    max = serializers.IntegerField()

                class ChoiceOut(serializers.Serializer):
                    id = serializers.CharField()
                    text = serializers.CharField()

                class ShowIfOut(serializers.Serializer):
                    question_id = serializers.IntegerField()
                    min = serializers.IntegerField()
                    max = serializers.IntegerField()

                id = serializers.IntegerField()
                type = serializers.CharField()
                text = serializers.CharField()
                required = serializers.BooleanField()
                scale = ScaleOut(required=False)
                choices = ChoiceOut(many=True, required=False)
                labels = serializers.DictField(child=serializers.CharField(), required=False)
                style = serializers.CharField(required=False)
                show_if = ShowIfOut(required=False)

            id = serializers.IntegerField()
            version = serializers.IntegerField()
            language = serializers.CharField()
            delay_seconds = serializers.IntegerField()
            auto_close_seconds = serializers.IntegerField(allow_null=True)
            questions = QuestionOut(many=True)
            thank_you = serializers.CharField(allow_null=True)
            texts = serializers.DictField(help_text="The widget's fixed texts in `language`")

        show = serializers.BooleanField()
        reason = serializers.CharField(required=False, help_text="Why not (show = false)")
        display_id = serializers.UUIDField(required=False)
        survey = SurveyOut(required=False)

    @extend_schema(
        operation_id="widget_decide",
        request=InputSerializer,
        responses={200: OutputSerializer, **WIDGET_ERRORS},
    )
    def post(self, request):
        values = plainly_valid_decide(request.data)
        if values is None:  # anything unusual: the serializer decides, and words the errors
            data = self.InputSerializer(data=request.data)
            data.is_valid(raise_exception=True)
            values = data.validated_data
        return Response(decide(request.access.project, values))


def decide(project, values: dict[str, Any]) -> dict[str, Any]:
    """The decide reply for valid input: the verdict, and a claimed display's survey.

    (`ledger.visitor_decide`: from memory when it can only refuse, else on a fresh read)."""
    verified(project, values)
    result = ledger.visitor_decide(
        project=project,
        visitor_id=values.get("visitor_id"),
        user_id=values.get("user_id") or None,
        attributes=values.get("attributes"),
        touchpoint_key=values["touchpoint"],
        url=values.get("url"),
        locale=values.get("locale"),
    )
    if not result.verdict.show:
        return {"show": False, "reason": result.verdict.reason}
    return {
        "show": True,
        "display_id": str(result.display.pk),
        "survey": ledger.survey_payload(display=result.display, project=project),
    }


_SLUG = re.compile(r"[-a-zA-Z0-9_]+")


_SURROGATE = re.compile("[\ud800-\udfff]")


# field: (max length, may be blank, may be null); `touchpoint` is also a slug.
_DECIDE_TEXT = {
    "key": (64, False, False),
    "visitor_id": (100, False, False),
    "user_id": (200, True, True),
    "user_hash": (128, True, True),
    "touchpoint": (100, False, False),
    "url": (2000, True, False),
    "locale": (35, True, False),
}


def _plain_text(value: Any, max_length: int, blank: bool) -> bool:
    """What a strict `Text` field accepts unchanged: a string, not too long, no surrounding
    whitespace (the field would trim it), no NUL or lone surrogate, empty only if allowed."""
    return (
        isinstance(value, str)
        and len(value) <= max_length
        and value == value.strip()
        and "\x00" not in value
        and (value.isascii() or not _SURROGATE.search(value))
        and (bool(value) or blank)
    )


def plainly_valid_decide(data: Any) -> dict[str, Any] | None:
    """DecideApi.InputSerializer's validated data for an input that is plainly valid, or None
    for the serializer to look at (and word the errors).

    Decide is the hottest call there is, and building the serializer's fields (a deep copy per
    request) cost more than the checks. The serializer stays the definition: a property test
    (tests/surveys/test_widget_input.py) checks that whatever this accepts, the serializer
    accepts with the same values."""
    if not isinstance(data, dict):
        return None
    values: dict[str, Any] = {}
    for name, (max_length, blank, null) in _DECIDE_TEXT.items():
        if name not in data:
            continue
        value = data[name]
        if value is None and null:
            values[name] = None
            continue
        if not _plain_text(value, max_length, blank):
            return None
        values[name] = value
    if "touchpoint" not in values or not _SLUG.fullmatch(values["touchpoint"]):
        return None
    if "key" not in values or not (values.get("visitor_id") or values.get("user_id")):
        return None
    if "attributes" in data:
        if not isinstance(data["attributes"], dict):
            return None
        values["attributes"] = dict(data["attributes"])
    return values


class DisplayShownApi(WidgetApi):
    """The survey is on screen: the claim becomes a display that counts for good."""

    @extend_schema(
        operation_id="widget_display_shown",
        request=KeyOnly,
        responses={204: None, **NOT_FOUND, **WIDGET_ERRORS},
    )
    def post(self, request, display_id):
        KeyOnly(data=request.data).is_valid(raise_exception=True)
        display = ledger.display_get(project=request.access.project, display_id=display_id)
        ledger.display_mark_shown(display=display)
        return Response(status=status.HTTP_204_NO_CONTENT)


class DisplayDismissedApi(WidgetApi):
    """The customer closed the survey: it is snoozed for `snooze_days_after_dismiss`."""

    @extend_schema(
        operation_id="widget_display_dismissed",
        request=KeyOnly,
        responses={204: None, **NOT_FOUND, **WIDGET_ERRORS},
    )
    def post(self, request, display_id):
        KeyOnly(data=request.data).is_valid(raise_exception=True)
        display = ledger.display_get(project=request.access.project, display_id=display_id)
        ledger.display_mark_dismissed(display=display)
        return Response(status=status.HTTP_204_NO_CONTENT)


class OptOutApi(WidgetApi):
    """The customer asked never to be surveyed (the Feedback tab stays available)."""

    @extend_schema(
        operation_id="widget_opt_out", request=Identity, responses={204: None, **WIDGET_ERRORS}
    )
    def post(self, request):
        data = Identity(data=request.data)
        data.is_valid(raise_exception=True)
        values = verified(request.access.project, data.validated_data)
        ledger.visitor_opt_out(
            project=request.access.project,
            visitor_id=values.get("visitor_id"),
            user_id=values.get("user_id") or None,
        )
        return Response(status=status.HTTP_204_NO_CONTENT)
