"""Shared model bits that belong to no domain."""

from django.db import models
from django.utils import timezone


class TimeStampedModel(models.Model):
    """Every row knows when it was made and last changed."""

    # A default rather than auto_now_add so imports and the demo seed can backfill history.
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True
