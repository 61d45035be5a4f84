from django.apps import AppConfig


class VocsiteConfig(AppConfig):
    """The project package as an app: shared templates tags, management commands, scheduler."""

    name = "vocsite"

    def ready(self) -> None:
        from django.conf import settings
        from django.contrib.auth.signals import user_logged_in

        from vocsite import schema  # noqa: F401  (registers the OpenAPI auth extensions)
        from vocsite.staff import staff_login_landing

        # A login starts in the project the user chose last (their own preference).
        user_logged_in.connect(staff_login_landing, dispatch_uid="vocsite.staff_login_landing")

        if settings.VOCSITE_EMBEDDED_SCHEDULER:
            from vocsite import scheduler

            scheduler.start_if_serving()
