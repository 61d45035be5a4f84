"""Widget API routes of answering: responses and Feedback-tab messages (mounted under
/api/widget/v1/ beside `surveys.widget_urls`)."""

from django.urls import path

from feedback.answering import widget_api, widget_fast

urlpatterns = [
    path("responses", widget_fast.response_route, name="widget-responses"),
    path("feedback", widget_api.FeedbackSubmitApi.as_view(), name="widget-feedback"),
]
