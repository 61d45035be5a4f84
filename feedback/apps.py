from django.apps import AppConfig


class FeedbackConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "feedback"

    def ready(self) -> None:
        # Register the app's Celery tasks in every process (web included), so they can be
        # enqueued by name; the worker would find them by autodiscovery anyway.
        from feedback import tasks  # noqa: F401
        from feedback.personal_data import FEEDBACK_PERSONAL_DATA
        from surveys.personal_data import personal_data_register

        for entry in FEEDBACK_PERSONAL_DATA:
            personal_data_register(entry)
