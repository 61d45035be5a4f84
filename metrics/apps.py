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
        # Rollup days are the project's local days and split by its breakdown attributes: a
        # new timezone or list of attributes recounts them (an answer's values are those it
        # was given: a link's hidden fields, the widget's attributes that were breakdowns).
        PROJECT_SETTING_CHANGED.register("timezone", rollups_rebuild_later)
        PROJECT_SETTING_CHANGED.register("breakdown_attributes", rollups_rebuild_later)
        # The last app up: every registry has each entry it declares.
        registries_check()
