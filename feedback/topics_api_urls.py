"""Topics API routes (mounted under /api/v1/)."""

from django.urls import path

from feedback.topics import api

urlpatterns = [
    path("topics", api.TopicListCreateApi.as_view(), name="api-topics"),
    path("topics/suggestions", api.TopicSuggestionsApi.as_view(), name="api-topic-suggestions"),
    path("topics/retag-runs/<int:run_id>", api.RetagRunApi.as_view(), name="api-retag-run"),
    path("topics/<int:topic_id>", api.TopicDetailApi.as_view(), name="api-topic"),
]
