"""`manage.py seed_demo`: the demo project (idempotent) and its staff logins.

Refused (non-zero exit) under settings that do not allow the demo, production first of all:
the demo's staff logins have a known password (metrics.demo.seed.demo_allowed)."""

import time

from django.core.management.base import BaseCommand, CommandError

from metrics.demo.seed import DEMO_PASSWORD, DEMO_USERS, demo_seed
from vocsite.errors import ApplicationError


class Command(BaseCommand):
    help = "Create the demo project with 90 days of history (once) and the demo staff users."

    def handle(self, *args, **options) -> None:
        started = time.monotonic()
        try:
            info = demo_seed()
        except ApplicationError as error:
            raise CommandError(error.message) from error
        verb = "Created" if info.created else "Found"
        self.stdout.write(
            f"{verb} demo project '{info.project.name}' (public key {info.project.public_key}) "
            f"with {info.responses} responses in {time.monotonic() - started:.1f}s."
        )
        logins = ", ".join(f"{name}/{DEMO_PASSWORD} ({role})" for name, role in DEMO_USERS)
        self.stdout.write(f"Staff logins: {logins}")
