"""Staff pages of the surveys app (mounted under /app/)."""

from django.urls import path

from surveys import views

urlpatterns = [
    path("journey/", views.journey_map, name="journey-map"),
    path("surveys/", views.survey_list, name="survey-list"),
    path("surveys/new/", views.survey_new, name="survey-new"),
    path("surveys/<int:survey_id>/", views.survey_edit, name="survey-edit"),
    path(
        "surveys/<int:survey_id>/<str:action>/",
        views.survey_action,
        name="survey-action",
    ),
]
