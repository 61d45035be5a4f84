"""Shared model bits that belong to no domain."""

from django.db import models


class TimeStampedModel(models.Model):
    """Every row knows when it was made and last changed."""

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True
