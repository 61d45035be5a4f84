"""Dashboards and customer pages (mounted under /app/)."""

from django.urls import path

from metrics.customers import views as customer_views
from metrics.reports import journey_views, views

urlpatterns = [
    path("journey/", journey_views.journey_map, name="journey-map"),
    path("dashboards/", views.executive, name="dashboard-executive"),
    path("dashboards/lead/", views.business_lead, name="dashboard-lead"),
    path("dashboards/frontline/", views.frontline, name="dashboard-frontline"),
    path("contacts/<int:contact_id>/", customer_views.contact_page, name="contact-detail"),
]
