"""Dashboards (mounted under /app/)."""

from django.urls import path

from metrics import views

urlpatterns = [
    path("dashboards/", views.executive, name="dashboard-executive"),
    path("dashboards/lead/", views.business_lead, name="dashboard-lead"),
    path("dashboards/frontline/", views.frontline, name="dashboard-frontline"),
]
