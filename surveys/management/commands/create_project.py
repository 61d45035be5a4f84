"""`manage.py create_project NAME [--origin URL]… [--language CODE]…` → one JSON line with keys."""

import json

from django.core.management.base import BaseCommand, CommandError

from surveys.tenancy.services import project_create
from vocsite.errors import ApplicationError


class Command(BaseCommand):
    help = "Create a project and print its id, public key, secret key (once) and identity secret as JSON."

    def add_arguments(self, parser) -> None:
        parser.add_argument("name")
        parser.add_argument("--origin", action="append", default=[], dest="origins")
        parser.add_argument("--language", action="append", default=[], dest="languages")

    def handle(self, *args, name: str, origins: list[str], languages: list[str], **options) -> None:
        from django.core.exceptions import ValidationError

        try:
            project, key = project_create(
                name=name, allowed_origins=origins, languages=languages or ["en"]
            )
        except (ValidationError, ApplicationError) as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            json.dumps(
                {
                    "project_id": project.pk,
                    "public_key": project.public_key,
                    "secret_key": key.raw,
                    "identity_secret": project.identity_secret,
                }
            )
        )
