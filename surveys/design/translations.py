"""Which texts of a survey lack a translation a customer would notice before it is published.

A customer gets each text in their language, else in the project's default language, else in
any language it has (`payload.text_in`): a text missing in one language silently shows in
another, and the survey then reads half in one language and half in another. The languages
that count are those the survey is written in (somewhere in its questions or thank-you
message), among the project's languages and, when the survey targets languages, those it is
shown to. A survey written in one language only is consistent everywhere and is not flagged."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext

from surveys.design.targeting import primary_language
from surveys.tenancy.languages import language_name

TEXT, CHOICES, LABELS, THANK_YOU = "text", "choices", "labels", "thank_you"


@dataclass(frozen=True)
class TranslationGap:
    """One text left empty in one language: `question` is its 0-based position (None for the
    thank-you message), `part` one of text, choices, labels (a scale's end labels), thank_you."""

    question: int | None
    part: str
    language: str

    @property
    def field(self) -> str:
        """The service's field key for it, as in ApplicationError.fields."""
        return THANK_YOU if self.question is None else f"questions.{self.question}.{self.part}"

    def what(self) -> str:
        """The text and language, e.g. "choices in Chinese"."""
        language = language_name(self.language)
        if self.part == THANK_YOU:
            return gettext("thank-you message in %(language)s") % {"language": language}
        if self.part == TEXT:
            return gettext("text in %(language)s") % {"language": language}
        if self.part == LABELS:
            return gettext("scale labels in %(language)s") % {"language": language}
        return gettext("choices in %(language)s") % {"language": language}

    def describe(self) -> str:
        if self.question is None:
            return self.what()
        return gettext("question %(number)s: %(what)s") % {
            "number": self.question + 1,
            "what": self.what(),
        }


def translation_gaps(
    snapshot: Mapping[str, Any],
    *,
    project_languages: Iterable[str],
    target_languages: Iterable[str] = (),
) -> list[TranslationGap]:
    """The gaps of a snapshot-shaped survey (`{"questions": [{"text", "choices"}], "thank_you"}`),
    in question order, text before choices and scale labels, the thank-you message last."""
    questions = snapshot.get("questions") or []
    thank_you = snapshot.get("thank_you") or {}
    languages = _languages_that_count(
        questions, thank_you, project_languages, [primary_language(t) for t in target_languages]
    )
    if len(languages) < 2:
        return []
    gaps: list[TranslationGap] = []
    for position, question in enumerate(questions):
        gaps += [
            TranslationGap(position, TEXT, lang)
            for lang in _missing(question.get("text"), languages)
        ]
        missing_choices = set()
        for choice in question.get("choices") or []:
            missing_choices |= set(_missing(choice.get("text"), languages))
        gaps += [
            TranslationGap(position, CHOICES, lang) for lang in languages if lang in missing_choices
        ]
        missing_labels = set()
        for label in (question.get("labels") or {}).values():
            missing_labels |= set(_missing(label, languages))
        gaps += [
            TranslationGap(position, LABELS, lang) for lang in languages if lang in missing_labels
        ]
    gaps += [TranslationGap(None, THANK_YOU, lang) for lang in _missing(thank_you, languages)]
    return gaps


def _languages_that_count(
    questions: list[Mapping[str, Any]],
    thank_you: Mapping[str, str],
    project_languages: Iterable[str],
    target_languages: list[str],
) -> list[str]:
    written: set[str] = {lang for lang, text in thank_you.items() if text}
    for question in questions:
        texts = [question.get("text") or {}]
        texts += [choice.get("text") or {} for choice in question.get("choices") or []]
        texts += list((question.get("labels") or {}).values())
        for text in texts:
            if isinstance(text, Mapping):
                written |= {lang for lang, value in text.items() if value}
    return [
        lang
        for lang in dict.fromkeys(project_languages)
        if lang in written and (not target_languages or lang in target_languages)
    ]


def _missing(texts: Any, languages: list[str]) -> list[str]:
    """The languages a per-language text is empty in; nothing for a text empty in all of them
    (there is nothing to translate) or kept as a plain value."""
    if not isinstance(texts, Mapping) or not any(texts.get(lang) for lang in languages):
        return []
    return [lang for lang in languages if not texts.get(lang)]
