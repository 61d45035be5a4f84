"""`manage.py replay_quarantined [--project ID]`: run every processing step of the
quarantined answers and Feedback-tab messages again (feedback.answering.pipeline), once the cause of
their failure is fixed. Those that pass are processed; the others stay quarantined with the
new reason (Django admin → Processing failures)."""

from django.core.management.base import BaseCommand, CommandError

from feedback.answering.pipeline import processing_replay_quarantined
from surveys.tenancy.models import Project


class Command(BaseCommand):
    help = "Run the processing of quarantined answers and messages again (all projects, or one)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--project", type=int, default=None)

    def handle(self, *args, project: int | None, **options) -> None:
        target = None
        if project is not None:
            target = Project.objects.filter(pk=project).first()
            if target is None:
                raise CommandError(f"No project {project}.")
        result = processing_replay_quarantined(project=target)
        self.stdout.write(
            f"Replayed {result.replayed}: {result.processed} processed, "
            f"{result.still_quarantined} still quarantined."
        )
