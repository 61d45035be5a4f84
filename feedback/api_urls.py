"""Cases, responses and webhooks API routes (mounted under /api/v1/)."""

from django.urls import path

from feedback.cases import api
from feedback.webhooks import api as webhooks_api

urlpatterns = [
    path("cases", api.CaseListApi.as_view(), name="api-cases"),
    path("cases/stats", api.CaseStatsApi.as_view(), name="api-case-stats"),
    path("cases/<int:case_id>", api.CaseDetailApi.as_view(), name="api-case"),
    path("webhooks", webhooks_api.WebhookListCreateApi.as_view(), name="api-webhooks"),
    path("webhooks/<int:webhook_id>", webhooks_api.WebhookDetailApi.as_view(), name="api-webhook"),
    path(
        "webhooks/<int:webhook_id>/deliveries",
        webhooks_api.WebhookDeliveriesApi.as_view(),
        name="api-webhook-deliveries",
    ),
    path(
        "webhooks/<int:webhook_id>/rotate-secret",
        webhooks_api.WebhookRotateSecretApi.as_view(),
        name="api-webhook-rotate-secret",
    ),
    path(
        "webhooks/<int:webhook_id>/test",
        webhooks_api.WebhookTestApi.as_view(),
        name="api-webhook-test",
    ),
    path(
        "webhooks/deliveries/<uuid:delivery_id>",
        webhooks_api.WebhookDeliveryDetailApi.as_view(),
        name="api-webhook-delivery",
    ),
    path(
        "webhooks/deliveries/<uuid:delivery_id>/replay",
        webhooks_api.WebhookReplayApi.as_view(),
        name="api-webhook-replay",
    ),
]
