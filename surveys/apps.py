from django.apps import AppConfig


class SurveysConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "surveys"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from surveys.contacts.personal_data import personal_data_register
        from surveys.contacts.services import SURVEYS_PERSONAL_DATA
        from surveys.delivery import tasks  # noqa: F401  (registers the Celery tasks by name)
        from surveys.delivery.personal_data import DELIVERY_PERSONAL_DATA
        from surveys.delivery.retention import DELIVERY_RETAINED_ROWS
        from surveys.tenancy import schema  # noqa: F401  (the API's auth in the OpenAPI schema)
        from surveys.tenancy import tasks as tenancy_tasks  # noqa: F401  (registers the tasks)
        from surveys.tenancy.retention import retained_rows_register
        from surveys.tenancy.staff import staff_login_landing

        for entry in (*SURVEYS_PERSONAL_DATA, *DELIVERY_PERSONAL_DATA):
            personal_data_register(entry)
        for entry in DELIVERY_RETAINED_ROWS:
            retained_rows_register(entry)
        # A login starts in the project the user chose last (their own preference).
        user_logged_in.connect(staff_login_landing, dispatch_uid="vocsite.staff_login_landing")
