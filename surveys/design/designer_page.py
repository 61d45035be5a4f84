"""What the designer page shows around its forms: the questions in the order people arranged
them, the translations each one lacks, and one summary of every error with a link to its
field."""

from __future__ import annotations

from dataclasses import dataclass, field

from django import forms
from django.utils.translation import gettext

from surveys.design.translations import TranslationGap


@dataclass
class QuestionRow:
    form: forms.Form
    index: int  # the form's index in the formset (its field names' prefix)
    number: int  # its place on the page, 1 = first
    is_new: bool
    removed: bool  # a new question removed before saving: posted, but neither kept nor shown
    notes: list[str] = field(default_factory=list)


def question_rows(questions: forms.BaseFormSet, gaps: list[TranslationGap]) -> list[QuestionRow]:
    """The question forms in the order the page shows them: as posted (ORDER) after a failed
    save, so a drag is not undone by an error; the saved order otherwise."""
    initial_count = questions.initial_form_count()
    indexed = list(enumerate(questions.forms))
    if questions.is_bound:
        indexed.sort(key=lambda item: (_posted_order(item[1]), item[0]))
    notes: dict[int, list[str]] = {}
    for gap in gaps:
        if gap.question is not None:
            notes.setdefault(gap.question, []).append(gap.what())
    rows, number = [], 0
    for index, form in indexed:
        is_new = index >= initial_count
        removed = is_new and questions.is_bound and bool(form["DELETE"].value())
        number += 0 if removed else 1
        rows.append(QuestionRow(form, index, number, is_new, removed, notes.get(index, [])))
    return rows


def _posted_order(form: forms.Form) -> int:
    try:
        return int(form["ORDER"].value())
    except (TypeError, ValueError):
        return 10_000


@dataclass(frozen=True)
class ErrorItem:
    where: str  # "Question 2 · Type", or a setting's label; empty for the form as a whole
    message: str
    anchor: str  # the id of the field's wrapper on the page, empty when there is none


def error_summary(
    settings_form: forms.Form, questions: forms.BaseFormSet, rows: list[QuestionRow]
) -> list[ErrorItem]:
    """Every error of a failed save, in page order: the questions first, then the settings."""
    if not settings_form.is_bound:
        return []
    items = [ErrorItem("", str(message), "") for message in questions.non_form_errors()]
    for row in rows:
        if row.removed:
            continue
        title = gettext("Question %(number)s") % {"number": row.number}
        items += _form_errors(row.form, title)
    items += _form_errors(settings_form, "")
    return items


def _form_errors(form: forms.Form, title: str) -> list[ErrorItem]:
    items = []
    for name, messages in form.errors.items():
        bound = form[name] if name in form.fields else None
        label = str(bound.label) if bound is not None else ""
        where = " · ".join(part for part in (title, label) if part)
        anchor = f"div_{bound.auto_id}" if bound is not None else ""
        if bound is None and title:
            anchor = f"question-{form.prefix}"
        items += [ErrorItem(where, str(message), anchor) for message in messages]
    return items
