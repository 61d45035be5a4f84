from django.apps import AppConfig


class SurveysConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "surveys"

    def ready(self) -> None:
        # Register the app's Celery tasks in every process (web included), so they can be
        # enqueued by name; the worker would find them by autodiscovery anyway.
        from surveys import tasks  # noqa: F401
