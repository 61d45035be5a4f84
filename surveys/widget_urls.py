"""Widget API routes of delivery: config, decide, displays, opt-out (mounted under /api/widget/v1/;
answers and Feedback-tab messages are in `feedback.widget_urls`)."""

from django.urls import path

from surveys.delivery import widget_api

urlpatterns = [
    path("config", widget_api.config, name="widget-config"),
    path("decide", widget_api.decide, name="widget-decide"),
    path(
        "displays/<uuid:display_id>/shown",
        widget_api.display_shown,
        name="widget-display-shown",
    ),
    path(
        "displays/<uuid:display_id>/dismissed",
        widget_api.display_dismissed,
        name="widget-display-dismissed",
    ),
    path("opt-out", widget_api.opt_out, name="widget-opt-out"),
]
