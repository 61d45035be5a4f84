"""Staff pages of the closed loop (mounted under /app/)."""

from django.urls import path

from feedback.cases import views
from feedback.webhooks import chat_views
from feedback.webhooks import views as webhook_views

urlpatterns = [
    path("inbox/", views.inbox, name="inbox"),
    path("cases/<int:case_id>/", views.case_page, name="case-detail"),
    path("cases/<int:case_id>/update/", views.case_update, name="case-update"),
    path("cases/<int:case_id>/assign/", views.case_assign_view, name="case-assign"),
    path("feedback/", views.feedback_inbox, name="feedback-inbox"),
    path("feedback/<int:feedback_id>/handled/", views.feedback_handle, name="feedback-handle"),
    path("feedback/<int:feedback_id>/case/", views.feedback_case_open_view, name="feedback-case"),
    path("root-causes/", views.root_causes, name="root-causes"),
    path("root-causes/<int:root_cause_id>/", views.root_cause_edit, name="root-cause-edit"),
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
    path("teams/<int:team_id>/chat/", chat_views.team_chat, name="team-chat"),
    path(
        "teams/<int:team_id>/chat/<int:channel_id>/",
        chat_views.chat_channel_edit,
        name="chat-channel-edit",
    ),
    path(
        "teams/<int:team_id>/chat/<int:channel_id>/toggle/",
        chat_views.chat_channel_toggle,
        name="chat-channel-toggle",
    ),
    path(
        "teams/<int:team_id>/chat/<int:channel_id>/delete/",
        chat_views.chat_channel_delete_view,
        name="chat-channel-delete",
    ),
    path(
        "teams/<int:team_id>/chat/<int:channel_id>/test/",
        chat_views.chat_channel_test,
        name="chat-channel-test",
    ),
]
