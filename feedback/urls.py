"""Staff pages of the closed loop (mounted under /app/)."""

from django.urls import path

from feedback.cases import views
from feedback.webhooks import views as webhook_views

urlpatterns = [
    path("inbox/", views.inbox, name="inbox"),
    path("cases/<int:case_id>/", views.case_page, name="case-detail"),
    path("cases/<int:case_id>/update/", views.case_update, name="case-update"),
    path("cases/<int:case_id>/assign/", views.case_assign_view, name="case-assign"),
    path("alert-rules/", views.alert_rules, name="alert-rules"),
    path("alert-rules/new/", views.alert_rule_edit, name="alert-rule-new"),
    path("alert-rules/<int:rule_id>/", views.alert_rule_edit, name="alert-rule-edit"),
    path("webhooks/", webhook_views.webhooks, name="webhooks"),
    path("webhooks/<int:webhook_id>/", webhook_views.webhook_edit, name="webhook-edit"),
    path("webhooks/<int:webhook_id>/toggle/", webhook_views.webhook_toggle, name="webhook-toggle"),
    path(
        "webhooks/<int:webhook_id>/delete/",
        webhook_views.webhook_delete_view,
        name="webhook-delete",
    ),
    path(
        "webhooks/<int:webhook_id>/rotate-secret/",
        webhook_views.webhook_rotate_view,
        name="webhook-rotate",
    ),
    path("webhooks/<int:webhook_id>/test/", webhook_views.webhook_test_view, name="webhook-test"),
    path(
        "webhooks/deliveries/<uuid:delivery_id>/",
        webhook_views.webhook_delivery,
        name="webhook-delivery",
    ),
    path(
        "webhooks/deliveries/<uuid:delivery_id>/replay/",
        webhook_views.webhook_replay_view,
        name="webhook-replay",
    ),
]
