"""Dashboards and customer pages (mounted under /app/)."""

from django.urls import path

from metrics.customers import views as customer_views
from metrics.digests import views as digest_views
from metrics.reports import journey_views, views

urlpatterns = [
    path("journey/", journey_views.journey_map, name="journey-map"),
    path("journey/stages/", journey_views.journey_stage_add, name="journey-stage-add"),
    path(
        "journey/stages/<int:stage_id>/",
        journey_views.journey_stage_edit,
        name="journey-stage-edit",
    ),
    path(
        "journey/touchpoints/", journey_views.journey_touchpoint_add, name="journey-touchpoint-add"
    ),
    path(
        "journey/touchpoints/<int:touchpoint_id>/",
        journey_views.journey_touchpoint_edit,
        name="journey-touchpoint-edit",
    ),
    path("dashboards/", views.executive, name="dashboard-executive"),
    path("dashboards/lead/", views.business_lead, name="dashboard-lead"),
    path("dashboards/frontline/", views.frontline, name="dashboard-frontline"),
    path("results/<int:survey_id>/", views.survey_results, name="survey-results"),
    path("responses/<int:response_id>/", views.response_page, name="response-detail"),
    path("contacts/<int:contact_id>/", customer_views.contact_page, name="contact-detail"),
    path("digest/", digest_views.digest_page, name="digest"),
    path("digest/preview/", digest_views.digest_preview, name="digest-preview"),
    path(
        "digest/unsubscribe/<str:token>/",
        digest_views.digest_unsubscribe_link,
        name="digest-unsubscribe",
    ),
]
