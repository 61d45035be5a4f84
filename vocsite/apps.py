from django.apps import AppConfig


class VocsiteConfig(AppConfig):
    """The project package as an app: shared templates tags, management commands, scheduler."""

    name = "vocsite"

    def ready(self) -> None:
        from django.conf import settings

        if settings.VOCSITE_EMBEDDED_SCHEDULER:
            from vocsite import scheduler

            scheduler.start_if_serving()
