"""Embedded default (`make run`): SQLite, tasks run in-process after commit, and periodic jobs.

No fixed secret key: unless DJANGO_SECRET_KEY is set, the first run makes a random one and keeps
it in var/secret_key (readable by its owner only), so sessions and signed links (survey and
unsubscribe links in e-mails) survive restarts without a key anybody else knows.
"""

import os
import secrets
import time
from pathlib import Path

from .base import *  # noqa: F403
from .base import VAR_DIR, env


def local_secret_key(path: Path) -> str:
    """The key kept in `path`, made (random, mode 0600) by the first process that needs it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        if path.stat().st_mode & 0o077:
            path.chmod(0o600)  # a key file others can read is not a secret
        for _ in range(50):  # another process may be writing it this instant
            key = path.read_text().strip()
            if key:
                return key
            time.sleep(0.02)
        raise RuntimeError(f"{path} is empty: delete it to have a new secret key made.") from None
    key = secrets.token_urlsafe(64)
    with os.fdopen(fd, "w") as file:
        file.write(key + "\n")
    return key


DEBUG = env.bool("DJANGO_DEBUG", default=True)
SECRET_KEY = env("DJANGO_SECRET_KEY", default="") or local_secret_key(VAR_DIR / "secret_key")
CELERY_TASK_ALWAYS_EAGER = True
VOCSITE_EMBEDDED_SCHEDULER = env.bool("VOCSITE_EMBEDDED_SCHEDULER", default=True)
EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
# Serve static files straight from the source folders (no collectstatic needed).
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
# `manage.py seed_demo` may create the demo project and its staff logins (known passwords).
VOCSITE_DEMO_ALLOWED = True
