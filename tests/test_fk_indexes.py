"""Every foreign key is indexed exactly once: by its own index, or as the leading column of a
composite index or unique constraint (see the note in surveys/models.py for why a duplicate
single-column index is refused)."""

from django.apps import apps
from django.db import models
from django.db.models import Q

OUR_APPS = ("surveys", "feedback", "metrics")


def _leading_indexes(model) -> dict[str, list[str]]:
    """field name -> names of the composite indexes/unique constraints that start with it and
    serve every `field = value` lookup (no condition, or only `field IS NOT NULL`)."""
    leading: dict[str, list[str]] = {}
    candidates = [(ix.name, list(ix.fields), ix.condition) for ix in model._meta.indexes]
    candidates += [
        (c.name, list(c.fields), c.condition)
        for c in model._meta.constraints
        if isinstance(c, models.UniqueConstraint) and c.fields
    ]
    for name, fields, condition in candidates:
        first = fields[0].lstrip("-")
        if len(fields) < 2:
            continue
        if condition is None or condition == Q(**{f"{first}__isnull": False}):
            leading.setdefault(first, []).append(name)
    return leading


def _foreign_keys():
    for app in OUR_APPS:
        for model in apps.get_app_config(app).get_models():
            leading = _leading_indexes(model)
            for field in model._meta.fields:
                if isinstance(field, models.ForeignKey):
                    yield f"{model.__name__}.{field.name}", field.db_index, leading.get(field.name)


def test_no_foreign_key_has_an_index_duplicating_a_composite_prefix():
    duplicated = [name for name, own, composite in _foreign_keys() if own and composite]
    assert duplicated == []


def test_every_foreign_key_without_its_own_index_leads_a_composite():
    unindexed = [name for name, own, composite in _foreign_keys() if not own and not composite]
    assert unindexed == []


def test_the_checks_see_the_keys_they_are_about():
    keys = {name: (own, composite) for name, own, composite in _foreign_keys()}
    assert keys["VisitorId.project"] == (False, ["visitor_id_unique"])
    assert keys["VisitorId.contact"] == (True, None)
    assert keys["Answer.response"] == (False, ["answer_once"])
