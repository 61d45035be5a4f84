"""Staff pages for topics and verbatims (mounted under /app/)."""

from django.urls import path

from feedback.topics import views

urlpatterns = [
    path("topics/", views.topics, name="topics"),
    path("topics/new/", views.topic_edit, name="topic-new"),
    path("topics/<int:topic_id>/", views.topic_edit, name="topic-edit"),
    path("topics/<int:topic_id>/delete/", views.topic_delete_view, name="topic-delete"),
    path("topics/suggestions/", views.topic_from_suggestion, name="topic-from-suggestion"),
    path("topics/retag/<int:run_id>/", views.retag_progress, name="retag-progress"),
    path("verbatims/", views.verbatims_page, name="verbatims"),
    path("verbatims/<int:answer_id>/tags/", views.verbatim_tag, name="verbatim-tag"),
]
