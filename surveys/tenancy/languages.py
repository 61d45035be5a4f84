"""The languages a project may speak, by the names staff read (the designer's fields, the
missing-translation notes, the audit log's per-language values)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy

LANGUAGE_NAMES = {"en": gettext_lazy("English"), "zh": gettext_lazy("Chinese")}


def language_name(code: str) -> str:
    """The language's name, or its code when it has none here."""
    return str(LANGUAGE_NAMES.get(code, code))
