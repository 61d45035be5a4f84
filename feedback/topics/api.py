"""Topics API: `/api/v1/topics` (read by every role, changed by admins and designers) with the
retag run a rule change starts, and the suggested topics. Same services and validation as the
staff pages."""

from __future__ import annotations

from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from feedback.topics.models import RetagRun, Topic
from feedback.topics.selectors import topic_overview
from feedback.topics.services import TopicIn, topic_delete, topic_save, topic_suggestions
from surveys.journey.api import DesignApi
from surveys.tenancy.roles import DESIGN_ROLES
from vocsite.api_errors import ERRORS


class RetagRunSerializer(serializers.ModelSerializer):
    percent = serializers.IntegerField()

    class Meta:
        model = RetagRun
        fields = [
            "id",
            "status",
            "total",
            "done",
            "percent",
            "tags_written",
            "started_at",
            "finished_at",
        ]


class TopicOutputSerializer(serializers.ModelSerializer):
    comments_30d = serializers.IntegerField(
        source="recent", default=None, allow_null=True, help_text="In the list only."
    )
    comments_previous_30d = serializers.IntegerField(
        source="previous", default=None, allow_null=True, help_text="In the list only."
    )

    class Meta:
        model = Topic
        fields = [
            "id",
            "name",
            "keywords",
            "exclusions",
            "is_active",
            "rules_version",
            "comments_30d",
            "comments_previous_30d",
        ]


class TopicSavedSerializer(serializers.Serializer):
    topic = TopicOutputSerializer()
    retag = RetagRunSerializer(allow_null=True, help_text="The retag this change started, if any.")


class TopicInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    keywords = serializers.ListField(child=serializers.CharField(max_length=100), max_length=100)
    exclusions = serializers.ListField(
        child=serializers.CharField(max_length=100), max_length=100, required=False, default=list
    )
    is_active = serializers.BooleanField(required=False, default=True)


class TopicPatchSerializer(TopicInputSerializer):
    name = serializers.CharField(max_length=100, required=False)
    keywords = serializers.ListField(
        child=serializers.CharField(max_length=100), max_length=100, required=False
    )
    exclusions = serializers.ListField(
        child=serializers.CharField(max_length=100), max_length=100, required=False
    )
    is_active = serializers.BooleanField(required=False)


class SuggestionSerializer(serializers.Serializer):
    term = serializers.CharField()
    comments = serializers.IntegerField()
    examples = serializers.ListField(child=serializers.CharField())


def _saved(topic: Topic, run: RetagRun | None) -> dict:
    return {
        "topic": TopicOutputSerializer(topic).data,
        "retag": RetagRunSerializer(run).data if run else None,
    }


class TopicListCreateApi(DesignApi):
    @extend_schema(
        operation_id="topics_list", responses={200: TopicOutputSerializer(many=True), **ERRORS}
    )
    def get(self, request):
        topics = topic_overview(project=request.access.project)
        return Response(TopicOutputSerializer(topics, many=True).data)

    @extend_schema(
        operation_id="topics_create",
        request=TopicInputSerializer,
        responses={201: TopicSavedSerializer, **ERRORS},
    )
    def post(self, request):
        data = TopicInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        topic, run = topic_save(
            project=request.access.project,
            actor=request.user,
            data=TopicIn(**data.validated_data),
        )
        return Response(_saved(topic, run), status=status.HTTP_201_CREATED)


class TopicDetailApi(DesignApi):
    def _topic(self, request, topic_id: int) -> Topic:
        topic = Topic.objects.filter(project=request.access.project, pk=topic_id).first()
        if topic is None:
            raise Http404
        return topic

    @extend_schema(responses={200: TopicOutputSerializer, **ERRORS})
    def get(self, request, topic_id: int):
        return Response(TopicOutputSerializer(self._topic(request, topic_id)).data)

    @extend_schema(request=TopicPatchSerializer, responses={200: TopicSavedSerializer, **ERRORS})
    def patch(self, request, topic_id: int):
        topic = self._topic(request, topic_id)
        data = TopicPatchSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        topic, run = topic_save(
            project=request.access.project,
            topic=topic,
            actor=request.user,
            data=TopicIn(
                name=values.get("name", topic.name),
                keywords=values.get("keywords", topic.keywords),
                exclusions=values.get("exclusions", topic.exclusions),
                is_active=values.get("is_active", topic.is_active),
            ),
        )
        return Response(_saved(topic, run))

    @extend_schema(responses={204: None, **ERRORS})
    def delete(self, request, topic_id: int):
        topic_delete(topic=self._topic(request, topic_id), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class TopicSuggestionsApi(APIView):
    allowed_roles = DESIGN_ROLES

    @extend_schema(
        operation_id="topics_suggestions",
        responses={200: SuggestionSerializer(many=True), **ERRORS},
    )
    def get(self, request):
        return Response(
            SuggestionSerializer(topic_suggestions(request.access.project), many=True).data
        )


class RetagRunApi(APIView):
    allowed_roles = DESIGN_ROLES

    @extend_schema(responses={200: RetagRunSerializer, **ERRORS})
    def get(self, request, run_id: int):
        run = RetagRun.objects.filter(project=request.access.project, pk=run_id).first()
        if run is None:
            raise Http404
        return Response(RetagRunSerializer(run).data)
