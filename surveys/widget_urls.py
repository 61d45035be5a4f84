"""Widget API routes (mounted under /api/widget/v1/ by vocsite.urls)."""

from django.urls import path

from surveys import widget_api, widget_fast

urlpatterns = [
    path("config", widget_api.ConfigApi.as_view(), name="widget-config"),
    path("decide", widget_fast.decide_route, name="widget-decide"),
    path(
        "displays/<uuid:display_id>/shown",
        widget_api.DisplayShownApi.as_view(),
        name="widget-display-shown",
    ),
    path(
        "displays/<uuid:display_id>/dismissed",
        widget_api.DisplayDismissedApi.as_view(),
        name="widget-display-dismissed",
    ),
    path("responses", widget_fast.response_route, name="widget-responses"),
    path("feedback", widget_api.FeedbackSubmitApi.as_view(), name="widget-feedback"),
    path("opt-out", widget_api.OptOutApi.as_view(), name="widget-opt-out"),
]
