"""Project membership by invitation (issue 24, item 10).

An admin invites an e-mail address with a role; vocsite stores a pending invitation (the link's
token only as its SHA-256) and e-mails the link. Nobody becomes a member until the person
opens the link, is logged in with that e-mail address (or makes an account for it there) and
accepts. The admin learns nothing about other accounts: whether the address has an account,
and its user name, are never shown — every invitation reads "invitation sent to <the address
typed>". Admins can revoke a pending invitation; each step is audited (never the token).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext

from surveys.tenancy.models import (
    MemberInvitation,
    MemberInvitationStatus,
    Membership,
    Project,
    Role,
    hash_secret_key,
)
from surveys.tenancy.services import audit_record
from surveys.tenancy.staff_preferences import staff_project_remember
from vocsite.errors import ApplicationError
from vocsite.mail import email_message

INVITATION_DAYS = 7


@dataclass(frozen=True)
class SentInvitation:
    invitation: MemberInvitation
    link: str  # holds the raw token: e-mailed once, never stored


def _normalized_email(email: str) -> str:
    email = (email or "").strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise ApplicationError(
            "invalid",
            gettext("An e-mail address is needed."),
            {"email": [gettext("Enter a valid e-mail address.")]},
        ) from None
    return email


def member_invitation_link(*, base_url: str, token: str) -> str:
    return base_url.rstrip("/") + reverse("member-invitation", args=[token])


@transaction.atomic
def member_invite(
    *,
    project: Project,
    email: str,
    role: str,
    invited_by: AbstractBaseUser | None = None,
    base_url: str,
) -> SentInvitation:
    """A pending invitation for `email` with `role`, and its e-mail (sent on commit). Inviting
    an address that has a pending invitation replaces it (the old link stops working)."""
    if role not in Role.values:
        raise ApplicationError(
            "invalid",
            gettext("Unknown role."),
            {"role": [gettext("One of %(roles)s.") % {"roles": Role.values}]},
        )
    email = _normalized_email(email)
    # Only this project's members are compared: the admin sees their addresses already.
    if Membership.objects.filter(project=project, user__email__iexact=email).exists():
        raise ApplicationError(
            "conflict",
            gettext("%(email)s is already a member of this project.") % {"email": email},
            {"email": [gettext("Already a member of this project.")]},
            status_code=409,
        )
    for pending in MemberInvitation.objects.select_for_update().filter(
        project=project, email=email, status=MemberInvitationStatus.PENDING
    ):
        _revoke(pending, actor=invited_by, reason="replaced")
    token = secrets.token_urlsafe(32)
    now = timezone.now()
    invitation = MemberInvitation(
        project=project,
        email=email,
        role=role,
        token_hash=hash_secret_key(token),
        created_at=now,
        expires_at=now + timedelta(days=INVITATION_DAYS),
        invited_by=invited_by if invited_by is not None and invited_by.is_authenticated else None,
    )
    invitation.full_clean()
    try:
        with transaction.atomic():
            invitation.save()
    except IntegrityError:  # a concurrent invitation of the same address won
        raise ApplicationError(
            "conflict",
            gettext("An invitation to %(email)s is being sent already.") % {"email": email},
            {"email": [gettext("An invitation is being sent already.")]},
            status_code=409,
        ) from None
    audit_record(
        project=project,
        action="member_invitation.created",
        obj=invitation,
        actor=invited_by,
        after={"email": email, "role": role, "expires_at": invitation.expires_at.isoformat()},
    )
    link = member_invitation_link(base_url=base_url, token=token)
    transaction.on_commit(lambda: _send(invitation, link), robust=True)
    return SentInvitation(invitation=invitation, link=link)


def _send(invitation: MemberInvitation, link: str) -> None:
    context = {"invitation": invitation, "project": invitation.project, "link": link}
    email_message(
        subject=gettext("[vocsite] You are invited to %(project)s")
        % {"project": invitation.project.name},
        body=render_to_string("email/member_invitation.txt", context),
        to=[invitation.email],
    ).send()


def _revoke(invitation: MemberInvitation, *, actor, reason: str = "") -> None:
    invitation.status = MemberInvitationStatus.REVOKED
    invitation.revoked_at = timezone.now()
    invitation.save(update_fields=["status", "revoked_at", "updated_at"])
    audit_record(
        project=invitation.project,
        action="member_invitation.revoked",
        obj=invitation,
        actor=actor,
        before={"email": invitation.email, "role": invitation.role, "status": "pending"},
        after={"status": "revoked", **({"reason": reason} if reason else {})},
    )


@transaction.atomic
def member_invitation_revoke(
    *, invitation: MemberInvitation, actor: AbstractBaseUser | None = None
) -> MemberInvitation:
    invitation = MemberInvitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.status != MemberInvitationStatus.PENDING:
        raise ApplicationError("invalid", gettext("Only a pending invitation can be revoked."))
    _revoke(invitation, actor=actor)
    return invitation


def member_invitation_for_token(token: str) -> MemberInvitation | None:
    """The pending, unexpired invitation a link's token names, or None."""
    if not token or len(token) > 100:
        return None
    return (
        MemberInvitation.objects.select_related("project", "invited_by")
        .filter(
            token_hash=hash_secret_key(token),
            status=MemberInvitationStatus.PENDING,
            expires_at__gt=timezone.now(),
        )
        .first()
    )


def member_invitation_account_exists(invitation: MemberInvitation) -> bool:
    """Whether an account has the invited address: told only to the holder of the link (who
    received it at that address), to offer "log in" or "make an account"."""
    return get_user_model().objects.filter(email__iexact=invitation.email).exists()


@transaction.atomic
def member_invitation_accept(*, token: str, user: AbstractBaseUser) -> Membership:
    """The invited person, logged in with the invited address, becomes a member with the
    invited role; the project becomes their current one (their own choice)."""
    invitation = member_invitation_for_token(token)
    if invitation is None:
        raise ApplicationError(
            "not_found", gettext("This invitation is not valid any more."), status_code=404
        )
    invitation = MemberInvitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.status != MemberInvitationStatus.PENDING:
        raise ApplicationError(
            "not_found", gettext("This invitation is not valid any more."), status_code=404
        )
    if (user.email or "").strip().lower() != invitation.email:
        raise ApplicationError(
            "forbidden",
            gettext("This invitation is for %(email)s: log in with that address to accept it.")
            % {"email": invitation.email},
            status_code=403,
        )
    membership, created = Membership.objects.get_or_create(
        project=invitation.project, user=user, defaults={"role": invitation.role}
    )
    invitation.status = MemberInvitationStatus.ACCEPTED
    invitation.accepted_by = user
    invitation.accepted_at = timezone.now()
    invitation.save(update_fields=["status", "accepted_by", "accepted_at", "updated_at"])
    audit_record(
        project=invitation.project,
        action="member_invitation.accepted",
        obj=invitation,
        actor=user,
        after={"email": invitation.email, "role": membership.role},
    )
    if created:
        audit_record(
            project=invitation.project,
            action="membership.created",
            obj=membership,
            actor=user,
            after={
                "user": user.get_username(),
                "email": invitation.email,
                "role": membership.role,
                "invitation": invitation.pk,
            },
        )
    staff_project_remember(user=user, project_id=invitation.project_id)
    return membership


@transaction.atomic
def member_invitation_sign_up(*, token: str, username: str, password: str) -> AbstractBaseUser:
    """An account for the invited address, made by the holder of the link (who proved the
    address by opening it), then the invitation accepted with it. Refused when the address has
    an account already: its owner logs in instead."""
    invitation = member_invitation_for_token(token)
    if invitation is None:
        raise ApplicationError(
            "not_found", gettext("This invitation is not valid any more."), status_code=404
        )
    if member_invitation_account_exists(invitation):
        raise ApplicationError(
            "conflict",
            gettext("An account with this address exists: log in to accept."),
            status_code=409,
        )
    User = get_user_model()
    if User.objects.filter(username=username).exists():
        raise ApplicationError(
            "conflict",
            gettext("That user name is taken."),
            {"username": [gettext("That user name is taken.")]},
        )
    user = User(username=username, email=invitation.email)
    try:
        validate_password(password, user)
        user.full_clean(exclude=["password"])
    except ValidationError as error:
        problems = (
            error.message_dict if hasattr(error, "error_dict") else {"password": error.messages}
        )
        raise ApplicationError(
            "invalid", gettext("The account could not be made."), problems
        ) from None
    user.set_password(password)
    user.save()
    member_invitation_accept(token=token, user=user)
    return user
