"""What a customer is shown for a survey: a published version or a draft, its texts resolved to
one language, the widget's fixed texts in that language and the colours to draw with (the
survey's accent colour, else the project's). Decide's reply (surveys.delivery), the hosted page
and the designer's preview all render this one payload, so the preview is what customers see."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from surveys.design.models import Survey
from surveys.design.scales import default_scale
from surveys.design.services import draft_snapshot
from surveys.design.targeting import primary_language
from surveys.design.widget_texts import widget_texts
from surveys.tenancy.models import Project
from surveys.tenancy.theme import theme_colors


def resolve_language(project: Project, locale: str | None) -> str:
    """The locale's language if the project speaks it, else the project's default."""
    wanted = primary_language(locale)
    languages = [primary_language(lang) for lang in (project.languages or [])]
    return wanted if wanted and wanted in languages else project.default_language


def text_in(texts: Any, language: str, fallback: str) -> Any:
    """A text kept per language ({"en": …, "zh": …}) in `language`, else in `fallback`, else
    in any language it has; a plain value as it is."""
    if not isinstance(texts, Mapping):
        return texts
    for lang in (language, fallback):
        if texts.get(lang):
            return texts[lang]
    return next((v for v in texts.values() if v), "")


def draft_payload(
    *,
    survey: Survey,
    project: Project,
    language: str,
    snapshot: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The same payload for the survey's unpublished draft (or for `snapshot`, questions not
    saved yet): what the designer's preview shows, rendered by the real widget script."""

    return payload_from_snapshot(
        snapshot=snapshot if snapshot is not None else draft_snapshot(survey),
        survey=survey,
        project=project,
        version_number=0,
        language=resolve_language(project, language),
        fallback=project.default_language,
    )


def payload_from_snapshot(
    *,
    snapshot: Mapping[str, Any],
    survey: Survey,
    project: Project,
    version_number: int,
    language: str,
    fallback: str,
) -> dict[str, Any]:
    questions = []
    for q in snapshot["questions"]:
        item: dict[str, Any] = {
            "id": q["id"],
            "type": q["type"],
            "text": text_in(q["text"], language, fallback),
            "required": q["required"],
        }
        scale = q.get("scale") or default_scale(q["type"])
        if scale:
            item["scale"] = scale
        if q.get("choices"):
            item["choices"] = [
                {"id": c["id"], "text": text_in(c["text"], language, fallback)}
                for c in q["choices"]
            ]
        if q.get("labels"):
            item["labels"] = {
                end: text_in(text, language, fallback) for end, text in q["labels"].items()
            }
        if q.get("style"):
            item["style"] = q["style"]
        if q.get("show_if"):
            item["show_if"] = q["show_if"]
        questions.append(item)
    return {
        "id": survey.pk,
        "version": version_number,
        "language": language,
        "delay_seconds": survey.delay_seconds,
        "auto_close_seconds": survey.auto_close_seconds,
        "questions": questions,
        "thank_you": text_in(snapshot.get("thank_you") or {}, language, fallback) or None,
        "texts": widget_texts(language),
        "theme": theme_colors(survey.theme, project.theme),
    }
