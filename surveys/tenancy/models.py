"""Tenancy: projects and their keys, members, invitations, teams, staff preferences and the
append-only audit log (DESIGN.md §4)."""

from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from vocsite.models import TimeStampedModel


def new_public_key() -> str:
    return f"pk_{secrets.token_urlsafe(18)}"


def new_identity_secret() -> str:
    return f"is_{secrets.token_urlsafe(32)}"


def hash_secret_key(raw: str) -> str:
    """Secret keys are 32 random bytes, so one SHA-256 is enough (no slow hash needed)."""
    return hashlib.sha256(raw.encode()).hexdigest()


class Channel(models.TextChoices):
    WEB = "web", _("Web")
    APP = "app", _("App")
    EMAIL = "email", _("E-mail")
    PHONE = "phone", _("Phone")
    CHAT = "chat", _("Chat")
    STORE = "store", _("Store")
    # Printed and shared survey links (surveys.delivery: SurveyLink) are counted under these
    # too, beside store and phone.
    RECEIPT = "receipt", _("Receipt")
    SOCIAL = "social", _("Social media")
    OTHER = "other", _("Other")


class Project(TimeStampedModel):
    name = models.CharField(max_length=200)
    public_key = models.CharField(max_length=64, unique=True, default=new_public_key)
    allowed_origins = models.JSONField(
        default=list, blank=True, help_text="Origins allowed to call the widget API."
    )
    languages = models.JSONField(default=list, blank=True)
    default_language = models.CharField(max_length=16, default="en")
    theme = models.JSONField(default=dict, blank=True)
    recontact_days = models.PositiveIntegerField(
        default=7, help_text="Global cooldown: no survey within this many days of the last one."
    )
    frequency_cap = models.PositiveIntegerField(default=2)
    frequency_window_days = models.PositiveIntegerField(default=30)
    breakdown_attributes = models.JSONField(default=list, blank=True)
    feedback_tab_enabled = models.BooleanField(default=True)
    feedback_tab_label = models.JSONField(default=dict, blank=True)
    timezone = models.CharField(max_length=64, default="UTC")
    is_demo = models.BooleanField(default=False)
    # Widget calls that name a user_id must prove it with user_hash = HMAC-SHA256(user_id) under
    # this secret, computed by the company's server (DESIGN.md §6).
    identity_verification = models.BooleanField(
        default=True,
        help_text="Refuse widget calls whose user_id is not signed with the identity secret.",
    )
    identity_secret = models.CharField(max_length=100, default=new_identity_secret)
    # Data retention (surveys.tenancy.retention): raw answers and displays older than this many
    # months are deleted every night; null keeps everything.
    retention_months = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(120)],
        help_text="Delete raw answers and displays older than this many months (empty: keep).",
    )
    # The first day (in the project's days) whose raw rows retention has not deleted: rollup
    # cells before it are the only record of those days, so a rebuild recounts from it on.
    raw_rows_kept_from = models.DateField(null=True, blank=True, editable=False)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(frequency_window_days__gte=1), name="project_frequency_window_positive"
            ),
            models.CheckConstraint(
                condition=Q(retention_months__isnull=True)
                | Q(retention_months__gte=1, retention_months__lte=120),
                name="project_retention_months_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class ApiKey(TimeStampedModel):
    """A secret key (sk_…): stored as a hash, shown once, several live at once, revocable."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100, default="default")
    prefix = models.CharField(max_length=16, help_text="First characters, to recognise a key.")
    key_hash = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.name})"

    @property
    def is_live(self) -> bool:
        return self.revoked_at is None


class Role(models.TextChoices):
    ADMIN = "admin", _("Admin")
    DESIGNER = "designer", _("Designer")
    AGENT = "agent", _("Agent")
    VIEWER = "viewer", _("Viewer")


class Membership(TimeStampedModel):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="memberships",
        db_index=False,
    )
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "project"], name="membership_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.project} ({self.role})"


class MemberInvitationStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    ACCEPTED = "accepted", _("Accepted")
    REVOKED = "revoked", _("Revoked")


class MemberInvitation(TimeStampedModel):
    """An admin's invitation to join a project with a role: the person becomes a member only
    when they accept it, logged in with the invited e-mail address. Not `Invitation` (that is
    an e-mail survey). The link's token is stored only as its SHA-256."""

    project = models.ForeignKey(
        Project, on_delete=models.CASCADE, related_name="member_invitations", db_index=False
    )
    email = models.EmailField(help_text="As the admin typed it, lower-cased.")
    role = models.CharField(max_length=16, choices=Role.choices)
    token_hash = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField()
    status = models.CharField(
        max_length=16,
        choices=MemberInvitationStatus.choices,
        default=MemberInvitationStatus.PENDING,
    )
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="member_invitations_sent",
    )
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="member_invitations_accepted",
    )
    accepted_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["project", "email"],
                condition=Q(status="pending"),
                name="member_invitation_one_pending",
            ),
        ]
        indexes = [
            models.Index(fields=["project", "status"], name="member_invitation_project"),
        ]

    def __str__(self) -> str:
        return f"{self.email} → {self.project} ({self.role}, {self.status})"


class StaffPreference(TimeStampedModel):
    """A staff user's own choices: the project they last chose, where their next login lands.
    Only the user changes it (the project switcher, accepting an invitation)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff_preference"
    )
    current_project = models.ForeignKey(
        Project, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    def __str__(self) -> str:
        return f"{self.user}: {self.current_project}"


class AuditLogIsAppendOnly(Exception):
    """An audit entry was about to be changed or deleted: the log only grows."""


class AuditEntryQuerySet(models.QuerySet):
    """Entries are added, never changed or removed through the ORM. Deleting their project
    still removes them (and deleting a user still empties `actor`): Django's deletion
    collector writes through the plain base manager, not this queryset."""

    def update(self, **kwargs):
        raise AuditLogIsAppendOnly("Audit entries cannot be changed.")

    def delete(self):
        raise AuditLogIsAppendOnly("Audit entries cannot be deleted.")

    def bulk_update(self, objs, fields, batch_size=None):
        raise AuditLogIsAppendOnly("Audit entries cannot be changed.")

    def update_or_create(self, defaults=None, create_defaults=None, **kwargs):
        raise AuditLogIsAppendOnly("Audit entries cannot be changed.")


class AuditEntry(models.Model):
    """Who changed what, when: surveys, rules, settings, keys and memberships (before/after).

    Append-only (issue 24): a saved entry is never saved again or deleted, from code or from
    Django's admin (surveys/admin.py grants nobody add, change or delete)."""

    project = models.ForeignKey(
        Project, on_delete=models.CASCADE, related_name="audit_entries", db_index=False
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    actor_label = models.CharField(max_length=200, blank=True, help_text="e.g. an API key prefix")
    action = models.CharField(max_length=64)
    object_type = models.CharField(max_length=64)
    object_id = models.CharField(max_length=64)
    object_repr = models.CharField(max_length=200, blank=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = AuditEntryQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["project", "-created_at"], name="audit_project_recent")]
        verbose_name_plural = "audit entries"

    def __str__(self) -> str:
        return f"{self.action} {self.object_type}#{self.object_id}"

    def save(self, *args, **kwargs) -> None:
        if not self._state.adding:
            raise AuditLogIsAppendOnly("Audit entries cannot be changed.")
        if self.actor is not None and not self.actor_label:
            # Who it was stays readable after the user is deleted (actor is then emptied).
            self.actor_label = self.actor.get_username()[:200]
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AuditLogIsAppendOnly("Audit entries cannot be deleted.")


class Team(TimeStampedModel):
    project = models.ForeignKey(
        Project, on_delete=models.CASCADE, related_name="teams", db_index=False
    )
    name = models.CharField(max_length=100)
    lead = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="led_teams",
    )
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="TeamMembership", related_name="teams", blank=True
    )
    email = models.EmailField(blank=True, help_text="Shared inbox notified of new cases.")
    round_robin_cursor = models.PositiveIntegerField(default=0)

    class Meta:
        # Defined in the feedback app until teams/events moved here; the table kept its name.
        db_table = "feedback_team"
        constraints = [
            models.UniqueConstraint(fields=["project", "name"], name="team_name_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class TeamMembership(TimeStampedModel):
    team = models.ForeignKey(
        Team, on_delete=models.CASCADE, related_name="memberships", db_index=False
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="team_memberships"
    )

    class Meta:
        # Defined in the feedback app until teams/events moved here; the table kept its name.
        db_table = "feedback_teammembership"
        constraints = [
            models.UniqueConstraint(fields=["team", "user"], name="team_membership_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.team}"
