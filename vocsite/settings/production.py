"""Full mode: PostgreSQL, Redis broker and cache, gunicorn, Celery worker and beat.

Refuses to start without a real secret key or with eager (in-process) tasks.
"""

from django.core.exceptions import ImproperlyConfigured

from vocsite.logs import json_logging

from .base import *  # noqa: F403
from .base import CELERY_BROKER_URL, CELERY_TASK_ALWAYS_EAGER, DATABASES, SECRET_KEY, env

DEBUG = False
if not SECRET_KEY or len(SECRET_KEY) < 50:
    raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set (50+ characters) in production.")
if CELERY_TASK_ALWAYS_EAGER or not CELERY_BROKER_URL:
    raise ImproperlyConfigured("Production needs a Celery broker (REDIS_URL) and no eager tasks.")
if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
    raise ImproperlyConfigured("Production runs on PostgreSQL: set DATABASE_URL=postgres://...")

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
# Probes and the scraper call the process itself over plain HTTP (a load balancer's health
# check carries no X-Forwarded-Proto): answered, not redirected to https.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
SESSION_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", default=True)
CSRF_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", default=True)
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
# `manage.py seed_demo` refuses: the demo's staff logins have a known password.
VOCSITE_DEMO_ALLOWED = False
# Webhooks may not target the service's own network unless the operator says so.
WEBHOOK_ALLOW_PRIVATE_TARGETS = env.bool("WEBHOOK_ALLOW_PRIVATE_TARGETS", default=False)
# One JSON object per log line, with the request id (vocsite.logs); Celery's log files too.
VOCSITE_JSON_LOGS = True
LOGGING = json_logging(env("LOG_LEVEL", default="INFO"))
