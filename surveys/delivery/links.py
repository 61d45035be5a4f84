"""Survey links (`SurveyLink`): making and deactivating them, and opening the display that an
answer through one is stored on.

An answer through a link is stored like every other answer — a display, then the answering
service's response on it — so it reaches the rollups, cases, webhooks and dashboards under
the link's channel tag and touchpoint. Anonymous answers have a display with no contact: it
counts for nobody's cooldown. A respondent the link names with a signed user id is held to
the throttle ledger (`ledger.survey_claim`), and a single-use link takes one finished answer
per such respondent.

Nothing is written before the respondent's first answer arrives: opening the page (a link
preview, a scanner) claims nothing."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext

from surveys.contacts.models import Contact
from surveys.delivery.ledger import survey_claim
from surveys.delivery.link_params import MAX_FIELDS, name_problems
from surveys.delivery.link_selectors import (
    link_answered_by,
    link_display,
    link_display_resumable,
)
from surveys.delivery.models import Display, DisplayStatus, LinkMode, SurveyLink
from surveys.design.models import Survey, SurveyStatus
from surveys.journey.channels import LINK_CHANNELS
from surveys.journey.models import Touchpoint
from surveys.tenancy.models import Project
from surveys.tenancy.services import audit_record
from vocsite.errors import ApplicationError

# Why a known respondent is not shown the survey, beside the throttle's reasons.
PERSONAL_LINK = "personal_link"  # a single-use link opened without a signed user id
ALREADY_ANSWERED = "already_answered"  # a single-use link this person has answered


def _name_problem_words(code: str) -> str:
    return {
        "format": gettext(
            "Use a lower-case letter, then letters, digits or underscores (at most 40)."
        ),
        "reserved": gettext("This name is used by the survey page itself."),
        "repeated": gettext("Named twice."),
        "too_many": gettext("At most %(n)s hidden fields.") % {"n": MAX_FIELDS},
    }[code]


def _touchpoint(project: Project, key: str | None) -> Touchpoint | None:
    if not key:
        return None
    touchpoint = Touchpoint.objects.filter(project=project, key=key, retired_at=None).first()
    if touchpoint is None:
        message = gettext("Not a touchpoint of this project in use.")
        raise ApplicationError("invalid", message, {"touchpoint": [message]})
    return touchpoint


@transaction.atomic
def link_create(
    *,
    project: Project,
    survey: Survey,
    label: str,
    channel: str,
    touchpoint_key: str | None = None,
    hidden_fields: Sequence[str] = (),
    mode: str = LinkMode.ANONYMOUS,
    actor: AbstractBaseUser | None = None,
) -> SurveyLink:
    """A new active link to `survey` (of `project`: the caller found it there). Refused with
    400 `invalid`, naming each field, when a value is not one a link can have."""
    errors: dict[str, list[str]] = {}
    label = (label or "").strip()
    if not label or len(label) > 100:
        errors["label"] = [gettext("A label of 1 to 100 characters is required.")]
    if channel not in LINK_CHANNELS:
        errors["channel"] = [
            gettext("One of %(names)s.") % {"names": ", ".join(c.value for c in LINK_CHANNELS)}
        ]
    if mode not in LinkMode.values:
        errors["mode"] = [gettext("One of %(names)s.") % {"names": ", ".join(LinkMode.values)}]
    if survey.project_id != project.pk:
        errors["survey"] = [gettext("Not a survey of this project.")]
    elif survey.status == SurveyStatus.CLOSED:
        errors["survey"] = [gettext("A closed survey takes no more answers.")]
    names = list(hidden_fields)
    for index, code in name_problems(names).items():
        field = "hidden_fields" if index < 0 else f"hidden_fields.{index}"
        errors.setdefault(field, []).append(_name_problem_words(code))
    try:
        touchpoint = _touchpoint(project, touchpoint_key)
    except ApplicationError as error:
        errors.update(error.fields)
    if errors:
        raise ApplicationError("invalid", gettext("The link is not valid."), errors)
    link = SurveyLink.objects.create(
        project=project,
        survey=survey,
        label=label,
        channel=channel,
        touchpoint=touchpoint,
        hidden_fields=names,
        mode=mode,
    )
    audit_record(
        project=project,
        action="survey_link.created",
        obj=link,
        actor=actor,
        after={
            "survey": survey.name,
            "channel": channel,
            "touchpoint": touchpoint.key if touchpoint else "",
            "hidden_fields": names,
            "mode": mode,
        },
    )
    return link


@transaction.atomic
def link_deactivate(*, link: SurveyLink, actor: AbstractBaseUser | None = None) -> SurveyLink:
    """The link answers 404 from now on; its answers stay. Deactivating twice changes nothing."""
    link = SurveyLink.objects.select_for_update().get(pk=link.pk)
    if link.active:
        link.active = False
        link.deactivated_at = timezone.now()
        link.save(update_fields=["active", "deactivated_at", "updated_at"])
        audit_record(
            project=link.project,
            action="survey_link.deactivated",
            obj=link,
            actor=actor,
            before={"active": True},
            after={"active": False},
        )
    return link


@dataclass(frozen=True)
class LinkOpening:
    """The display an answer through a link goes on, or why there is none (`refusal`: a
    throttle reason, PERSONAL_LINK or ALREADY_ANSWERED)."""

    display: Display | None
    refusal: str = ""


def link_refusal(*, link: SurveyLink, contact: Contact | None) -> str:
    """Why a link is not for this respondent before anything is claimed ("" when it is):
    single-use links need a known respondent who has not answered through it."""
    if link.mode != LinkMode.SINGLE_USE_PER_CONTACT:
        return ""
    if contact is None:
        return PERSONAL_LINK
    if link_answered_by(link=link, contact=contact):
        return ALREADY_ANSWERED
    return ""


# A display of a link answer is named by the page that asked (its `attempt`, one per page
# shown): the same form sent twice (a double click, a retry) lands on the same display, and so
# in the same response.
ATTEMPT_NAMESPACE = uuid.UUID("0b7c9f1e-52a4-4c1d-8e0f-7d3a6b2c9e41")


def link_attempt_display_id(*, link: SurveyLink, attempt: uuid.UUID) -> uuid.UUID:
    return uuid.uuid5(ATTEMPT_NAMESPACE, f"{link.pk}:{attempt}")


def link_display_open(
    *, link: SurveyLink, contact: Contact | None, language: str, attempt: uuid.UUID
) -> LinkOpening:
    """The display for a respondent's first answer through `link` from the page `attempt`:
    the one that attempt opened already, an unfinished one of the same known respondent, or a
    new one — for a known respondent only if the throttle ledger allows it now (the claim is
    theirs, as decide's)."""
    display_id = link_attempt_display_id(link=link, attempt=attempt)
    again = link_display(link=link, display_id=display_id)
    if again is not None and again.contact_id == (contact.pk if contact else None):
        return LinkOpening(again)
    refusal = link_refusal(link=link, contact=contact)
    if refusal:
        return LinkOpening(None, refusal)
    if contact is None:
        return LinkOpening(_anonymous_display(link, language, display_id))
    resumable = link_display_resumable(link=link, contact=contact)
    if resumable is not None:
        return LinkOpening(resumable)
    result = survey_claim(
        project=link.project,
        contact=contact,
        survey=link.survey,
        touchpoint=link.touchpoint,
        channel=link.channel,
        link=link,
        locale=language,
        display_id=display_id,
    )
    if result.display is None:
        return LinkOpening(None, result.verdict.reason)
    return LinkOpening(result.display)


def _anonymous_display(link: SurveyLink, language: str, display_id: uuid.UUID) -> Display:
    """A display with no contact, shown now (the person is on the page)."""
    now = timezone.now()
    try:
        with transaction.atomic():
            return Display.objects.create(
                id=display_id,
                project=link.project,
                contact=None,
                survey=link.survey,
                version=link.survey.current_version,
                touchpoint=link.touchpoint,
                channel=link.channel,
                link=link,
                status=DisplayStatus.SHOWN,
                language=language,
                claimed_at=now,
                shown_at=now,
            )
    except IntegrityError:  # the same attempt sent twice at once: the first one opened it
        return Display.objects.get(pk=display_id, link=link)
