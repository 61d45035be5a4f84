"""Management API for the journey (DESIGN.md §6): stages and touchpoints, created, renamed,
reordered, retired and deleted; `DesignApi` is the role rule of the design endpoints (read for every
role, write for admins and designers). Keys never change (the host app and the rollups know
things by them); another project's stage or touchpoint is a 404."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from surveys.journey.models import JourneyStage, Touchpoint
from surveys.journey.selectors import stage_by_key
from surveys.journey.services import (
    stage_create,
    stage_delete,
    stage_update,
    touchpoint_create,
    touchpoint_delete,
    touchpoint_update,
)
from surveys.tenancy.models import Channel
from surveys.tenancy.roles import DESIGN_ROLES, READ_ROLES
from vocsite.api_errors import ERROR_BODY, ERRORS


def _user(request):
    user = request.user
    return user if user is not None and user.is_authenticated else None


class DesignApi(APIView):
    """Read for every role, write for admins and designers."""

    allowed_roles = {"GET": READ_ROLES, "*": DESIGN_ROLES}


class KeyFixedSerializer(serializers.Serializer):
    """A PATCH that tries to change the key is refused, not silently half-applied."""

    def validate(self, attrs):
        if "key" in self.initial_data:
            raise serializers.ValidationError(
                {
                    "key": [
                        gettext(
                            "The key cannot change: the host app sends it and history is kept under it."
                        )
                    ]
                }
            )
        return attrs


class TouchpointOutputSerializer(serializers.ModelSerializer):
    stage = serializers.SlugRelatedField(slug_field="key", read_only=True, allow_null=True)
    retired = serializers.SerializerMethodField(
        help_text="Retired: no longer offered (decide answers `touchpoint_retired`); its "
        "history stays in the metrics."
    )

    class Meta:
        model = Touchpoint
        fields = [
            "id",
            "key",
            "name",
            "stage",
            "channel",
            "description",
            "position",
            "retired",
            "retired_at",
        ]

    def get_retired(self, touchpoint: Touchpoint) -> bool:
        return touchpoint.retired_at is not None


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
        description="Every touchpoint in journey order (stage, then position), retired ones too.",
        responses={200: TouchpointOutputSerializer(many=True), **ERRORS},
    )
    def get(self, request):
        touchpoints = Touchpoint.objects.filter(project=request.access.project).select_related(
            "stage"
        )
        return Response(TouchpointOutputSerializer(touchpoints, many=True).data)

    @extend_schema(
        request=InputSerializer,
        description="A new touchpoint goes last in its stage.",
        responses={201: TouchpointOutputSerializer, 409: ERROR_BODY, **ERRORS},
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        touchpoint = touchpoint_create(
            project=request.access.project,
            key=values["key"],
            name=values["name"],
            stage=stage_by_key(project=request.access.project, key=values.get("stage")),
            channel=values["channel"],
            description=values["description"],
            actor=_user(request),
        )
        return Response(TouchpointOutputSerializer(touchpoint).data, status=status.HTTP_201_CREATED)


class TouchpointDetailApi(DesignApi):
    class PatchSerializer(KeyFixedSerializer):
        name = serializers.CharField(max_length=200, required=False)
        description = serializers.CharField(max_length=2000, required=False, allow_blank=True)
        channel = serializers.ChoiceField(choices=Channel.choices, required=False)
        stage = serializers.SlugField(
            max_length=64,
            required=False,
            allow_null=True,
            help_text="Move to this stage (null: no stage); it goes last there.",
        )
        position = serializers.IntegerField(
            min_value=0,
            max_value=10_000,
            required=False,
            help_text="Place within its stage, 0 = first; the others move up or down.",
        )
        retired = serializers.BooleanField(
            required=False, help_text="true retires the touchpoint, false restores it."
        )

    def _touchpoint(self, request, touchpoint_id: int) -> Touchpoint:
        return get_object_or_404(
            Touchpoint.objects.filter(project=request.access.project).select_related("stage"),
            pk=touchpoint_id,
        )

    @extend_schema(
        operation_id="touchpoints_retrieve",
        responses={200: TouchpointOutputSerializer, **ERRORS},
    )
    def get(self, request, touchpoint_id: int):
        return Response(TouchpointOutputSerializer(self._touchpoint(request, touchpoint_id)).data)

    @extend_schema(
        request=PatchSerializer,
        description="Rename, describe, move (another stage, another position) or retire and "
        "restore a touchpoint. The key cannot change: the host app sends it and its history "
        "is kept under it.",
        responses={200: TouchpointOutputSerializer, **ERRORS},
    )
    def patch(self, request, touchpoint_id: int):
        touchpoint = self._touchpoint(request, touchpoint_id)
        data = self.PatchSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        if "stage" in values:
            values["stage"] = stage_by_key(project=request.access.project, key=values["stage"])
        touchpoint = touchpoint_update(touchpoint=touchpoint, actor=_user(request), **values)
        return Response(TouchpointOutputSerializer(touchpoint).data)

    @extend_schema(
        description="Deletes a touchpoint that nothing points at. A touchpoint with history "
        "(attached surveys or alert rules, displays, decide decisions, answers, invitations) "
        "is not deleted: 409 `touchpoint_has_history` — retire it instead with PATCH "
        '`{"retired": true}`; it stops being offered and its history stays in the metrics.',
        responses={
            204: None,
            409: OpenApiResponse(ERROR_BODY, description="The touchpoint has history"),
            **ERRORS,
        },
    )
    def delete(self, request, touchpoint_id: int):
        touchpoint_delete(touchpoint=self._touchpoint(request, touchpoint_id), actor=_user(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class StageOutputSerializer(serializers.ModelSerializer):
    retired = serializers.SerializerMethodField(
        help_text="Retired: none of its touchpoints is offered (decide answers "
        "`stage_retired`); its touchpoints and their history stay."
    )

    class Meta:
        model = JourneyStage
        fields = ["id", "key", "name", "description", "position", "retired", "retired_at"]

    def get_retired(self, stage: JourneyStage) -> bool:
        return stage.retired_at is not None


class StageListCreateApi(DesignApi):
    class InputSerializer(serializers.Serializer):
        key = serializers.SlugField(max_length=64)
        name = serializers.CharField(max_length=100)
        description = serializers.CharField(
            max_length=2000, required=False, allow_blank=True, default=""
        )
        position = serializers.IntegerField(
            min_value=0, max_value=10_000, required=False, help_text="Default: last."
        )

    @extend_schema(
        operation_id="stages_list",
        description="The journey's stages in order.",
        responses={200: StageOutputSerializer(many=True), **ERRORS},
    )
    def get(self, request):
        stages = JourneyStage.objects.filter(project=request.access.project)
        return Response(StageOutputSerializer(stages, many=True).data)

    @extend_schema(
        request=InputSerializer,
        responses={201: StageOutputSerializer, 409: ERROR_BODY, **ERRORS},
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        stage = stage_create(
            project=request.access.project,
            key=values["key"],
            name=values["name"],
            description=values["description"],
            actor=_user(request),
        )
        if values.get("position") is not None:
            stage = stage_update(stage=stage, actor=_user(request), position=values["position"])
        return Response(StageOutputSerializer(stage).data, status=status.HTTP_201_CREATED)


class StageDetailApi(DesignApi):
    class PatchSerializer(KeyFixedSerializer):
        name = serializers.CharField(max_length=100, required=False)
        description = serializers.CharField(max_length=2000, required=False, allow_blank=True)
        position = serializers.IntegerField(
            min_value=0,
            max_value=10_000,
            required=False,
            help_text="Place in the journey, 0 = first; the others move up or down.",
        )
        retired = serializers.BooleanField(
            required=False, help_text="true retires the stage, false restores it."
        )

    def _stage(self, request, stage_id: int) -> JourneyStage:
        return get_object_or_404(
            JourneyStage.objects.filter(project=request.access.project), pk=stage_id
        )

    @extend_schema(operation_id="stages_retrieve", responses={200: StageOutputSerializer, **ERRORS})
    def get(self, request, stage_id: int):
        return Response(StageOutputSerializer(self._stage(request, stage_id)).data)

    @extend_schema(
        request=PatchSerializer,
        description="Rename, describe, move, or retire and restore a stage. The key cannot "
        "change (the rollups keep history under it).",
        responses={200: StageOutputSerializer, **ERRORS},
    )
    def patch(self, request, stage_id: int):
        stage = self._stage(request, stage_id)
        data = self.PatchSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        stage = stage_update(stage=stage, actor=_user(request), **data.validated_data)
        return Response(StageOutputSerializer(stage).data)

    @extend_schema(
        description="Deletes a stage that holds no touchpoint. A stage that holds touchpoints "
        "(retired ones too) is not deleted: 409 `stage_has_touchpoints` — move them to another "
        'stage first, or retire the stage instead with PATCH `{"retired": true}`.',
        responses={
            204: None,
            409: OpenApiResponse(ERROR_BODY, description="The stage holds touchpoints"),
            **ERRORS,
        },
    )
    def delete(self, request, stage_id: int):
        stage_delete(stage=self._stage(request, stage_id), actor=_user(request))
        return Response(status=status.HTTP_204_NO_CONTENT)
