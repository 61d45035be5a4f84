"""Writes for tenancy: projects (and what the apps above give a new one, PROJECT_CREATED), API
keys and the audit log."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from surveys.tenancy.models import ApiKey, AuditEntry, Membership, Project, hash_secret_key
from surveys.tenancy.roles import OWNER_ROLE
from vocsite.registry import Registry

# What a new project gets from the apps above this one, in its creating transaction: the
# closed loop's default alert rules (feedback.cases).
PROJECT_CREATED: Registry[Callable[..., object]] = Registry(
    "what a new project gets", expected=("default_alert_rules",)
)


@dataclass(frozen=True)
class CreatedKey:
    api_key: ApiKey
    raw: str  # shown once, never stored


def audit_record(
    *,
    project: Project,
    action: str,
    obj: Any,
    actor: AbstractBaseUser | None = None,
    actor_label: str = "",
    before: Mapping | None = None,
    after: Mapping | None = None,
) -> AuditEntry:
    """One audit row: who changed what, when, with the before/after values."""
    return AuditEntry.objects.create(
        project=project,
        actor=actor if actor is not None and actor.is_authenticated else None,
        actor_label=actor_label,
        action=action,
        object_type=type(obj).__name__,
        object_id=str(obj.pk),
        object_repr=str(obj)[:200],
        before=dict(before) if before is not None else None,
        after=dict(after) if after is not None else None,
    )


def api_key_create(
    *, project: Project, name: str = "default", created_by: AbstractBaseUser | None = None
) -> CreatedKey:
    raw = f"sk_{secrets.token_urlsafe(32)}"
    api_key = ApiKey.objects.create(
        project=project,
        name=name[:100] or "default",
        prefix=raw[:10],
        key_hash=hash_secret_key(raw),
        created_by=created_by if created_by is not None and created_by.is_authenticated else None,
    )
    audit_record(project=project, action="api_key.created", obj=api_key, actor=created_by)
    return CreatedKey(api_key=api_key, raw=raw)


def api_key_revoke(*, api_key: ApiKey, actor: AbstractBaseUser | None = None) -> ApiKey:
    if api_key.revoked_at is None:
        api_key.revoked_at = timezone.now()
        api_key.save(update_fields=["revoked_at", "updated_at"])
        audit_record(project=api_key.project, action="api_key.revoked", obj=api_key, actor=actor)
    return api_key


@transaction.atomic
def project_create(
    *,
    name: str,
    allowed_origins: Sequence[str] = (),
    languages: Sequence[str] = ("en",),
    owner: AbstractBaseUser | None = None,
) -> tuple[Project, CreatedKey]:
    """A new project with one secret key, and what the other apps give it (PROJECT_CREATED)."""
    languages = [lang.strip() for lang in languages if lang.strip()] or ["en"]
    project = Project(
        name=name.strip(),
        allowed_origins=[origin.rstrip("/") for origin in allowed_origins],
        languages=languages,
        default_language=languages[0],
        feedback_tab_label={"en": "Feedback", "zh": "反馈"},
    )
    project.full_clean()
    project.save()
    if owner is not None:
        Membership.objects.create(user=owner, project=project, role=OWNER_ROLE)
    created = api_key_create(project=project, created_by=owner)

    for install in PROJECT_CREATED:
        install(project=project)
    return project, created
