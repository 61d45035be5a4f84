"""The widget API of delivery: config, decide, shown / dismissed, opt-out — one plain view per
operation (surveys.delivery.widget_http), each payload declared once as a `msgspec.Struct`
that both validates the call and describes it in the OpenAPI schema."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import msgspec
from django.http import HttpRequest

from surveys.contacts.identity import identity_verify
from surveys.delivery import ledger
from surveys.delivery.widget_http import NOT_FOUND, widget_view
from surveys.design.widget_texts import widget_texts
from surveys.tenancy.models import Project
from surveys.tenancy.theme import theme_colors
from vocsite.json_api import Response

# Text fields as the widget sends them (trimmed; `min_length=1`: not blank).
Key = Annotated[str, msgspec.Meta(max_length=64)]
VisitorId = Annotated[str, msgspec.Meta(max_length=100, min_length=1)]
UserId = Annotated[str, msgspec.Meta(max_length=200)]
UserHash = Annotated[
    str,
    msgspec.Meta(
        max_length=128,
        description="Hex HMAC-SHA256 of user_id under the project's identity secret.",
    ),
]
Url = Annotated[str, msgspec.Meta(max_length=2000)]


class Identity(msgspec.Struct, kw_only=True):
    """Who a widget call is about: the browser's visitor id, the signed-in user's id, or both."""

    key: Key
    visitor_id: VisitorId | None = None
    user_id: UserId | None = None
    user_hash: UserHash | None = None

    def problems(self) -> dict[str, list[str]]:
        if not self.visitor_id and not self.user_id:
            return {"visitor_id": ["A visitor_id or user_id is required."]}
        return {}


class KeyOnly(msgspec.Struct):
    key: Key


class DecideInput(Identity, kw_only=True):
    touchpoint: Annotated[
        str, msgspec.Meta(max_length=100, min_length=1, pattern=r"^[-a-zA-Z0-9_]+$")
    ]
    attributes: dict[str, Any] | None = None
    url: Url | None = None
    locale: Annotated[str, msgspec.Meta(max_length=35)] | None = None


# ---------------------------------------------------------------- replies, as documented


class ProjectOut(msgspec.Struct):
    name: str
    languages: list[str]
    default_language: str


class FeedbackTabOut(msgspec.Struct):
    enabled: bool
    label: dict[str, str]


# A text by its name, or a group of texts by name (the Feedback tab's categories).
WidgetTexts = dict[str, str | dict[str, str]]


class ThemeOut(msgspec.Struct):
    primary_color: Annotated[str, msgspec.Meta(description="Accent colour, #rrggbb")]
    text_color: Annotated[
        str, msgspec.Meta(description="Text on the accent colour (white or dark), #rrggbb")
    ]


class ConfigOutput(msgspec.Struct):
    project: ProjectOut
    theme: Annotated[ThemeOut, msgspec.Meta(description="The project's colours")]
    feedback_tab: FeedbackTabOut
    texts: Annotated[
        dict[str, WidgetTexts],
        msgspec.Meta(description="The widget's fixed texts in each language"),
    ]


class ScaleOut(msgspec.Struct):
    min: int
    max: int


class ChoiceOut(msgspec.Struct):
    id: str
    text: str


class ShowIfOut(msgspec.Struct):
    question_id: int
    min: int
    max: int


class QuestionOut(msgspec.Struct):
    id: int
    type: str
    text: str
    required: bool
    scale: ScaleOut | None = None
    choices: list[ChoiceOut] | None = None
    labels: dict[str, str] | None = None
    style: str | None = None
    show_if: ShowIfOut | None = None


class SurveyOut(msgspec.Struct):
    id: int
    version: int
    language: str
    delay_seconds: int
    auto_close_seconds: int | None
    questions: list[QuestionOut]
    thank_you: str | None
    texts: Annotated[
        WidgetTexts, msgspec.Meta(description="The widget's fixed texts in `language`")
    ]
    theme: Annotated[
        ThemeOut, msgspec.Meta(description="The survey's colours: its own, else the project's")
    ]


class DecideOutput(msgspec.Struct):
    show: bool
    reason: Annotated[str, msgspec.Meta(description="Why not (show = false)")] | None = None
    display_id: uuid.UUID | None = None
    survey: SurveyOut | None = None


# ---------------------------------------------------------------- views


def verified(project: Project, values: Identity) -> Identity:
    """The call's values once its user id is proven (`surveys.contacts.identity`); raises 403."""
    identity_verify(
        project=project, user_id=values.user_id or None, user_hash_given=values.user_hash
    )
    return values


@widget_view(
    operation_id="widget_config",
    method="GET",
    payload=None,
    responses={200: Response(ConfigOutput)},
    query={"key": "pk_…"},
    success_headers={"Cache-Control": "public, max-age=60"},
)
def config(request: HttpRequest, project: Project, values: None) -> tuple[int, Any]:
    """What the widget needs before anything else: languages, theme, the Feedback tab."""
    return 200, {
        "project": {
            "name": project.name,
            "languages": project.languages or [project.default_language],
            "default_language": project.default_language,
        },
        "theme": theme_colors(project.theme),
        "feedback_tab": {
            "enabled": project.feedback_tab_enabled,
            "label": project.feedback_tab_label or {},
        },
        "texts": {
            lang: widget_texts(lang) for lang in project.languages or [project.default_language]
        },
    }


@widget_view(
    operation_id="widget_decide",
    method="POST",
    payload=DecideInput,
    responses={200: Response(DecideOutput)},
)
def decide(request: HttpRequest, project: Project, values: DecideInput) -> tuple[int, Any]:
    """Whether to show a survey at this touchpoint now; if so the display is claimed."""
    verified(project, values)
    result = ledger.visitor_decide(
        project=project,
        visitor_id=values.visitor_id,
        user_id=values.user_id or None,
        attributes=values.attributes,
        touchpoint_key=values.touchpoint,
        url=values.url,
        locale=values.locale,
    )
    if not result.verdict.show:
        return 200, {"show": False, "reason": result.verdict.reason}
    return 200, {
        "show": True,
        "display_id": str(result.display.pk),
        "survey": ledger.survey_payload(display=result.display, project=project),
    }


@widget_view(
    operation_id="widget_display_shown",
    method="POST",
    payload=KeyOnly,
    responses={204: Response(None), **NOT_FOUND},
)
def display_shown(
    request: HttpRequest, project: Project, values: KeyOnly, display_id: uuid.UUID
) -> tuple[int, Any]:
    """The survey is on screen: the claim becomes a display that counts for good."""
    ledger.display_mark_shown(display=ledger.display_get(project=project, display_id=display_id))
    return 204, None


@widget_view(
    operation_id="widget_display_dismissed",
    method="POST",
    payload=KeyOnly,
    responses={204: Response(None), **NOT_FOUND},
)
def display_dismissed(
    request: HttpRequest, project: Project, values: KeyOnly, display_id: uuid.UUID
) -> tuple[int, Any]:
    """The customer closed the survey: it is snoozed for `snooze_days_after_dismiss`."""
    ledger.display_mark_dismissed(
        display=ledger.display_get(project=project, display_id=display_id)
    )
    return 204, None


@widget_view(
    operation_id="widget_opt_out",
    method="POST",
    payload=Identity,
    responses={204: Response(None)},
)
def opt_out(request: HttpRequest, project: Project, values: Identity) -> tuple[int, Any]:
    """The customer asked never to be surveyed (the Feedback tab stays available)."""
    verified(project, values)
    ledger.visitor_opt_out(
        project=project, visitor_id=values.visitor_id, user_id=values.user_id or None
    )
    return 204, None
