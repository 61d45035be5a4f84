from django.apps import AppConfig


class MetricsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "metrics"

    def ready(self) -> None:
        from metrics.personal_data import METRICS_PERSONAL_DATA
        from metrics.rollups.tasks import rollups_rebuild_later
        from surveys.contacts.personal_data import personal_data_check, personal_data_register
        from surveys.tenancy.project_settings import project_setting_change_register

        for entry in METRICS_PERSONAL_DATA:
            personal_data_register(entry)
        # Rollup days are the project's local days: a new timezone recounts them.
        project_setting_change_register("timezone", rollups_rebuild_later)
        # The last app up checks that every place known to hold personal data is covered.
        personal_data_check(PERSONAL_DATA_PLACES)


PERSONAL_DATA_PLACES = (
    "contact",
    "visitor_ids",
    "surveys_shown",
    "survey_decisions",
    "email_invitations",
    "lifecycle_history",
    "responses",
    "feedback",
    "cases",
    "events",
    "webhook_deliveries",
    "processing_failures",
    "segments",
)
