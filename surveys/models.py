"""Projects and keys, the journey, surveys and their published versions, contacts, the throttle
ledger (displays, decisions), e-mail invitations and the audit log (DESIGN.md §4)."""

from __future__ import annotations

import hashlib
import secrets
import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from vocsite.models import TimeStampedModel

# A foreign key whose column leads a composite index or unique constraint below says
# db_index=False: its own index would only duplicate that prefix, cost every INSERT, and on a
# project whose statistics were not yet gathered PostgreSQL picked the narrower index and
# filtered every visitor id of the project on each decide (measured: 6.7 ms per lookup at 20,000
# visitors). tests/test_fk_indexes.py keeps it that way.


def new_public_key() -> str:
    return f"pk_{secrets.token_urlsafe(18)}"


def new_identity_secret() -> str:
    return f"is_{secrets.token_urlsafe(32)}"


def hash_secret_key(raw: str) -> str:
    """Secret keys are 32 random bytes, so one SHA-256 is enough (no slow hash needed)."""
    return hashlib.sha256(raw.encode()).hexdigest()


class Channel(models.TextChoices):
    WEB = "web", "Web"
    APP = "app", "App"
    EMAIL = "email", "E-mail"
    PHONE = "phone", "Phone"
    CHAT = "chat", "Chat"
    STORE = "store", "Store"


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

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(frequency_window_days__gte=1), name="project_frequency_window_positive"
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
    ADMIN = "admin", "Admin"
    DESIGNER = "designer", "Designer"
    AGENT = "agent", "Agent"
    VIEWER = "viewer", "Viewer"


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
    PENDING = "pending", "Pending"
    ACCEPTED = "accepted", "Accepted"
    REVOKED = "revoked", "Revoked"


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


class JourneyStage(TimeStampedModel):
    project = models.ForeignKey(
        Project, on_delete=models.CASCADE, related_name="stages", db_index=False
    )
    key = models.SlugField(max_length=64)
    name = models.CharField(max_length=100)
    position = models.PositiveIntegerField(default=0)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["project", "key"], name="stage_key_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class Touchpoint(TimeStampedModel):
    project = models.ForeignKey(
        Project, on_delete=models.CASCADE, related_name="touchpoints", db_index=False
    )
    key = models.SlugField(max_length=100)
    name = models.CharField(max_length=200)
    stage = models.ForeignKey(
        JourneyStage, null=True, blank=True, on_delete=models.SET_NULL, related_name="touchpoints"
    )
    channel = models.CharField(max_length=16, choices=Channel.choices, default=Channel.WEB)
    description = models.TextField(blank=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["stage__position", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["project", "key"], name="touchpoint_key_unique"),
        ]

    def __str__(self) -> str:
        return self.key


class SurveyStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    ACTIVE = "active", "Active"
    PAUSED = "paused", "Paused"
    CLOSED = "closed", "Closed"


class DisplayOption(models.TextChoices):
    ONCE = "once", "Show once"
    UNTIL_RESPONDED = "until_responded", "Until the contact responds"
    LIMITED = "limited", "A limited number of times"
    ALWAYS = "always", "Always (subject to cooldowns)"


class SurveyChannel(models.TextChoices):
    WIDGET = "widget", "In-app widget"
    EMAIL = "email", "E-mail link"


def default_survey_channels() -> list[str]:
    return [SurveyChannel.WIDGET]


class Survey(TimeStampedModel):
    project = models.ForeignKey(
        Project, on_delete=models.CASCADE, related_name="surveys", db_index=False
    )
    name = models.CharField(max_length=200)
    status = models.CharField(
        max_length=16, choices=SurveyStatus.choices, default=SurveyStatus.DRAFT, db_index=True
    )
    touchpoints = models.ManyToManyField(Touchpoint, blank=True, related_name="surveys")
    channels = models.JSONField(default=default_survey_channels)
    # {"attributes": [{"attribute", "op", "value"}], "urls": [{"op", "value"}], "languages": []}
    targeting = models.JSONField(default=dict, blank=True)
    sample_percent = models.DecimalField(max_digits=5, decimal_places=2, default=100)
    delay_seconds = models.PositiveIntegerField(default=0)
    auto_close_seconds = models.PositiveIntegerField(null=True, blank=True)
    priority = models.IntegerField(default=0)
    display_option = models.CharField(
        max_length=16, choices=DisplayOption.choices, default=DisplayOption.UNTIL_RESPONDED
    )
    display_limit = models.PositiveIntegerField(null=True, blank=True)
    recontact_days = models.PositiveIntegerField(
        null=True, blank=True, help_text="Empty: the project's global cooldown."
    )
    bypass_global_cooldown = models.BooleanField(default=False)
    snooze_days_after_dismiss = models.PositiveIntegerField(default=14)
    response_cap = models.PositiveIntegerField(null=True, blank=True)
    starts_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True)
    thank_you = models.JSONField(default=dict, blank=True)
    theme = models.JSONField(default=dict, blank=True)
    template = models.CharField(max_length=32, blank=True)
    current_version = models.ForeignKey(
        "SurveyVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    has_unpublished_changes = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )

    class Meta:
        indexes = [models.Index(fields=["project", "status"], name="survey_project_status")]
        constraints = [
            models.CheckConstraint(
                condition=Q(sample_percent__gte=0) & Q(sample_percent__lte=100),
                name="survey_sample_percent_range",
            ),
            models.CheckConstraint(
                condition=~Q(display_option="limited") | Q(display_limit__gte=1),
                name="survey_limited_needs_limit",
            ),
            models.CheckConstraint(
                condition=Q(starts_at__isnull=True)
                | Q(ends_at__isnull=True)
                | Q(ends_at__gt=models.F("starts_at")),
                name="survey_schedule_order",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class SurveyVersion(models.Model):
    """Immutable snapshot of a survey's questions and texts, made on publish."""

    survey = models.ForeignKey(
        Survey, on_delete=models.CASCADE, related_name="versions", db_index=False
    )
    number = models.PositiveIntegerField()
    snapshot = models.JSONField()
    published_at = models.DateTimeField(auto_now_add=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )

    class Meta:
        ordering = ["survey", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["survey", "number"], name="survey_version_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.survey} v{self.number}"


class QuestionType(models.TextChoices):
    NPS = "nps", "NPS (0–10)"
    CSAT = "csat", "CSAT"
    CES = "ces", "CES"
    RATING = "rating", "Rating"
    SINGLE_CHOICE = "single_choice", "Single choice"
    MULTI_CHOICE = "multi_choice", "Multiple choice"
    TEXT = "text", "Open text"
    YES_NO = "yes_no", "Yes / no"


SCORED_TYPES = (QuestionType.NPS, QuestionType.CSAT, QuestionType.CES, QuestionType.RATING)


class Question(TimeStampedModel):
    """A question. Draft questions have no version; publishing copies them into rows bound to
    the new version, so answers always point at exactly the question that was shown. `uid` stays
    the same across versions so metrics can follow one question through edits."""

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="questions")
    version = models.ForeignKey(
        SurveyVersion,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="questions",
        db_index=False,
    )
    uid = models.UUIDField(default=uuid.uuid4, db_index=True)
    position = models.PositiveIntegerField(default=0)
    type = models.CharField(max_length=16, choices=QuestionType.choices)
    text = models.JSONField(default=dict, help_text='Per language: {"en": "...", "zh": "..."}')
    required = models.BooleanField(default=True)
    scale_min = models.SmallIntegerField(null=True, blank=True)
    scale_max = models.SmallIntegerField(null=True, blank=True)
    choices = models.JSONField(default=list, blank=True, help_text='[{"en": "...", "zh": "..."}]')
    labels = models.JSONField(default=dict, blank=True, help_text="Scale end labels per language.")
    style = models.CharField(max_length=16, blank=True, help_text="rating: stars/numbers/smileys")
    # CES on 1–5 reads as agreement ("it was easy", 4–5) unless the question asks how much
    # effort it took (1 = very low), where 1–2 are easy (DESIGN.md §7).
    scale_wording = models.CharField(
        max_length=8,
        choices=[("agree", "Agreement (high is good)"), ("effort", "Effort (low is good)")],
        default="agree",
        blank=True,
    )
    show_if = models.JSONField(
        null=True, blank=True, help_text='{"question": <0-based position>, "min": n, "max": n}'
    )

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["version", "position"],
                condition=Q(version__isnull=False),
                name="question_position_unique_in_version",
            ),
            models.CheckConstraint(
                condition=Q(scale_min__isnull=True)
                | Q(scale_max__isnull=True)
                | Q(scale_max__gt=models.F("scale_min")),
                name="question_scale_order",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.type}: {next(iter(self.text.values()), '')}"


class LifecycleStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    CHURNED = "churned", "Churned"


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
    # it read with the ledger (compare-and-set, see surveys.ledger.display_claim).
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
    STARTED = "started", "Started"
    CHURNED = "churned", "Churned"
    REACTIVATED = "reactivated", "Reactivated"


class LifecycleChange(TimeStampedModel):
    """One step of a customer's lifecycle, at the time its operational event happened: the
    history churn is counted from (surveys.lifecycle has the rule, feedback.events keeps the
    rows; metrics.lifecycle reads them). The contact's `lifecycle`/`churned_at` are the latest
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
        "feedback.OperationalEvent",
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


class DisplayStatus(models.TextChoices):
    CLAIMED = "claimed", "Claimed"
    SHOWN = "shown", "Shown"
    RESPONDED = "responded", "Responded"
    DISMISSED = "dismissed", "Dismissed"
    EXPIRED = "expired", "Expired"


class Display(TimeStampedModel):
    """The throttle ledger: one row per survey put in front of a contact, on any channel."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # Not indexed on its own: every read of displays is by project, contact or survey (and
    # claimed_at), and each index is written again on every answer (the status changes, so the
    # display's update is never HOT).
    created_at = models.DateTimeField(default=timezone.now)
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="displays")
    contact = models.ForeignKey(
        Contact, on_delete=models.CASCADE, related_name="displays", db_index=False
    )
    survey = models.ForeignKey(
        Survey, on_delete=models.CASCADE, related_name="displays", db_index=False
    )
    version = models.ForeignKey(SurveyVersion, on_delete=models.PROTECT, related_name="displays")
    touchpoint = models.ForeignKey(
        Touchpoint, null=True, blank=True, on_delete=models.SET_NULL, related_name="displays"
    )
    channel = models.CharField(
        max_length=16, choices=SurveyChannel.choices, default=SurveyChannel.WIDGET
    )
    status = models.CharField(
        max_length=16, choices=DisplayStatus.choices, default=DisplayStatus.CLAIMED
    )
    language = models.CharField(max_length=16, blank=True)
    url = models.URLField(max_length=2000, blank=True)
    claimed_at = models.DateTimeField()
    shown_at = models.DateTimeField(null=True, blank=True)
    responded_at = models.DateTimeField(null=True, blank=True)
    dismissed_at = models.DateTimeField(null=True, blank=True)
    expired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            # decide: the contact's ledger, newest first
            models.Index(fields=["contact", "-claimed_at"], name="display_contact_claimed"),
            models.Index(fields=["contact", "survey", "status"], name="display_contact_survey"),
            # response-rate and expiry sweeps
            models.Index(fields=["survey", "status"], name="display_survey_status"),
            models.Index(fields=["status", "claimed_at"], name="display_status_claimed"),
        ]

    def __str__(self) -> str:
        return f"{self.survey} → {self.contact} ({self.status})"


class DecisionReason(models.TextChoices):
    SHOWN = "shown", "Shown"
    NO_SURVEY = "no_survey", "No survey at this touchpoint"
    OPTED_OUT = "opted_out", "Contact opted out"
    TARGETING = "targeting", "Targeting did not match"
    ALREADY_RESPONDED = "already_responded", "Already responded"
    DISPLAY_LIMIT = "display_limit", "Display limit reached"
    SNOOZED = "snoozed", "Snoozed after dismiss"
    SURVEY_COOLDOWN = "survey_cooldown", "Survey cooldown"
    GLOBAL_COOLDOWN = "global_cooldown", "Global cooldown"
    FREQUENCY_CAP = "frequency_cap", "Frequency cap"
    RESPONSE_CAP = "response_cap", "Response cap reached"
    SAMPLED_OUT = "sampled_out", "Sampled out"


class Decision(models.Model):
    """One decide outcome (append-only) for fatigue analytics: which rule held what back.

    `survey` is the survey the reason is about (the best candidate that was refused), or null
    when no survey was attached to the touchpoint."""

    project = models.ForeignKey(
        Project, on_delete=models.CASCADE, related_name="decisions", db_index=False
    )
    survey = models.ForeignKey(
        Survey, null=True, blank=True, on_delete=models.CASCADE, related_name="decisions"
    )
    touchpoint = models.ForeignKey(
        Touchpoint, null=True, blank=True, on_delete=models.SET_NULL, related_name="decisions"
    )
    contact = models.ForeignKey(
        Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="decisions"
    )
    channel = models.CharField(
        max_length=16, choices=SurveyChannel.choices, default=SurveyChannel.WIDGET
    )
    reason = models.CharField(max_length=32, choices=DecisionReason.choices)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["project", "survey", "created_at"], name="decision_survey_day"),
            models.Index(fields=["project", "created_at"], name="decision_project_day"),
        ]

    def __str__(self) -> str:
        return f"{self.reason} ({self.created_at:%Y-%m-%d})"


class InvitationStatus(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    SENT = "sent", "Sent"
    SKIPPED = "skipped", "Skipped by the throttle"
    FAILED = "failed", "Failed"


class Invitation(TimeStampedModel):
    """An e-mail survey invitation; its display is claimed in the same ledger as the widget's."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="invitations")
    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="invitations")
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="invitations")
    touchpoint = models.ForeignKey(
        Touchpoint, null=True, blank=True, on_delete=models.SET_NULL, related_name="invitations"
    )
    display = models.OneToOneField(
        Display, null=True, blank=True, on_delete=models.SET_NULL, related_name="invitation"
    )
    operational_event = models.ForeignKey(
        "feedback.OperationalEvent",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="invitations",
    )
    status = models.CharField(
        max_length=16, choices=InvitationStatus.choices, default=InvitationStatus.SCHEDULED
    )
    skip_reason = models.CharField(max_length=32, blank=True)
    send_after = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["status", "send_after"], name="invitation_due")]
        constraints = [
            models.UniqueConstraint(
                fields=["survey", "operational_event"],
                condition=Q(operational_event__isnull=False),
                name="invitation_once_per_event",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.survey} → {self.contact} ({self.status})"


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
