from django.apps import AppConfig


class SurveysConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "surveys"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        # Registers the app's Celery tasks in every process (web included), so they can be
        # enqueued by name, and the OpenAPI descriptions of the API's authentication.
        from surveys.contacts.personal_data import personal_data_register
        from surveys.contacts.services import SURVEYS_PERSONAL_DATA
        from surveys.delivery import tasks  # noqa: F401
        from surveys.tenancy import schema  # noqa: F401
        from surveys.tenancy.staff import staff_login_landing

        for entry in SURVEYS_PERSONAL_DATA:
            personal_data_register(entry)
        # A login starts in the project the user chose last (their own preference).
        user_logged_in.connect(staff_login_landing, dispatch_uid="vocsite.staff_login_landing")
