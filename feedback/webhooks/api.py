"""Webhooks API (DESIGN.md §6): endpoints (edit, delete, rotate the secret, send a test event),
their deliveries with every attempt, and replay. Admins and secret keys; another project's
endpoint or delivery is a 404.

Events: `response.finished`, `case.created`, `case.updated`, `case.overdue`,
`feedback.created` (subscribed to), and `test.ping` (sent on demand by
`POST /api/v1/webhooks/{id}/test`, never subscribed to)."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
)
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from feedback.webhooks.models import (
    SUBSCRIBABLE_EVENTS,
    DeliveryStatus,
    EndpointKind,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
from feedback.webhooks.services import (
    webhook_endpoint_create,
    webhook_endpoint_delete,
    webhook_endpoint_update,
    webhook_replay,
    webhook_secret_rotate,
    webhook_test_send,
)
from surveys.tenancy.roles import ADMIN_ROLES
from vocsite.api_errors import ERRORS


def _user(request):
    user = request.user
    return None if isinstance(user, AnonymousUser) or not user.is_authenticated else user


class WebhookOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookEndpoint
        fields = ["id", "url", "events", "description", "is_active", "created_at"]


class WebhookCreatedSerializer(WebhookOutputSerializer):
    class Meta(WebhookOutputSerializer.Meta):
        fields = [*WebhookOutputSerializer.Meta.fields, "secret"]


class WebhookInputSerializer(serializers.Serializer):
    url = serializers.URLField(max_length=2000)
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=[(e.value, e.label) for e in SUBSCRIBABLE_EVENTS]),
        min_length=1,
        max_length=10,
        help_text="The events to receive. `test.ping` is not subscribed to: it is sent on "
        "demand by POST /api/v1/webhooks/{id}/test.",
    )
    description = serializers.CharField(max_length=200, required=False, allow_blank=True)
    is_active = serializers.BooleanField(required=False)


class DeliveryOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "event",
            "subject",
            "status",
            "attempts",
            "next_attempt_at",
            "last_status_code",
            "last_error",
            "last_duration_ms",
            "delivered_at",
            "created_at",
            "payload",
        ]


class AttemptOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookAttempt
        fields = [
            "number",
            "status_code",
            "error",
            "duration_ms",
            "request_headers",
            "response_excerpt",
            "replay",
            "created_at",
        ]
        extra_kwargs = {
            "error": {"help_text": "The failure in words, e.g. “Connection refused”."},
            "response_excerpt": {
                "help_text": "The start of the reply (500 characters), kept only when it came "
                "from a public address."
            },
        }


class DeliveryDetailSerializer(DeliveryOutputSerializer):
    endpoint = serializers.IntegerField(source="endpoint_id", read_only=True)
    log = AttemptOutputSerializer(many=True, read_only=True)

    class Meta(DeliveryOutputSerializer.Meta):
        fields = [*DeliveryOutputSerializer.Meta.fields, "endpoint", "log"]


class WebhookApi(APIView):
    allowed_roles = ADMIN_ROLES

    def _endpoints(self, request):
        # Standard Webhooks endpoints; a team's chat channels are configured on its page.
        endpoints = WebhookEndpoint.objects.filter(
            project=request.access.project, kind=EndpointKind.STANDARD
        )
        return endpoints.order_by("pk")


class WebhookListCreateApi(WebhookApi):
    @extend_schema(
        operation_id="webhooks_list", responses={200: WebhookOutputSerializer(many=True), **ERRORS}
    )
    def get(self, request):
        return Response(WebhookOutputSerializer(self._endpoints(request), many=True).data)

    @extend_schema(
        request=WebhookInputSerializer,
        responses={
            201: OpenApiResponse(
                WebhookCreatedSerializer, description="The signing secret is shown here once."
            ),
            **ERRORS,
        },
    )
    def post(self, request):
        data = WebhookInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        endpoint = webhook_endpoint_create(
            project=request.access.project,
            url=values["url"],
            events=values["events"],
            description=values.get("description", ""),
            actor=_user(request),
        )
        return Response(WebhookCreatedSerializer(endpoint).data, status=status.HTTP_201_CREATED)


class WebhookDetailApi(WebhookApi):
    @extend_schema(responses={200: WebhookOutputSerializer, **ERRORS})
    def get(self, request, webhook_id: int):
        endpoint = get_object_or_404(self._endpoints(request), pk=webhook_id)
        return Response(WebhookOutputSerializer(endpoint).data)

    @extend_schema(
        request=WebhookInputSerializer, responses={200: WebhookOutputSerializer, **ERRORS}
    )
    def patch(self, request, webhook_id: int):
        endpoint = get_object_or_404(self._endpoints(request), pk=webhook_id)
        data = WebhookInputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        endpoint = webhook_endpoint_update(
            endpoint=endpoint, actor=_user(request), **data.validated_data
        )
        return Response(WebhookOutputSerializer(endpoint).data)

    @extend_schema(responses={204: None, **ERRORS})
    def delete(self, request, webhook_id: int):
        endpoint = get_object_or_404(self._endpoints(request), pk=webhook_id)
        webhook_endpoint_delete(endpoint=endpoint, actor=_user(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class WebhookRotateSecretApi(WebhookApi):
    @extend_schema(
        request=None,
        responses={
            200: OpenApiResponse(
                WebhookCreatedSerializer,
                description="The new signing secret, shown here once; every attempt from now "
                "on is signed with it.",
            ),
            **ERRORS,
        },
    )
    def post(self, request, webhook_id: int):
        endpoint = get_object_or_404(self._endpoints(request), pk=webhook_id)
        endpoint = webhook_secret_rotate(endpoint=endpoint, actor=_user(request))
        return Response(WebhookCreatedSerializer(endpoint).data)


class WebhookTestApi(WebhookApi):
    @extend_schema(
        request=None,
        description="Queue a signed `test.ping` delivery to this endpoint (paused or not), "
        "through the same path, retries and log as real events.",
        responses={202: DeliveryOutputSerializer, **ERRORS},
    )
    def post(self, request, webhook_id: int):
        endpoint = get_object_or_404(self._endpoints(request), pk=webhook_id)
        delivery = webhook_test_send(endpoint=endpoint, actor=_user(request))
        delivery.refresh_from_db()
        return Response(DeliveryOutputSerializer(delivery).data, status=status.HTTP_202_ACCEPTED)


class WebhookDeliveryDetailApi(WebhookApi):
    @extend_schema(
        operation_id="webhooks_delivery_retrieve",
        responses={200: DeliveryDetailSerializer, **ERRORS},
    )
    def get(self, request, delivery_id):
        delivery = get_object_or_404(
            WebhookDelivery.objects.filter(endpoint__project=request.access.project),
            pk=delivery_id,
        )
        return Response(DeliveryDetailSerializer(delivery).data)


class WebhookDeliveriesApi(WebhookApi):
    class FilterSerializer(serializers.Serializer):
        status = serializers.ChoiceField(choices=DeliveryStatus.choices, required=False)

    @extend_schema(
        operation_id="webhooks_deliveries_list",
        parameters=[FilterSerializer],
        responses={200: DeliveryOutputSerializer(many=True), **ERRORS},
    )
    def get(self, request, webhook_id: int):
        endpoint = get_object_or_404(self._endpoints(request), pk=webhook_id)
        query = self.FilterSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        deliveries = endpoint.deliveries.order_by("-created_at")
        if query.validated_data.get("status"):
            deliveries = deliveries.filter(status=query.validated_data["status"])
        return Response(DeliveryOutputSerializer(deliveries[:200], many=True).data)


class WebhookReplayApi(WebhookApi):
    @extend_schema(request=None, responses={202: DeliveryOutputSerializer, **ERRORS})
    def post(self, request, delivery_id):
        delivery = get_object_or_404(
            WebhookDelivery.objects.filter(endpoint__project=request.access.project),
            pk=delivery_id,
        )
        delivery = webhook_replay(delivery=delivery, actor=_user(request))
        return Response(DeliveryOutputSerializer(delivery).data, status=status.HTTP_202_ACCEPTED)
