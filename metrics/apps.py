from django.apps import AppConfig


class MetricsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "metrics"

    def ready(self) -> None:
        from feedback.answering.pipeline import RESPONSE_ROLLUP
        from metrics.digests import tasks as digests_tasks  # noqa: F401  (registers the task)
        from metrics.personal_data import METRICS_PERSONAL_DATA
        from metrics.rollups import services as rollups
        from metrics.rollups.tasks import rollups_rebuild_later
        from surveys.contacts.personal_data import personal_data_register
        from surveys.tenancy.project_settings import PROJECT_SETTING_CHANGED
        from vocsite.registry import registries_check

        RESPONSE_ROLLUP.register("rollup", rollups.rollup_responses)
        for entry in METRICS_PERSONAL_DATA:
            personal_data_register(entry)
        # Rollup days are the project's local days: a new timezone recounts them.
        PROJECT_SETTING_CHANGED.register("timezone", rollups_rebuild_later)
        # The last app up: every registry has each entry it declares.
        registries_check()
