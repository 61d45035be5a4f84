"""Django's `makemessages` with this project's defaults, so `make messages` and the catalogue
test (tests/test_translations.py) collect exactly the same texts: the apps and templates/, not
the tests, the front-end packages or the collected static files; no source locations (they
would change the catalogue on every edit)."""

from django.core.management.commands import makemessages

PROJECT_IGNORE = ["node_modules/*", "static/*", "staticfiles/*", "tests/*", "var/*", "bench/*"]


class Command(makemessages.Command):
    def handle(self, *args, **options):
        options["ignore_patterns"] = [*options.get("ignore_patterns", []), *PROJECT_IGNORE]
        options["no_location"] = True
        return super().handle(*args, **options)
