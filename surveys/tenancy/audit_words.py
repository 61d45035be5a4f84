"""The audit log in words: what an entry did ("Survey updated") and each field it changed as
"Recontact days: 7 → 21", instead of the stored action code and before/after JSON.

Every writer of `AuditEntry` rows (`audit_record`, in surveys and feedback) stores plain
before/after values under its field names; this module is the one table of how those actions,
fields and coded values read. It names actions and fields of higher apps as text only — it
imports nothing from them. A field missing from the table still reads as its name with spaces.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext_lazy as _

from surveys.tenancy.languages import language_name
from surveys.tenancy.models import AuditEntry, Channel, Role

ACTION_WORDS = {
    "project.updated": _("Project settings changed"),
    "project.identity_secret_rotated": _("Identity verification secret rotated"),
    "api_key.created": _("Secret API key created"),
    "api_key.revoked": _("Secret API key revoked"),
    "member_invitation.created": _("Member invited"),
    "member_invitation.revoked": _("Invitation revoked"),
    "member_invitation.accepted": _("Invitation accepted"),
    "membership.created": _("Member added"),
    "membership.updated": _("Member's role changed"),
    "membership.deleted": _("Member removed"),
    "team.created": _("Team created"),
    "team.updated": _("Team changed"),
    "survey.created": _("Survey created"),
    "survey.updated": _("Survey changed"),
    "survey.published": _("Survey published"),
    "survey.pause": _("Survey paused"),
    "survey.resume": _("Survey resumed"),
    "survey.close": _("Survey closed"),
    "stage.created": _("Journey stage created"),
    "stage.updated": _("Journey stage changed"),
    "stage.deleted": _("Journey stage deleted"),
    "touchpoint.created": _("Touchpoint created"),
    "touchpoint.updated": _("Touchpoint changed"),
    "touchpoint.deleted": _("Touchpoint deleted"),
    "contact.erased": _("Contact erased"),
    "survey_link.created": _("Survey link created"),
    "survey_link.deactivated": _("Survey link deactivated"),
    "root_cause.created": _("Root cause created"),
    "root_cause.updated": _("Root cause changed"),
    "alert_rule.created": _("Alert rule created"),
    "alert_rule.updated": _("Alert rule changed"),
    "topic.created": _("Topic created"),
    "topic.updated": _("Topic changed"),
    "topic.deleted": _("Topic deleted"),
    "webhook.created": _("Webhook created"),
    "webhook.updated": _("Webhook changed"),
    "webhook.deleted": _("Webhook deleted"),
    "webhook.secret_rotated": _("Webhook signing secret rotated"),
    "chat_channel.created": _("Team chat channel added"),
    "chat_channel.updated": _("Team chat channel changed"),
    "chat_channel.deleted": _("Team chat channel deleted"),
}

OBJECT_WORDS = {
    "Project": _("Project"),
    "ApiKey": _("Secret API key"),
    "MemberInvitation": _("Invitation"),
    "Membership": _("Member"),
    "Team": _("Team"),
    "Survey": _("Survey"),
    "JourneyStage": _("Journey stage"),
    "Touchpoint": _("Touchpoint"),
    "Contact": _("Contact"),
    "RootCause": _("Root cause"),
    "AlertRule": _("Alert rule"),
    "Topic": _("Topic"),
    "WebhookEndpoint": _("Webhook"),
    "SurveyLink": _("Survey link"),
}

FIELD_WORDS = {
    # project settings
    "name": _("Name"),
    "allowed_origins": _("Allowed origins"),
    "languages": _("Languages"),
    "default_language": _("Default language"),
    "recontact_days": _("Recontact days"),
    "frequency_cap": _("Frequency cap"),
    "frequency_window_days": _("Frequency window (days)"),
    "breakdown_attributes": _("Breakdown attributes"),
    "feedback_tab_enabled": _("Feedback tab"),
    "feedback_tab_label": _("Feedback tab label"),
    "theme": _("Theme"),
    "identity_verification": _("Identity verification"),
    "timezone": _("Timezone"),
    "retention_months": _("Retention (months)"),
    # members, invitations, teams
    "user": _("User"),
    "email": _("E-mail"),
    "role": _("Role"),
    "expires_at": _("Expires"),
    "status": _("Status"),
    "reason": _("Reason"),
    "invitation": _("Invitation"),
    "lead": _("Lead"),
    "members": _("Members"),
    # surveys
    "display_option": _("Display"),
    "display_limit": _("Display limit"),
    "bypass_global_cooldown": _("Bypass the project's cooldown"),
    "recurrence_days": _("Ask again every (days)"),
    "snooze_days_after_dismiss": _("Snooze days after dismiss"),
    "sample_percent": _("Sample (%)"),
    "delay_seconds": _("Delay (seconds)"),
    "auto_close_seconds": _("Auto-close (seconds)"),
    "priority": _("Priority"),
    "response_cap": _("Response cap"),
    "starts_at": _("Starts"),
    "ends_at": _("Ends"),
    "targeting": _("Targeting"),
    "thank_you": _("Thank-you message"),
    "channels": _("Channels"),
    "template": _("Template"),
    "version": _("Version"),
    # survey links
    "survey": _("Survey"),
    "touchpoint": _("Touchpoint"),
    "hidden_fields": _("Hidden fields"),
    "mode": _("Who may answer"),
    "active": _("Active"),
    # journey
    "key": _("Key"),
    "position": _("Position"),
    "stage": _("Stage"),
    "channel": _("Channel"),
    "retired": _("Retired"),
    # alert rules, root causes, topics, webhooks
    "is_active": _("Active"),
    "question_type": _("Question type"),
    "score_min": _("Lowest score"),
    "score_max": _("Highest score"),
    "keywords": _("Keywords"),
    "exclusions": _("Exclusions"),
    "segment": _("Segment"),
    "touchpoints": _("Touchpoints"),
    "team": _("Team"),
    "assignment": _("Assignment"),
    "sla_hours": _("SLA (hours)"),
    "url": _("URL"),
    "events": _("Events"),
    "platform": _("Platform"),
}

# Coded values, by the field that holds them (the labels of the models' choices).
VALUE_WORDS: dict[str, Mapping[str, Any]] = {
    "role": dict(Role.choices),
    "channel": dict(Channel.choices),
    "status": {
        "draft": _("Draft"),
        "active": _("Active"),
        "paused": _("Paused"),
        "closed": _("Closed"),
        "pending": _("Pending"),
        "accepted": _("Accepted"),
        "revoked": _("Revoked"),
    },
    "display_option": {
        "once": _("Show once"),
        "until_responded": _("Until the contact responds"),
        "limited": _("A limited number of times"),
        "always": _("Always (subject to cooldowns)"),
    },
    "channels": {"widget": _("In-app widget"), "email": _("E-mail link")},
    "mode": {
        "anonymous": _("Anonymous"),
        "single_use_per_contact": _("Once per known respondent"),
    },
    "question_type": {
        "nps": _("NPS (0–10)"),
        "csat": _("CSAT"),
        "ces": _("CES"),
        "rating": _("Rating"),
        "single_choice": _("Single choice"),
        "multi_choice": _("Multiple choice"),
        "text": _("Open text"),
        "yes_no": _("Yes / no"),
    },
    "assignment": {
        "none": _("Leave unassigned (team queue)"),
        "round_robin": _("Round-robin among team members"),
        "least_loaded": _("Agent with the fewest open cases"),
    },
}
# Fields that hold user ids: shown as user names (`usernames`, read once per page).
USER_ID_FIELDS = frozenset({"lead", "members"})
NOTHING = "—"


@dataclass(frozen=True)
class FieldChange:
    field: str
    label: str
    before: str | None  # None: the entry has no value before (created) or after (deleted)
    after: str | None


@dataclass(frozen=True)
class EntryInWords:
    entry: AuditEntry
    action: str
    object_kind: str
    changes: list[FieldChange]


def object_kind_words(object_type: str) -> str:
    return str(OBJECT_WORDS.get(object_type, object_type))


def field_words(field: str) -> str:
    return str(FIELD_WORDS.get(field, field.replace("_", " ").capitalize()))


def value_words(field: str, value: Any, usernames: Mapping[int, str]) -> str:
    """One stored value as a person reads it: yes/no, lists joined, codes as their labels."""
    if value is None or value == "" or value == [] or value == {}:
        return NOTHING
    if isinstance(value, bool):
        return str(_("yes") if value else _("no"))
    if field in USER_ID_FIELDS:
        ids = value if isinstance(value, list) else [value]
        return ", ".join(usernames.get(user_id, f"#{user_id}") for user_id in ids)
    if isinstance(value, list):
        return ", ".join(value_words(field, item, usernames) for item in value)
    if isinstance(value, Mapping):
        return "; ".join(
            f"{FIELD_WORDS.get(key) or language_name(key)}: {value_words(key, item, usernames)}"
            for key, item in value.items()
        )
    words = VALUE_WORDS.get(field, {})
    return str(words.get(value, value)) if isinstance(value, str) else str(value)


def audit_user_ids(entries: list[AuditEntry]) -> set[int]:
    """The user ids the entries' values name (team leads and members)."""
    ids: set[int] = set()
    for entry in entries:
        for values in (entry.before or {}, entry.after or {}):
            for field in USER_ID_FIELDS & set(values):
                value = values[field]
                ids.update(v for v in (value if isinstance(value, list) else [value]) if v)
    return ids


def audit_entry_words(entry: AuditEntry, usernames: Mapping[int, str]) -> EntryInWords:
    """The entry's action and its changed fields. An update lists the fields whose value
    differs; a creation the values set; a removal the values it had."""
    before, after = entry.before or {}, entry.after or {}
    changes = []
    for field in [*before, *(name for name in after if name not in before)]:
        if field in before and field in after:
            if before[field] == after[field]:
                continue
            old, new = before[field], after[field]
            changes.append(
                FieldChange(
                    field,
                    field_words(field),
                    value_words(field, old, usernames),
                    value_words(field, new, usernames),
                )
            )
        elif field in after:
            text = value_words(field, after[field], usernames)
            if text != NOTHING:
                changes.append(FieldChange(field, field_words(field), None, text))
        else:
            text = value_words(field, before[field], usernames)
            changes.append(FieldChange(field, field_words(field), text, None))
    return EntryInWords(
        entry=entry,
        action=str(ACTION_WORDS.get(entry.action, entry.action)),
        object_kind=object_kind_words(entry.object_type),
        changes=changes,
    )
