"""The widget API (DESIGN.md §6): public key only, CORS limited to the project's allowed
origins, rate-limited per IP and per visitor. Views check shape; `surveys.ledger` and
`feedback.responses` hold the rules.

CORS is per project, but a preflight carries no body (so no key): a preflight is answered for
an origin that any project allows, and the real request is then refused with 403 — before
anything is written — unless its Origin is one of *this* project's allowed origins.
"""

from __future__ import annotations

from django.core.cache import cache
from django.utils.cache import patch_vary_headers
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from feedback.responses import AnswerIn, feedback_submit, response_submit
from surveys import ledger
from surveys.api import ERROR_BODY
from surveys.models import Project
from vocsite.api_auth import (
    IsWidget,
    PublicKeyAuthentication,
    WidgetIpThrottle,
    WidgetVisitorThrottle,
)
from vocsite.errors import ApplicationError

WIDGET_ERRORS = {
    400: OpenApiResponse(ERROR_BODY, description="Invalid input"),
    401: OpenApiResponse(ERROR_BODY, description="Missing or unknown public key"),
    403: OpenApiResponse(ERROR_BODY, description="Origin not allowed for this project"),
    404: OpenApiResponse(ERROR_BODY, description="Unknown display"),
    429: OpenApiResponse(ERROR_BODY, description="Rate limited"),
}
CORS_MAX_AGE = "600"


def _origin_allowed_anywhere(origin: str) -> bool:
    """Whether any project allows this origin (cached a minute: preflights are frequent)."""
    if not origin:
        return False
    origins = cache.get("widget:all-allowed-origins")
    if origins is None:
        origins = {
            o.rstrip("/")
            for allowed in Project.objects.values_list("allowed_origins", flat=True)
            for o in allowed or []
        }
        cache.set("widget:all-allowed-origins", origins, 60)
    return origin in origins


class WidgetApi(APIView):
    authentication_classes = [PublicKeyAuthentication]
    permission_classes = [IsWidget]
    throttle_classes = [WidgetIpThrottle, WidgetVisitorThrottle]

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if request.method == "OPTIONS":
            return
        origin = request.headers.get("Origin")
        allowed = [o.rstrip("/") for o in request.access.project.allowed_origins or []]
        if origin and origin.rstrip("/") not in allowed:
            raise ApplicationError(
                "origin_not_allowed",
                "This origin may not use this project's widget.",
                status_code=403,
            )

    def options(self, request, *args, **kwargs):
        """Preflight: no key is available yet, so allow origins some project allows."""
        response = Response(status=status.HTTP_204_NO_CONTENT)
        origin = request.headers.get("Origin", "")
        if _origin_allowed_anywhere(origin.rstrip("/")):
            response["Access-Control-Allow-Origin"] = origin
            response["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
            response["Access-Control-Allow-Headers"] = "Content-Type"
            response["Access-Control-Max-Age"] = CORS_MAX_AGE
        patch_vary_headers(response, ["Origin"])
        return response

    def initialize_request(self, request, *args, **kwargs):
        drf_request = super().initialize_request(request, *args, **kwargs)
        if request.method == "OPTIONS":  # preflights are answered without authentication
            drf_request.authenticators = []
        return drf_request

    def check_permissions(self, request):
        if request.method != "OPTIONS":
            super().check_permissions(request)

    def check_throttles(self, request):
        if request.method != "OPTIONS":
            super().check_throttles(request)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        origin = request.headers.get("Origin")
        access = getattr(request, "access", None)
        if (
            origin
            and access is not None
            and origin.rstrip("/") in [o.rstrip("/") for o in access.project.allowed_origins or []]
        ):
            response["Access-Control-Allow-Origin"] = origin
        patch_vary_headers(response, ["Origin"])
        return response


class Identity(serializers.Serializer):
    key = serializers.CharField(max_length=64)
    visitor_id = serializers.CharField(max_length=100, required=False, allow_blank=False)
    user_id = serializers.CharField(
        max_length=200, required=False, allow_null=True, allow_blank=True
    )

    def validate(self, attrs):
        if not attrs.get("visitor_id") and not attrs.get("user_id"):
            raise serializers.ValidationError(
                {"visitor_id": ["A visitor_id or user_id is required."]}
            )
        return attrs


# ---------------------------------------------------------------- config


class ConfigApi(WidgetApi):
    @extend_schema(
        operation_id="widget_config",
        parameters=[OpenApiParameter("key", str, required=True)],
        responses={
            200: inline_serializer(
                "WidgetConfig",
                {
                    "project": serializers.DictField(),
                    "theme": serializers.DictField(),
                    "feedback_tab": serializers.DictField(),
                },
            ),
            **WIDGET_ERRORS,
        },
    )
    def get(self, request):
        project = request.access.project
        response = Response(
            {
                "project": {
                    "name": project.name,
                    "languages": project.languages,
                    "default_language": project.default_language,
                },
                "theme": project.theme,
                "feedback_tab": {
                    "enabled": project.feedback_tab_enabled,
                    "label": project.feedback_tab_label,
                },
            }
        )
        response["Cache-Control"] = "public, max-age=60"
        return response


# ---------------------------------------------------------------- decide


class DecideApi(WidgetApi):
    class InputSerializer(Identity):
        attributes = serializers.DictField(required=False, allow_empty=True)
        touchpoint = serializers.SlugField(max_length=100)
        url = serializers.CharField(max_length=2000, required=False, allow_blank=True)
        locale = serializers.CharField(max_length=35, required=False, allow_blank=True)

    @extend_schema(
        operation_id="widget_decide",
        request=InputSerializer,
        responses={
            200: inline_serializer(
                "Decision",
                {
                    "show": serializers.BooleanField(),
                    "reason": serializers.CharField(required=False),
                    "display_id": serializers.UUIDField(required=False),
                    "survey": serializers.DictField(required=False),
                },
            ),
            **WIDGET_ERRORS,
        },
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        project = request.access.project
        contact = ledger.contact_resolve(
            project=project,
            visitor_id=values.get("visitor_id"),
            user_id=values.get("user_id") or None,
            attributes=values.get("attributes"),
            language=values.get("locale"),
        )
        result = ledger.display_claim(
            project=project,
            contact=contact,
            touchpoint_key=values["touchpoint"],
            url=values.get("url"),
            locale=values.get("locale"),
        )
        if not result.verdict.show:
            return Response({"show": False, "reason": result.verdict.reason})
        return Response(
            {
                "show": True,
                "display_id": str(result.display.pk),
                "survey": ledger.survey_payload(display=result.display, project=project),
            }
        )


# ---------------------------------------------------------------- displays


class DisplayEventApi(WidgetApi):
    """POST /displays/{id}/shown | dismissed."""

    event: str = ""

    class InputSerializer(serializers.Serializer):
        key = serializers.CharField(max_length=64)

    @extend_schema(request=InputSerializer, responses={204: None, **WIDGET_ERRORS})
    def post(self, request, display_id):
        self.InputSerializer(data=request.data).is_valid(raise_exception=True)
        display = ledger.display_get(project=request.access.project, display_id=display_id)
        if self.event == "shown":
            ledger.display_mark_shown(display=display)
        else:
            ledger.display_mark_dismissed(display=display)
        return Response(status=status.HTTP_204_NO_CONTENT)


# ---------------------------------------------------------------- responses


class AnswerSerializer(serializers.Serializer):
    question_id = serializers.IntegerField(min_value=1)
    value = serializers.JSONField(allow_null=True)


class ResponseSubmitApi(WidgetApi):
    class InputSerializer(serializers.Serializer):
        key = serializers.CharField(max_length=64)
        display_id = serializers.UUIDField()
        submission_id = serializers.UUIDField()
        answers = AnswerSerializer(many=True, max_length=50)
        finished = serializers.BooleanField()

    OutputSerializer = inline_serializer(
        "ResponseAccepted", {"response_id": serializers.IntegerField()}
    )

    @extend_schema(
        operation_id="widget_response_submit",
        request=InputSerializer,
        responses={201: OutputSerializer, 200: OutputSerializer, 409: ERROR_BODY, **WIDGET_ERRORS},
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        project = request.access.project
        display = ledger.display_get(project=project, display_id=values["display_id"])
        result = response_submit(
            project=project,
            display=display,
            submission_id=values["submission_id"],
            answers=[AnswerIn(a["question_id"], a["value"]) for a in values["answers"]],
            finished=values["finished"],
            meta={
                "user_agent": request.headers.get("User-Agent", "")[:300],
                "url": display.url,
            },
        )
        return Response(
            {"response_id": result.response.pk},
            status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK,
        )


# ---------------------------------------------------------------- feedback tab, opt-out


class FeedbackSubmitApi(WidgetApi):
    class InputSerializer(Identity):
        submission_id = serializers.UUIDField()
        category = serializers.ChoiceField(
            choices=["idea", "problem", "praise", "question", "other"],
            required=False,
            allow_blank=True,
        )
        rating = serializers.IntegerField(min_value=1, max_value=5, required=False, allow_null=True)
        text = serializers.CharField(max_length=5000)
        url = serializers.CharField(max_length=2000, required=False, allow_blank=True)

    OutputSerializer = inline_serializer(
        "FeedbackAccepted", {"feedback_id": serializers.IntegerField()}
    )

    @extend_schema(
        operation_id="widget_feedback_submit",
        request=InputSerializer,
        responses={201: OutputSerializer, 200: OutputSerializer, 409: ERROR_BODY, **WIDGET_ERRORS},
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        project = request.access.project
        contact = ledger.contact_resolve(
            project=project,
            visitor_id=values.get("visitor_id"),
            user_id=values.get("user_id") or None,
        )
        result = feedback_submit(
            project=project,
            contact=contact,
            submission_id=values["submission_id"],
            text=values["text"],
            category=values.get("category") or "",
            rating=values.get("rating"),
            url=values.get("url") or "",
            meta={"user_agent": request.headers.get("User-Agent", "")[:300]},
        )
        return Response(
            {"feedback_id": result.feedback.pk},
            status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK,
        )


class OptOutApi(WidgetApi):
    @extend_schema(
        operation_id="widget_opt_out", request=Identity, responses={204: None, **WIDGET_ERRORS}
    )
    def post(self, request):
        data = Identity(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        contact = ledger.contact_resolve(
            project=request.access.project,
            visitor_id=values.get("visitor_id"),
            user_id=values.get("user_id") or None,
        )
        ledger.contact_opt_out(contact=contact)
        return Response(status=status.HTTP_204_NO_CONTENT)
