from django.apps import AppConfig


class FeedbackConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "feedback"

    def ready(self) -> None:
        # Register the app's Celery tasks in every process (web included), so they can be
        # enqueued by name.
        from feedback.answering import tasks as answering_tasks  # noqa: F401
        from feedback.cases import tasks as cases_tasks  # noqa: F401
        from feedback.personal_data import FEEDBACK_PERSONAL_DATA
        from feedback.topics import tasks as topics_tasks  # noqa: F401
        from surveys.contacts.personal_data import personal_data_register

        for entry in FEEDBACK_PERSONAL_DATA:
            personal_data_register(entry)
