"""Ids as URLs, query strings, forms and JSON carry them: one strict reading for all.

An id is a bigint primary key: ASCII digits only, 1 to 2^63-1. `str.isdigit()` is no test
(it accepts "²" and "٣", and `int("²")` then raises), and a number beyond a bigint made
PostgreSQL refuse the query (a 500) where SQLite answered "nothing". Anything else is "no
such object": None, a 404 or a serializer's 400, never a database error.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.http import Http404
from rest_framework import serializers

MAX_ID = 2**63 - 1
_MAX_DIGITS = len(str(MAX_ID))


def id_parse(raw: Any) -> int | None:
    """The id `raw` names, or None when it names none (see the module docstring)."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        value = raw
    elif isinstance(raw, str) and 0 < len(raw) <= _MAX_DIGITS and raw.isascii() and raw.isdigit():
        value = int(raw)
    else:
        return None
    return value if 1 <= value <= MAX_ID else None


def id_or_404(raw: Any) -> int:
    """`id_parse` for a view that can only go on with an id: otherwise a 404."""
    value = id_parse(raw)
    if value is None:
        raise Http404("No such object.")
    return value


class ModelIdsChoiceField(forms.ModelMultipleChoiceField):
    """Django's field filters `pk__in` with whatever was posted: a number beyond the column
    was an OverflowError (SQLite) or a refused query (PostgreSQL). Ids are read here first."""

    def _check_values(self, value):
        for raw in value:
            if id_parse(raw) is None:
                raise ValidationError(
                    self.error_messages["invalid_pk_value"],
                    code="invalid_pk_value",
                    params={"pk": raw},
                )
        return super()._check_values(value)


class ModelIdChoiceField(forms.ModelChoiceField):
    """The single-choice twin of `ModelIdsChoiceField`: a posted id is read here first."""

    def to_python(self, value):
        if value not in self.empty_values and id_parse(value) is None:
            raise ValidationError(self.error_messages["invalid_choice"], code="invalid_choice")
        return super().to_python(value)


class IdField(serializers.IntegerField):
    """A serializer field for an id: a JSON integer or a string of ASCII digits, 1..2^63-1
    (documented as an integer with those bounds)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, str):
            data = data.strip()
        if isinstance(data, bool) or not isinstance(data, int | str):
            self.fail("invalid")
        if isinstance(data, str) and not (data.isascii() and data.isdigit()):
            self.fail("invalid")
        return super().to_internal_value(data)
