from django.apps import AppConfig


class FeedbackConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "feedback"

    def ready(self) -> None:
        """Plug the app into the registries of `surveys` and of its own answering pipeline
        (vocsite.registry); importing the task modules registers the tasks by name."""
        from feedback.answering import selectors as answering_selectors
        from feedback.answering import services as answering
        from feedback.answering import tasks as answering_tasks  # noqa: F401
        from feedback.answering.pipeline import FEEDBACK_STEPS, RESPONSE_STEPS
        from feedback.cases import services as cases
        from feedback.cases import tasks as cases_tasks  # noqa: F401
        from feedback.personal_data import FEEDBACK_PERSONAL_DATA
        from feedback.retention import FEEDBACK_RETAINED_ROWS
        from feedback.topics import services as topics
        from feedback.topics import tasks as topics_tasks  # noqa: F401
        from feedback.webhooks import services as webhooks
        from feedback.webhooks import tasks as webhooks_tasks  # noqa: F401
        from surveys.contacts.personal_data import personal_data_register
        from surveys.delivery.selectors import FINISHED_RESPONSE_COUNTS
        from surveys.tenancy.retention import retained_rows_register
        from surveys.tenancy.services import PROJECT_CREATED
        from vocsite.prometheus import SCRAPE_GAUGES

        RESPONSE_STEPS.register("last_nps", answering.contact_last_nps_update)
        RESPONSE_STEPS.register("topics", topics.tag_response)
        RESPONSE_STEPS.register("cases", cases.cases_open_for_response)
        RESPONSE_STEPS.register("recovery", cases.cases_recover_for_response)
        RESPONSE_STEPS.register("webhooks", webhooks.webhooks_for_response)
        FEEDBACK_STEPS.register("topics", topics.tag_feedback)
        FEEDBACK_STEPS.register("cases", cases.cases_open_for_feedback)
        FEEDBACK_STEPS.register("webhooks", webhooks.webhooks_for_feedback)
        for entry in FEEDBACK_PERSONAL_DATA:
            personal_data_register(entry)
        for entry in FEEDBACK_RETAINED_ROWS:
            retained_rows_register(entry)
        PROJECT_CREATED.register("default_alert_rules", cases.alert_rules_install_defaults)
        FINISHED_RESPONSE_COUNTS.register("responses", answering_selectors.finished_response_counts)
        SCRAPE_GAUGES.register(
            "quarantined_answers", answering_selectors.processing_quarantined_total
        )
