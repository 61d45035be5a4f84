"""The hosted survey page behind e-mail links and survey links, and unsubscribe (no login:
signed or unguessable tokens)."""

from django.urls import path

from feedback.answering import hosted_views as views
from feedback.answering import link_views

urlpatterns = [
    path("s/<str:token>/", views.hosted_survey, name="hosted-survey"),
    path("l/<str:token>/", link_views.survey_link_page, name="survey-link-page"),
    path("u/<str:token>/", views.unsubscribe, name="unsubscribe"),
]
