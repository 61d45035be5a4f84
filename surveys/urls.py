"""Staff pages of the surveys app (mounted under /app/)."""

from django.urls import path

from surveys import views

urlpatterns = [
    path("journey/", views.journey_map, name="journey-map"),
]
