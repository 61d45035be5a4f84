"""`POST /api/v1/events`: operational events from the company's servers (secret key)."""

from __future__ import annotations

from django.utils.translation import gettext
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from surveys.delivery.events import EventIn, event_record
from surveys.tenancy.roles import ADMIN_ROLES
from vocsite.api_errors import ERRORS


class EventInputSerializer(serializers.Serializer):
    event = serializers.RegexField(
        r"^[a-z0-9_.-]+$",
        max_length=100,
        help_text="What happened: order_placed, ticket_closed, subscription_cancelled… "
        "An event named like a touchpoint key can invite the person to that touchpoint's "
        "e-mail survey.",
    )
    user_id = serializers.CharField(max_length=200, required=False, allow_blank=False)
    email = serializers.EmailField(required=False, help_text="Stored if the contact has none.")
    event_id = serializers.CharField(
        max_length=100, required=False, default="", help_text="Idempotency key."
    )
    occurred_at = serializers.DateTimeField(required=False)
    properties = serializers.DictField(required=False, default=dict)
    revenue = serializers.DecimalField(
        max_digits=14,
        decimal_places=2,
        required=False,
        allow_null=True,
        help_text="Revenue of this event (negative for refunds).",
    )

    def validate_properties(self, value):
        if len(str(value)) > 10_000:
            raise serializers.ValidationError(gettext("At most 10,000 characters of properties."))
        return value


class EventOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    created = serializers.BooleanField(help_text="False: this event_id was stored before.")
    invitation = serializers.UUIDField(allow_null=True, help_text="The e-mail survey scheduled.")


class EventApi(APIView):
    allowed_roles = ADMIN_ROLES

    @extend_schema(
        operation_id="events_create",
        request=EventInputSerializer,
        responses={201: EventOutputSerializer, 200: EventOutputSerializer, **ERRORS},
    )
    def post(self, request):
        data = EventInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        result = event_record(project=request.access.project, data=EventIn(**data.validated_data))
        return Response(
            {"id": result.event.pk, "created": result.created, "invitation": result.invitation_id},
            status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK,
        )
