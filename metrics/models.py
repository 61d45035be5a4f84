"""The metrics app's models, defined in its sub-packages and collected here for Django."""

from metrics.digests.models import DigestSubscription  # noqa: F401
from metrics.rollups.models import Rollup  # noqa: F401
