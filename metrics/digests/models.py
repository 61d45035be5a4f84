"""Weekly digest subscriptions: a staff member asks for one project's digest by e-mail."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from surveys.tenancy.models import Project
from vocsite.models import TimeStampedModel


class DigestSubscription(TimeStampedModel):
    """One member's weekly digest of one project. Deleting it is unsubscribing.

    `timezone` and `language` are the subscriber's own (chosen on the digest page; blank: the
    project's timezone, the project's default language). `last_sent_slot` is the Monday (in
    the subscriber's timezone) whose digest was last sent, so a slot is sent once
    (metrics.digests.schedule)."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="digest_subscriptions",
        db_index=False,  # the unique (user, project) constraint leads with it
    )
    timezone = models.CharField(max_length=64, blank=True, default="")
    language = models.CharField(max_length=16, blank=True, default="")
    last_sent_slot = models.DateField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "project"], name="digest_subscription_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user} ← {self.project}"
