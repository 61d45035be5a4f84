"""The hosted survey page behind e-mail links, and unsubscribe (no login, signed tokens)."""

from django.urls import path

from feedback.answering import hosted_views as views

urlpatterns = [
    path("s/<str:token>/", views.hosted_survey, name="hosted-survey"),
    path("u/<str:token>/", views.unsubscribe, name="unsubscribe"),
]
