"""Management API for the journey (DESIGN.md §6): touchpoints; `DesignApi` is the role rule of
the design endpoints (read for every role, write for admins and designers)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from surveys.journey.models import JourneyStage, Touchpoint
from surveys.journey.services import touchpoint_create
from surveys.tenancy.models import Channel
from surveys.tenancy.roles import DESIGN_ROLES, READ_ROLES
from vocsite.api_errors import ERROR_BODY, ERRORS


class DesignApi(APIView):
    """Read for every role, write for admins and designers."""

    allowed_roles = {"GET": READ_ROLES, "*": DESIGN_ROLES}


class TouchpointOutputSerializer(serializers.ModelSerializer):
    stage = serializers.SlugRelatedField(slug_field="key", read_only=True, allow_null=True)

    class Meta:
        model = Touchpoint
        fields = ["id", "key", "name", "stage", "channel", "description"]


class TouchpointListCreateApi(DesignApi):
    class InputSerializer(serializers.Serializer):
        key = serializers.SlugField(max_length=100)
        name = serializers.CharField(max_length=200)
        stage = serializers.SlugField(max_length=64, required=False, allow_null=True)
        channel = serializers.ChoiceField(choices=Channel.choices, default=Channel.WEB)
        description = serializers.CharField(
            max_length=2000, required=False, allow_blank=True, default=""
        )

    @extend_schema(
        operation_id="touchpoints_list",
        responses={200: TouchpointOutputSerializer(many=True), **ERRORS},
    )
    def get(self, request):
        touchpoints = Touchpoint.objects.filter(project=request.access.project).select_related(
            "stage"
        )
        return Response(TouchpointOutputSerializer(touchpoints, many=True).data)

    @extend_schema(
        request=InputSerializer,
        responses={201: TouchpointOutputSerializer, 409: ERROR_BODY, **ERRORS},
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        stage = None
        if values.get("stage"):
            stage = JourneyStage.objects.filter(
                project=request.access.project, key=values["stage"]
            ).first()
            if stage is None:
                raise serializers.ValidationError({"stage": ["Unknown stage."]})
        touchpoint = touchpoint_create(
            project=request.access.project,
            key=values["key"],
            name=values["name"],
            stage=stage,
            channel=values["channel"],
            description=values["description"],
        )
        return Response(TouchpointOutputSerializer(touchpoint).data, status=status.HTTP_201_CREATED)
