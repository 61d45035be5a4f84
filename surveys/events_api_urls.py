"""Operational events API routes (mounted under /api/v1/)."""

from django.urls import path

from surveys.delivery import events_api

urlpatterns = [path("events", events_api.EventApi.as_view(), name="api-events")]
