"""Reads for the journey that the API and the journey map share."""

from __future__ import annotations

from django.utils.translation import gettext as _

from surveys.journey.models import JourneyStage
from surveys.tenancy.models import Project
from vocsite.errors import ApplicationError


def stage_by_key(*, project: Project, key: str | None) -> JourneyStage | None:
    """The project's stage named `key`, None for no key (no stage); a key the project does
    not have (another project's stage among them) is an `invalid` error on `stage`."""
    if not key:
        return None
    stage = JourneyStage.objects.filter(project=project, key=key).first()
    if stage is None:
        message = _("Unknown stage.")
        raise ApplicationError("invalid", message, {"stage": [message]})
    return stage
