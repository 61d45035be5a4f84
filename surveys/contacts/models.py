"""Contacts, their visitor ids, lifecycle history and operational events (DESIGN.md §4)."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from surveys.tenancy.models import Project
from vocsite.models import TimeStampedModel


class LifecycleStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    CHURNED = "churned", _("Churned")


class Contact(TimeStampedModel):
    """The customer: identified by the host app's `user_id`, or anonymous until identified."""

    project = models.ForeignKey(
        Project, on_delete=models.CASCADE, related_name="contacts", db_index=False
    )
    user_id = models.CharField(max_length=200, null=True, blank=True)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=40, blank=True)
    attributes = models.JSONField(default=dict, blank=True)
    language = models.CharField(max_length=16, blank=True)
    opted_out_at = models.DateTimeField(null=True, blank=True)
    lifecycle = models.CharField(
        max_length=16, choices=LifecycleStatus.choices, default=LifecycleStatus.ACTIVE
    )
    churned_at = models.DateTimeField(null=True, blank=True)
    revenue_total = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    last_seen_at = models.DateTimeField(null=True, blank=True)
    # The latest NPS answer, kept by the pipeline so experience-vs-outcome reports read the
    # contacts table instead of scanning answers.
    last_nps = models.SmallIntegerField(null=True, blank=True)
    last_nps_at = models.DateTimeField(null=True, blank=True)
    erased_at = models.DateTimeField(null=True, blank=True)
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="merged_from"
    )
    # Displays ever claimed for this contact: decide claims only if it is still the number
    # it read with the ledger (compare-and-set, see surveys.delivery.ledger.display_claim).
    claim_count = models.PositiveIntegerField(default=0, db_default=0, editable=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["project", "user_id"],
                condition=Q(user_id__isnull=False),
                name="contact_user_id_unique",
            ),
            models.CheckConstraint(
                condition=Q(last_nps__isnull=True) | Q(last_nps__gte=0, last_nps__lte=10),
                name="contact_last_nps_range",
            ),
        ]
        indexes = [
            models.Index(fields=["project", "email"], name="contact_project_email"),
            models.Index(fields=["project", "lifecycle"], name="contact_project_lifecycle"),
        ]

    def __str__(self) -> str:
        return self.user_id or f"anonymous #{self.pk}"


class LifecycleKind(models.TextChoices):
    STARTED = "started", _("Started")
    CHURNED = "churned", _("Churned")
    REACTIVATED = "reactivated", _("Reactivated")


class LifecycleChange(TimeStampedModel):
    """One step of a customer's lifecycle, at the time its operational event happened: the
    history churn is counted from (surveys.contacts.lifecycle has the rule, surveys.delivery.events keeps the
    rows; metrics.churn.services reads them). The contact's `lifecycle`/`churned_at` are the latest
    step. `ended_at` is the next step's time (null: the current state), so "active at a moment"
    is one range test per row."""

    created_at = models.DateTimeField(default=timezone.now)  # never queried: no index to write
    project = models.ForeignKey(
        Project, on_delete=models.CASCADE, related_name="lifecycle_changes", db_index=False
    )
    contact = models.ForeignKey(
        Contact, on_delete=models.CASCADE, related_name="lifecycle_changes", db_index=False
    )
    kind = models.CharField(max_length=16, choices=LifecycleKind.choices)
    occurred_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    # The event that made the change (null once that event is deleted).
    event = models.ForeignKey(
        "surveys.OperationalEvent",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="lifecycle_changes",
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=["started", "churned", "reactivated"]),
                name="lifecycle_change_kind",
            ),
            models.CheckConstraint(
                condition=Q(ended_at__isnull=True) | Q(ended_at__gte=models.F("occurred_at")),
                name="lifecycle_change_ends_after_it_starts",
            ),
        ]
        indexes = [
            # churn and CLV per period: a project's changes by time
            models.Index(fields=["project", "occurred_at"], name="lifecycle_project_time"),
            # a late event rewrites one contact's history from its time on
            models.Index(fields=["contact", "occurred_at"], name="lifecycle_contact_time"),
        ]

    def __str__(self) -> str:
        return f"{self.contact} {self.kind} @ {self.occurred_at:%Y-%m-%d}"


class VisitorId(TimeStampedModel):
    """An anonymous browser id; points at the contact it belongs to (merged on identify)."""

    project = models.ForeignKey(
        Project, on_delete=models.CASCADE, related_name="visitor_ids", db_index=False
    )
    visitor_id = models.CharField(max_length=100)
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="visitor_ids")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "visitor_id"], name="visitor_id_unique"),
        ]

    def __str__(self) -> str:
        return self.visitor_id


class OperationalEvent(TimeStampedModel):
    """O-data from the company's servers (orders, tickets, cancellations, revenue)."""

    project = models.ForeignKey(
        Project,
        on_delete=models.CASCADE,
        related_name="operational_events",
        db_index=False,
    )
    contact = models.ForeignKey(
        Contact,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="events",
        db_index=False,
    )
    event_id = models.CharField(max_length=100, blank=True, help_text="Idempotency key.")
    event = models.CharField(max_length=100)
    occurred_at = models.DateTimeField()
    properties = models.JSONField(default=dict, blank=True)
    revenue = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)

    class Meta:
        # Defined in the feedback app until teams/events moved here; the table kept its name.
        db_table = "feedback_operationalevent"
        constraints = [
            models.UniqueConstraint(
                fields=["project", "event_id"],
                condition=~Q(event_id=""),
                name="operational_event_id_unique",
            ),
        ]
        indexes = [
            models.Index(fields=["project", "event", "occurred_at"], name="opevent_kind_time"),
            models.Index(fields=["contact", "occurred_at"], name="opevent_contact_time"),
        ]

    def __str__(self) -> str:
        return f"{self.event} @ {self.occurred_at:%Y-%m-%d}"
