"""Test settings: SQLite unless DATABASE_URL points at PostgreSQL (the integration run)."""

import os
import tempfile

from .base import *  # noqa: F403
from .base import env

DEBUG = False
SECRET_KEY = "test-only-key"  # noqa: S105
# Tests seed the demo project (metrics.demo.seed); production never may.
VOCSITE_DEMO_ALLOWED = True
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=True)
VOCSITE_EMBEDDED_SCHEDULER = False
WIDGET_RATE_LIMIT_PER_IP = env.int("WIDGET_RATE_LIMIT_PER_IP", default=100000)
WIDGET_RATE_LIMIT_PER_VISITOR = env.int("WIDGET_RATE_LIMIT_PER_VISITOR", default=100000)
# Exact shared counting; the synced mode is tested on its own (tests/test_rate_limit.py).
RATE_LIMIT_SYNC_SECONDS = 0
# Tests change project settings between widget calls and expect them at once.
WIDGET_PROJECT_CACHE_SECONDS = 0
# Each decide's Decision row is found at once (batching is measured by `make bench`).
DECISION_FLUSH_SECONDS = 0
RESPONSE_PUBLISH_BATCH_SECONDS = 0
# Serve static files straight from the source folders (no collectstatic needed).
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
WIDGET_ORIGIN_FLUSH_SECONDS = 0
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":  # noqa: F405
    # A statement badly planned or waiting on a lock fails its own test within a minute instead
    # of running on server-side after the test's timeout and blocking every test after it.
    DATABASES["default"]["OPTIONS"]["options"] = "-c statement_timeout=60s -c lock_timeout=60s"  # noqa: F405
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    # A file, as in the embedded mode, not Django's shared-cache memory database: there, two
    # live-server requests writing at once fail at once with "database table is locked"
    # (shared-cache table locks ignore the busy timeout); a file waits its turn.
    # One per run (its process), so runs side by side never share one; removed at the end.
    DATABASES["default"]["TEST"] = {  # noqa: F405
        "NAME": os.path.join(tempfile.gettempdir(), f"vocsite-test-{os.getpid()}.sqlite3")
    }
