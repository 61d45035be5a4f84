from django.apps import AppConfig


class VocsiteConfig(AppConfig):
    """The project package as an app: shared templates tags, management commands, scheduler."""

    name = "vocsite"

    def ready(self) -> None:
        from django.conf import settings

        # Its Celery signal handler (task failures) connects on import, in workers too.
        from vocsite import prometheus  # noqa: F401

        if settings.VOCSITE_EMBEDDED_SCHEDULER:
            from vocsite import scheduler

            scheduler.start_if_serving()
