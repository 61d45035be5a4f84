"""Metrics API routes (mounted under /api/v1/)."""

from django.urls import path

from metrics.reports import api, responses_api

urlpatterns = [
    path("responses", responses_api.ResponseListApi.as_view(), name="api-responses"),
    path("metrics", api.MetricsApi.as_view(), name="api-metrics"),
    path("metrics/response-rate", api.ResponseRateApi.as_view(), name="api-metrics-response-rate"),
    path("metrics/drop-off", api.DropOffApi.as_view(), name="api-metrics-drop-off"),
    path("metrics/waves", api.WavesApi.as_view(), name="api-metrics-waves"),
    path("metrics/decisions", api.DecisionsApi.as_view(), name="api-metrics-decisions"),
    path("metrics/churn", api.ChurnApi.as_view(), name="api-metrics-churn"),
]
