"""vocsite.sql's row helpers: the cached INSERT writes exactly what
Model.objects.create would, the cached SELECT reads exactly what a queryset would."""

import uuid
from datetime import UTC, datetime

from django.db import connection
from django.forms.models import model_to_dict

from surveys.contacts.models import Contact, OperationalEvent
from surveys.delivery.models import Display
from tests.factories import ContactFactory, ProjectFactory, TouchpointFactory, published_survey
from vocsite.sql import insert_row, select_rows, update_row


def test_insert_row_stores_the_same_row_as_create(db):
    project = ProjectFactory()
    touchpoint = TouchpointFactory(project=project, key="checkout")
    survey = published_survey(project, touchpoints=[touchpoint])
    contact = ContactFactory(project=project)
    at = datetime(2026, 11, 26, 8, 30, 15, 123456, tzinfo=UTC)
    fields = dict(
        project=project,
        contact=contact,
        survey=survey,
        version=survey.current_version,
        touchpoint=touchpoint,
        language="zh",
        url="https://shop.example/checkout?step=2",
        claimed_at=at,
        created_at=at,
    )
    fast = insert_row(Display(id=uuid.uuid4(), **fields))
    slow = Display.objects.create(id=uuid.uuid4(), **fields)

    stored = Display.objects.get(pk=fast.pk)
    assert not fast._state.adding
    ignore = ("id", "updated_at")
    assert {k: v for k, v in model_to_dict(stored).items() if k not in ignore} == {
        k: v for k, v in model_to_dict(Display.objects.get(pk=slow.pk)).items() if k not in ignore
    }
    assert (stored.status, stored.channel, stored.claimed_at) == ("claimed", "widget", at)
    assert stored.updated_at is not None  # auto_now ran (pre_save)

    insert_row(OperationalEvent(project=project, contact=contact, event="paid", occurred_at=at))
    event = OperationalEvent.objects.get()
    assert (event.event, event.contact_id, event.occurred_at, event.properties) == (
        "paid",
        contact.pk,
        at,
        {},
    )


def test_update_row_writes_only_the_named_columns(db):
    project = ProjectFactory()
    contact = ContactFactory(project=project, language="en", attributes={"plan": "pro"})
    contact.language, contact.attributes = "zh", {"plan": "free"}
    assert update_row(contact, ["language"]) == 1
    contact.refresh_from_db()
    assert (contact.language, contact.attributes) == ("zh", {"plan": "pro"})


def test_insert_row_can_read_back_the_auto_primary_key(db):
    project = ProjectFactory()
    at = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
    first = insert_row(
        OperationalEvent(project=project, event="a", occurred_at=at), returning_pk=True
    )
    second = insert_row(
        OperationalEvent(project=project, event="b", occurred_at=at), returning_pk=True
    )
    assert second.pk == first.pk + 1
    assert OperationalEvent.objects.get(pk=second.pk).event == "b"


def _columns(instance) -> dict:
    """Every column's value, primary key and timestamps included (model_to_dict skips the
    fields that are not editable)."""
    return {f.attname: getattr(instance, f.attname) for f in type(instance)._meta.concrete_fields}


def test_select_rows_reads_the_same_instances_as_the_orm(db):
    """Every column converted as a queryset converts it: UUID, JSON, datetimes, nulls."""
    project = ProjectFactory()
    touchpoint = TouchpointFactory(project=project, key="checkout")
    survey = published_survey(project, touchpoints=[touchpoint])
    contact = ContactFactory(project=project, attributes={"plan": "pro", "seats": 3})
    at = datetime(2026, 11, 26, 8, 30, 15, 123456, tzinfo=UTC)
    display = insert_row(
        Display(
            id=uuid.uuid4(),
            project=project,
            contact=contact,
            survey=survey,
            version=survey.current_version,
            touchpoint=touchpoint,
            claimed_at=at,
            created_at=at,
        )
    )
    (fast,) = select_rows(
        Display, "id = %s", [Display._meta.pk.get_db_prep_value(display.pk, connection)]
    )
    orm = Display.objects.get(pk=display.pk)
    assert _columns(fast) == _columns(orm)
    assert (fast.pk, fast.claimed_at, fast.shown_at, fast._state.adding) == (
        display.pk,
        at,
        None,
        False,
    )
    (read,) = select_rows(Contact, "id = %s", [contact.pk])
    assert read.attributes == {"plan": "pro", "seats": 3}
    assert _columns(read) == _columns(Contact.objects.get(pk=contact.pk))
    assert select_rows(Contact, "id = %s", [contact.pk + 1000]) == []
