"""Widget API routes of answering: responses and Feedback-tab messages (mounted under
/api/widget/v1/ beside `surveys.widget_urls`)."""

from django.urls import path

from feedback.answering import widget_api

urlpatterns = [
    path("responses", widget_api.response_submit_view, name="widget-responses"),
    path("feedback", widget_api.feedback_submit_view, name="widget-feedback"),
]
