"""Cases API (DESIGN.md §6): the follow-up queue, one case with its history, case statistics,
and the Feedback-tab messages (`GET /api/v1/feedback`).

Admins, designers and agents (agents see only their teams' cases and their own — the same rule
as the inbox); everything is scoped to `request.access.project`, another project's case is 404."""

from __future__ import annotations

from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    extend_schema,
    extend_schema_field,
)
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from feedback.answering.models import Feedback, FeedbackStatus, Sentiment
from feedback.cases.models import OPEN_CASE_STATUSES, Case, CasePriority, CaseStatus, ContactMethod
from feedback.cases.selectors import (
    CaseFilters,
    FeedbackFilters,
    case_detail,
    cases_list,
    feedback_messages,
    recovery_rate,
    root_cause_named,
    sla_by_team,
)
from feedback.cases.services import CaseChange, assignees_by_name, case_assign, case_change
from feedback.webhooks.api import _user
from surveys.tenancy.roles import CASE_ROLES
from vocsite.api_errors import ERRORS
from vocsite.api_lists import PAGE_PARAMETERS, list_filters, list_page, page_serializer
from vocsite.ids import IdField


class CaseOutputSerializer(serializers.ModelSerializer):
    team = serializers.CharField(source="team.name", allow_null=True, default=None)
    assignee = serializers.CharField(source="assignee.username", allow_null=True, default=None)
    contact = serializers.CharField(source="contact.user_id", allow_null=True, default=None)
    rule = serializers.CharField(
        source="rule.name",
        allow_null=True,
        default=None,
        help_text="The rule that opened the case: of the rules the answer matched, the one "
        "with the highest priority (then the oldest). Null: opened by hand.",
    )
    also_matched = serializers.SerializerMethodField(
        help_text="The other rules the answer matched (one answer opens one case)."
    )
    root_cause = serializers.CharField(
        source="root_cause.name",
        default="",
        help_text="An entry of the project's root-cause list, or empty.",
    )
    touchpoint = serializers.CharField(
        source="response.touchpoint.key", allow_null=True, default=None
    )
    overdue = serializers.SerializerMethodField()

    class Meta:
        model = Case
        fields = [
            "id",
            "title",
            "status",
            "priority",
            "team",
            "assignee",
            "contact",
            "rule",
            "also_matched",
            "touchpoint",
            "response",
            "feedback",
            "due_at",
            "overdue",
            "first_contacted_at",
            "resolved_at",
            "closed_at",
            "root_cause",
            "resolution_note",
            "contact_method",
            "recovered",
            "recovered_at",
            "created_at",
            "updated_at",
        ]

    def get_also_matched(self, case: Case) -> list[str]:
        return [rule.name for rule in case.also_matched.all()]

    def get_overdue(self, case: Case) -> bool:
        return case.status in OPEN_CASE_STATUSES and case.due_at < timezone.now()


class CaseEventSerializer(serializers.Serializer):
    kind = serializers.CharField()
    actor = serializers.CharField(source="actor.username", allow_null=True, default=None)
    from_value = serializers.CharField()
    to_value = serializers.CharField()
    note = serializers.CharField()
    created_at = serializers.DateTimeField()


class AnswerOutputSerializer(serializers.Serializer):
    question_id = serializers.IntegerField()
    type = serializers.CharField(source="question_type")
    text = serializers.JSONField(source="question.text")
    value_int = serializers.IntegerField(allow_null=True)
    value_text = serializers.CharField()
    value_choices = serializers.JSONField(allow_null=True)


class CaseDetailOutputSerializer(CaseOutputSerializer):
    answers = serializers.SerializerMethodField()
    events = CaseEventSerializer(many=True)

    class Meta(CaseOutputSerializer.Meta):
        fields = [*CaseOutputSerializer.Meta.fields, "answers", "events"]

    @extend_schema_field(AnswerOutputSerializer(many=True))
    def get_answers(self, case: Case) -> list[dict]:
        if case.response_id is None:
            return []
        return AnswerOutputSerializer(case.response.answers.all(), many=True).data


CasePageSerializer = page_serializer("CasePageSerializer", CaseOutputSerializer)


class CaseListApi(APIView):
    allowed_roles = CASE_ROLES

    class FilterSerializer(serializers.Serializer):
        status = serializers.ChoiceField(
            choices=["open", *CaseStatus.values], required=False, help_text="A status, or open."
        )
        team = IdField(required=False)
        assignee = serializers.CharField(
            max_length=150, required=False, help_text="A username, me, or none."
        )
        priority = serializers.ChoiceField(choices=CasePriority.choices, required=False)
        overdue = serializers.BooleanField(required=False, allow_null=True, default=None)
        touchpoint = serializers.SlugField(max_length=100, required=False)
        q = serializers.CharField(max_length=200, required=False)

    @extend_schema(
        operation_id="cases_list",
        parameters=[FilterSerializer, *PAGE_PARAMETERS],
        responses={200: CasePageSerializer, **ERRORS},
    )
    def get(self, request):
        values = list_filters(request, self.FilterSerializer)
        cases = cases_list(
            project=request.access.project,
            user=_user(request),
            role=request.access.role,
            filters=CaseFilters(
                status=values.get("status", ""),
                team_id=values.get("team"),
                assignee=values.get("assignee", ""),
                priority=values.get("priority", ""),
                overdue=values.get("overdue"),
                touchpoint=values.get("touchpoint", ""),
                q=values.get("q", ""),
            ),
        )
        return list_page(request, self, cases, ordering=("due_at", "id"), item=CaseOutputSerializer)


class CaseDetailApi(APIView):
    allowed_roles = CASE_ROLES

    class PatchSerializer(serializers.Serializer):
        status = serializers.ChoiceField(choices=CaseStatus.choices, required=False)
        priority = serializers.ChoiceField(choices=CasePriority.choices, required=False)
        assignee = serializers.CharField(
            max_length=150, required=False, allow_null=True, help_text="Username; null unassigns."
        )
        note = serializers.CharField(max_length=5000, required=False, allow_blank=True)
        root_cause = serializers.CharField(
            max_length=200,
            required=False,
            help_text="The name of one of the project's active root causes (admins keep the "
            "list on the Root causes page).",
        )
        resolution_note = serializers.CharField(max_length=5000, required=False, allow_blank=True)
        contact_method = serializers.ChoiceField(choices=ContactMethod.choices, required=False)

    def _case(self, request, case_id: int) -> Case:
        case = case_detail(
            case_id=case_id,
            project=request.access.project,
            user=_user(request),
            role=request.access.role,
        )
        if case is None:
            raise Http404
        return case

    @extend_schema(responses={200: CaseDetailOutputSerializer, **ERRORS})
    def get(self, request, case_id: int):
        return Response(CaseDetailOutputSerializer(self._case(request, case_id)).data)

    @extend_schema(request=PatchSerializer, responses={200: CaseDetailOutputSerializer, **ERRORS})
    def patch(self, request, case_id: int):
        case = self._case(request, case_id)
        data = self.PatchSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        actor = _user(request)
        if "assignee" in values:
            name = values["assignee"]
            assignee = None
            if name:
                assignee = assignees_by_name(request.access.project, [name]).get(name)
                if assignee is None:
                    raise serializers.ValidationError({"assignee": [gettext("No such member.")]})
            case = case_assign(case=case, assignee=assignee, actor=actor)
        root_cause = None
        if "root_cause" in values:
            root_cause = root_cause_named(project=request.access.project, name=values["root_cause"])
            if root_cause is None:
                raise serializers.ValidationError(
                    {"root_cause": [gettext("Not one of the project's root causes.")]}
                )
        change = CaseChange(
            status=values.get("status"),
            priority=values.get("priority"),
            note=values.get("note", ""),
            root_cause=root_cause,
            resolution_note=values.get("resolution_note"),
            contact_method=values.get("contact_method"),
        )
        case_change(case=case, actor=actor, change=change)
        return Response(CaseDetailOutputSerializer(self._case(request, case_id)).data)


class CaseStatsApi(APIView):
    """SLA compliance per team and the recovery rate of detractor cases."""

    allowed_roles = CASE_ROLES

    class OutputSerializer(serializers.Serializer):
        class TeamSerializer(serializers.Serializer):
            team = serializers.CharField()
            open = serializers.IntegerField()
            overdue = serializers.IntegerField()
            met = serializers.IntegerField()
            breached = serializers.IntegerField()
            compliance = serializers.FloatField(allow_null=True)
            median_first_contact_hours = serializers.FloatField(allow_null=True)
            median_resolution_hours = serializers.FloatField(allow_null=True)

        class RecoverySerializer(serializers.Serializer):
            closed = serializers.IntegerField()
            recovered = serializers.IntegerField()
            rate = serializers.FloatField(allow_null=True)

        sla = TeamSerializer(many=True)
        recovery = RecoverySerializer()

    @extend_schema(operation_id="cases_stats", responses={200: OutputSerializer, **ERRORS})
    def get(self, request):
        project = request.access.project
        return Response(
            self.OutputSerializer(
                {"sla": sla_by_team(project=project), "recovery": recovery_rate(project=project)}
            ).data
        )


# ---------------------------------------------------------------- Feedback-tab messages


class FeedbackOutputSerializer(serializers.ModelSerializer):
    contact = serializers.CharField(source="contact.user_id", allow_null=True, default=None)
    topics = serializers.SerializerMethodField(help_text="The topics the message is tagged with.")
    status = serializers.SerializerMethodField(help_text="new, or handled in the Feedback inbox.")
    handled_by = serializers.CharField(source="handled_by.username", allow_null=True, default=None)
    case = serializers.SerializerMethodField(help_text="The message's case, if it has one.")

    class Meta:
        model = Feedback
        fields = [
            "id",
            "created_at",
            "category",
            "rating",
            "text",
            "url",
            "sentiment",
            "topics",
            "contact",
            "status",
            "handled_at",
            "handled_by",
            "case",
        ]

    def get_topics(self, item: Feedback) -> list[str]:
        return sorted({tag.topic.name for tag in item.tags.all() if not tag.suppressed})

    @extend_schema_field(serializers.ChoiceField(choices=FeedbackStatus.choices))
    def get_status(self, item: Feedback) -> str:
        return FeedbackStatus.HANDLED if item.handled_at else FeedbackStatus.NEW

    @extend_schema_field(OpenApiTypes.INT)
    def get_case(self, item: Feedback) -> int | None:
        cases = list(item.cases.all())
        return cases[0].pk if cases else None


FeedbackPageSerializer = page_serializer("FeedbackPageSerializer", FeedbackOutputSerializer)


class FeedbackListApi(APIView):
    """Feedback-tab messages, newest first: the Feedback inbox's list and filters."""

    allowed_roles = CASE_ROLES

    class FilterSerializer(serializers.Serializer):
        since = serializers.DateTimeField(required=False, help_text="Sent at or after.")
        until = serializers.DateTimeField(required=False, help_text="Sent before.")
        category = serializers.CharField(max_length=32, required=False)
        rating = serializers.IntegerField(min_value=1, max_value=5, required=False)
        topic = IdField(required=False, help_text="A topic id.")
        sentiment = serializers.ChoiceField(choices=Sentiment.choices, required=False)
        status = serializers.ChoiceField(choices=FeedbackStatus.choices, required=False)
        q = serializers.CharField(
            max_length=200, required=False, help_text="Words in what the customer wrote."
        )

    @extend_schema(
        operation_id="feedback_list",
        parameters=[FilterSerializer, *PAGE_PARAMETERS],
        responses={200: FeedbackPageSerializer, **ERRORS},
    )
    def get(self, request):
        values = list_filters(request, self.FilterSerializer)
        items = feedback_messages(
            project=request.access.project,
            filters=FeedbackFilters(
                category=values.get("category", ""),
                rating=values.get("rating"),
                topic_id=values.get("topic"),
                sentiment=values.get("sentiment", ""),
                status=values.get("status", ""),
                q=values.get("q", ""),
                since=values.get("since"),
                until=values.get("until"),
            ),
        )
        return list_page(
            request, self, items, ordering=("-created_at", "-id"), item=FeedbackOutputSerializer
        )
