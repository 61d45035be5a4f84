"""Celery tasks of the feedback app (autodiscovered as `feedback.tasks`).

`pipeline` processes finished responses (rollups, then the hooks); `cases` runs SLA checks,
notifications and webhook deliveries; `topics` retags history after a rule change.
"""

from feedback.tasks.cases import *  # noqa: F403
from feedback.tasks.pipeline import *  # noqa: F403
from feedback.tasks.topics import *  # noqa: F403
