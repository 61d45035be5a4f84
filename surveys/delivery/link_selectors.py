"""Reads of survey links: a survey's links with their answer counts, the active link behind
a public token, its absolute address, and a known respondent's displays through it."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db.models import Count, Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from surveys.contacts.models import Contact
from surveys.delivery.models import Display, DisplayStatus, SurveyLink
from surveys.design.models import Survey, SurveyStatus
from surveys.tenancy.models import Project
from vocsite.ids import id_parse

# An unfinished answer of a known respondent is taken up again when they come back this soon.
RESUME_WITHIN = timedelta(days=1)


def survey_links(*, project: Project, survey: Survey) -> QuerySet[SurveyLink]:
    """The survey's links, newest first, each with `answers`: its finished responses."""
    return (
        SurveyLink.objects.filter(project=project, survey=survey)
        .select_related("touchpoint")
        .annotate(
            answers=Count(
                "displays", filter=Q(displays__status=DisplayStatus.RESPONDED), distinct=True
            )
        )
        .order_by("-created_at", "-pk")
    )


def link_of_survey(*, project: Project, survey_id: int, link_id: int) -> SurveyLink | None:
    """The link through the project and survey it belongs to (None for another project's, or
    for ids no row can have)."""
    survey_id, link_id = id_parse(survey_id), id_parse(link_id)
    if survey_id is None or link_id is None:
        return None
    return (
        SurveyLink.objects.filter(project=project, survey_id=survey_id, pk=link_id)
        .select_related("touchpoint", "survey")
        .first()
    )


def link_by_token(token: str) -> SurveyLink | None:
    """The active link behind a public token, with what its page needs; None when the token
    is unknown or the link deactivated."""
    if not token or len(token) > 64:
        return None
    return (
        SurveyLink.objects.filter(token=token, active=True)
        .select_related("project", "survey__current_version", "touchpoint")
        .first()
    )


def link_survey_open(link: SurveyLink) -> bool:
    """Whether the link's survey takes answers now: published, active and in its schedule."""
    survey = link.survey
    now = timezone.now()
    return (
        survey.status == SurveyStatus.ACTIVE
        and survey.current_version_id is not None
        and (survey.starts_at is None or survey.starts_at <= now)
        and (survey.ends_at is None or survey.ends_at > now)
    )


def link_url(link: SurveyLink) -> str:
    """The link's public address, on the site's public base address (as e-mail links)."""
    return settings.VOCSITE_BASE_URL.rstrip("/") + reverse("survey-link-page", args=[link.token])


def link_answered_by(*, link: SurveyLink, contact: Contact) -> bool:
    return Display.objects.filter(
        link=link, contact=contact, status=DisplayStatus.RESPONDED
    ).exists()


def link_display_resumable(*, link: SurveyLink, contact: Contact) -> Display | None:
    """The respondent's latest display through the link that holds no finished answer yet,
    if it is recent (RESUME_WITHIN)."""
    return (
        Display.objects.filter(
            link=link,
            contact=contact,
            status__in=[DisplayStatus.CLAIMED, DisplayStatus.SHOWN],
            claimed_at__gte=timezone.now() - RESUME_WITHIN,
        )
        .select_related("version")
        .order_by("-claimed_at")
        .first()
    )


def link_display(*, link: SurveyLink, display_id) -> Display | None:
    """A display opened through this link (the step token of a multi-step answer names it)."""
    return (
        Display.objects.filter(link=link, pk=display_id)
        .select_related("version", "contact")
        .first()
    )
