"""Contacts API (admins and secret keys; personal data), DESIGN.md §6: `PUT` upserts, `GET`
exports everything held about the person, `DELETE` erases them; `POST /api/v1/contacts/import`
takes a CSV (every row valid or nothing imported)."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiRequest, extend_schema
from rest_framework import parsers, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from surveys.api import ERRORS
from surveys.contacts import (
    ContactIn,
    contact_erase,
    contact_export,
    contact_get,
    contact_upsert,
    contacts_import_csv,
)
from surveys.models import Contact, Role

USER_ID = OpenApiParameter("user_id", OpenApiTypes.STR, OpenApiParameter.PATH)


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
    allowed_roles = (Role.ADMIN,)

    @extend_schema(
        operation_id="contacts_export",
        parameters=[USER_ID],
        responses={200: OpenApiTypes.OBJECT, **ERRORS},
        description="Everything held about the person: the contact, visitor ids, surveys "
        "shown and decided, responses with answers, feedback, cases with notes, events.",
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

    @extend_schema(parameters=[USER_ID], responses={204: None, **ERRORS})
    def delete(self, request, user_id: str):
        contact = contact_get(project=request.access.project, user_id=user_id)
        user = request.user if getattr(request.user, "is_authenticated", False) else None
        contact_erase(contact=contact, actor=user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ContactImportApi(APIView):
    allowed_roles = (Role.ADMIN,)
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
            raise serializers.ValidationError({"file": ["Upload a CSV file as `file`."]})
        result = contacts_import_csv(project=request.access.project, content=upload.read())
        return Response(result)
