"""`manage.py seed_demo`: the demo project (idempotent) and its staff logins."""

import time

from django.core.management.base import BaseCommand

from surveys.demo import DEMO_PASSWORD, DEMO_USERS, demo_seed


class Command(BaseCommand):
    help = "Create the demo project with 90 days of history (once) and the demo staff users."

    def handle(self, *args, **options) -> None:
        started = time.monotonic()
        info = demo_seed()
        verb = "Created" if info.created else "Found"
        self.stdout.write(
            f"{verb} demo project '{info.project.name}' (public key {info.project.public_key}) "
            f"with {info.responses} responses in {time.monotonic() - started:.1f}s."
        )
        logins = ", ".join(f"{name}/{DEMO_PASSWORD} ({role})" for name, role in DEMO_USERS)
        self.stdout.write(f"Staff logins: {logins}")
