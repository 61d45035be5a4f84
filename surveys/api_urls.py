"""Management API routes of the surveys app (mounted under /api/v1/)."""

from django.urls import path

from surveys.delivery import links_api
from surveys.design import api
from surveys.journey import api as journey_api

urlpatterns = [
    path("touchpoints", journey_api.TouchpointListCreateApi.as_view(), name="api-touchpoints"),
    path(
        "touchpoints/<int:touchpoint_id>",
        journey_api.TouchpointDetailApi.as_view(),
        name="api-touchpoint",
    ),
    path("stages", journey_api.StageListCreateApi.as_view(), name="api-stages"),
    path("stages/<int:stage_id>", journey_api.StageDetailApi.as_view(), name="api-stage"),
    path("surveys", api.SurveyListCreateApi.as_view(), name="api-surveys"),
    path("surveys/<int:survey_id>", api.SurveyDetailApi.as_view(), name="api-survey"),
    path(
        "surveys/<int:survey_id>/publish", api.SurveyPublishApi.as_view(), name="api-survey-publish"
    ),
    path(
        "surveys/<int:survey_id>/pause",
        api.SurveyStatusApi.as_view(action="pause"),
        name="api-survey-pause",
    ),
    path(
        "surveys/<int:survey_id>/resume",
        api.SurveyStatusApi.as_view(action="resume"),
        name="api-survey-resume",
    ),
    path(
        "surveys/<int:survey_id>/close",
        api.SurveyStatusApi.as_view(action="close"),
        name="api-survey-close",
    ),
    path(
        "surveys/<int:survey_id>/links",
        links_api.LinkListCreateApi.as_view(),
        name="api-survey-links",
    ),
    path(
        "surveys/<int:survey_id>/links/<int:link_id>",
        links_api.LinkDetailApi.as_view(),
        name="api-survey-link",
    ),
    path(
        "surveys/<int:survey_id>/links/<int:link_id>/deactivate",
        links_api.LinkDeactivateApi.as_view(),
        name="api-survey-link-deactivate",
    ),
    path(
        "surveys/<int:survey_id>/links/<int:link_id>/qr.png",
        links_api.LinkQrPngApi.as_view(),
        name="api-survey-link-qr-png",
    ),
    path(
        "surveys/<int:survey_id>/links/<int:link_id>/qr.svg",
        links_api.LinkQrSvgApi.as_view(),
        name="api-survey-link-qr-svg",
    ),
]
