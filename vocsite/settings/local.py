"""Embedded default (`make run`): SQLite, tasks run in-process after commit, and periodic jobs."""

from .base import *  # noqa: F403
from .base import env

DEBUG = env.bool("DJANGO_DEBUG", default=True)
SECRET_KEY = env("DJANGO_SECRET_KEY", default="local-only-insecure-key-not-for-production")
CELERY_TASK_ALWAYS_EAGER = True
VOCSITE_EMBEDDED_SCHEDULER = env.bool("VOCSITE_EMBEDDED_SCHEDULER", default=True)
EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
# Serve static files straight from the source folders (no collectstatic needed).
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
