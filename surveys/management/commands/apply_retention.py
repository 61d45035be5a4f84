"""`manage.py apply_retention [--project ID] [--dry-run]`: delete the raw rows older than each
project's retention now (what the daily task does), printing what goes."""

from django.core.management.base import BaseCommand, CommandError

from surveys.tenancy.models import Project
from surveys.tenancy.retention import (
    RETENTION_TIME_BUDGET_SECONDS,
    RetentionRun,
    retention_apply,
    retention_preview,
)


class Command(BaseCommand):
    help = "Delete raw answers and displays older than each project's retention (or one's)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--project", type=int, default=None)
        parser.add_argument(
            "--dry-run", action="store_true", help="Print what would be deleted; delete nothing."
        )
        parser.add_argument(
            "--budget-seconds",
            type=float,
            default=RETENTION_TIME_BUDGET_SECONDS,
            help="Start no batch after this long (the rest is left for the next run).",
        )

    def handle(
        self, *args, project: int | None, dry_run: bool, budget_seconds: float, **options
    ) -> None:
        target = None
        if project is not None:
            target = Project.objects.filter(pk=project).first()
            if target is None:
                raise CommandError(f"No project {project}.")
            if not target.retention_months:
                raise CommandError(f"Project {project} has no retention: it keeps everything.")
        if dry_run:
            runs = retention_preview(project=target)
        else:
            runs = retention_apply(project=target, budget_seconds=budget_seconds)
        if not runs:
            self.stdout.write("No project has a retention.")
        for run in runs:
            self.stdout.write(self._line(run, dry_run))

    def _line(self, run: RetentionRun, dry_run: bool) -> str:
        verb = "would delete" if dry_run else "deleted"
        counts = ", ".join(f"{count} {name}" for name, count in run.deleted.items())
        line = (
            f"Project {run.project.pk} ({run.project.name}), "
            f"{run.project.retention_months} months: {verb} {counts} "
            f"from before {run.first_kept_day.isoformat()} ({run.project.timezone})."
        )
        if not run.complete:
            line += " Time budget spent: the next run carries on."
        return line
