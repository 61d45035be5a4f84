"""Widget API routes of delivery: config, decide, displays, opt-out (mounted under /api/widget/v1/;
answers and Feedback-tab messages are in `feedback.widget_urls`)."""

from django.urls import path

from surveys.delivery import widget_api, widget_fast

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
    path("opt-out", widget_api.OptOutApi.as_view(), name="widget-opt-out"),
]
