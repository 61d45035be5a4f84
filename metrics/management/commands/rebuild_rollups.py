"""`manage.py rebuild_rollups [--project ID]`: recompute every histogram from raw answers."""

import time

from django.core.management.base import BaseCommand, CommandError

from metrics.rollups.services import rollups_rebuild
from surveys.tenancy.models import Project


class Command(BaseCommand):
    help = "Recompute the rollup histograms from raw answers (all projects, or one)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--project", type=int, default=None)

    def handle(self, *args, project: int | None, **options) -> None:
        target = None
        if project is not None:
            target = Project.objects.filter(pk=project).first()
            if target is None:
                raise CommandError(f"No project {project}.")
        started = time.monotonic()
        cells = rollups_rebuild(project=target)
        self.stdout.write(f"Rebuilt {cells} rollup cells in {time.monotonic() - started:.1f}s.")
