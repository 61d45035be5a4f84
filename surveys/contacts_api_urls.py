"""Contacts API routes (mounted under /api/v1/)."""

from django.urls import path

from surveys.contacts import api

urlpatterns = [
    path("contacts/import", api.ContactImportApi.as_view(), name="api-contacts-import"),
    path("contacts/<str:user_id>", api.ContactApi.as_view(), name="api-contact"),
    path("visitors/<str:visitor_id>", api.VisitorApi.as_view(), name="api-visitor"),
]
