"""Contacts API (admins and secret keys; personal data), DESIGN.md §6: `PUT` upserts, `GET`
exports everything held about the person, `DELETE` erases them; `DELETE /api/v1/visitors/{id}`
erases a person known only by an anonymous visitor id; `POST /api/v1/contacts/import` takes a
CSV (every row valid or nothing imported)."""

from __future__ import annotations

from django.utils.translation import gettext
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiRequest, extend_schema
from rest_framework import parsers, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from surveys.contacts.models import Contact
from surveys.contacts.services import (
    ContactIn,
    contact_erase,
    contact_export,
    contact_for_visitor,
    contact_get,
    contact_upsert,
    contacts_import_csv,
)
from surveys.tenancy.roles import ADMIN_ROLES
from vocsite.api_errors import ERRORS

USER_ID = OpenApiParameter("user_id", OpenApiTypes.STR, OpenApiParameter.PATH)
VISITOR_ID = OpenApiParameter("visitor_id", OpenApiTypes.STR, OpenApiParameter.PATH)


class ContactInputSerializer(serializers.Serializer):
    email = serializers.EmailField(required=False, allow_blank=True)
    phone = serializers.CharField(max_length=40, required=False, allow_blank=True)
    language = serializers.CharField(max_length=16, required=False, allow_blank=True)
    attributes = serializers.DictField(required=False)


class ContactOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = Contact
        fields = [
            "user_id",
            "email",
            "phone",
            "language",
            "attributes",
            "lifecycle",
            "churned_at",
            "revenue_total",
            "opted_out_at",
            "last_seen_at",
            "created_at",
        ]


class ImportResultSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    updated = serializers.IntegerField()


class ContactApi(APIView):
    allowed_roles = ADMIN_ROLES

    @extend_schema(
        operation_id="contacts_export",
        parameters=[USER_ID],
        responses={200: OpenApiTypes.OBJECT, **ERRORS},
        description="Everything held about the person, one section per place it lives (the "
        "same places erasure empties): the contact and the anonymous visitors merged into it, "
        "visitor ids, surveys shown (with their URLs) and decided, e-mail invitations, "
        "responses with answers, segments and topics, feedback, cases with notes, events, "
        "webhook deliveries.",
    )
    def get(self, request, user_id: str):
        contact = contact_get(project=request.access.project, user_id=user_id)
        return Response(contact_export(contact=contact))

    @extend_schema(
        parameters=[USER_ID],
        request=ContactInputSerializer,
        responses={200: ContactOutputSerializer, 201: ContactOutputSerializer, **ERRORS},
    )
    def put(self, request, user_id: str):
        data = ContactInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        contact, created = contact_upsert(
            project=request.access.project, user_id=user_id, data=ContactIn(**data.validated_data)
        )
        return Response(
            ContactOutputSerializer(contact).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )

    @extend_schema(
        operation_id="contacts_erase",
        parameters=[USER_ID],
        responses={204: None, **ERRORS},
        description="Erase the person: every trace removed, answers kept as anonymous counts.",
    )
    def delete(self, request, user_id: str):
        contact = contact_get(project=request.access.project, user_id=user_id)
        contact_erase(contact=contact, actor=_actor(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


def _actor(request):
    return request.user if getattr(request.user, "is_authenticated", False) else None


class VisitorApi(APIView):
    allowed_roles = ADMIN_ROLES

    @extend_schema(
        operation_id="visitors_erase",
        parameters=[VISITOR_ID],
        responses={204: None, **ERRORS},
        description="Erase a person known by an anonymous visitor id (or, if they signed in "
        "since, the person it was merged into), the same way as DELETE /contacts/{user_id}.",
    )
    def delete(self, request, visitor_id: str):
        contact = contact_for_visitor(project=request.access.project, visitor_id=visitor_id)
        contact_erase(contact=contact, actor=_actor(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class ContactImportApi(APIView):
    allowed_roles = ADMIN_ROLES
    parser_classes = [parsers.MultiPartParser]

    @extend_schema(
        operation_id="contacts_import",
        request=OpenApiRequest(
            {
                "multipart/form-data": {
                    "type": "object",
                    "properties": {"file": {"type": "string", "format": "binary"}},
                    "required": ["file"],
                }
            }
        ),
        responses={200: ImportResultSerializer, **ERRORS},
    )
    def post(self, request):
        upload = request.FILES.get("file")
        if upload is None:
            raise serializers.ValidationError({"file": [gettext("Upload a CSV file as `file`.")]})
        result = contacts_import_csv(project=request.access.project, content=upload.read())
        return Response(result)
