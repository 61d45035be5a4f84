"""vocsite.row_insert and row_select: the cached INSERT writes exactly what
Model.objects.create would, the cached SELECT reads exactly what a queryset would."""

import uuid
from datetime import UTC, datetime

import pytest
from django.db import IntegrityError, connection
from django.forms.models import model_to_dict

from feedback.answering.models import Answer, Response
from surveys.contacts.models import Contact
from surveys.delivery.models import Decision, Display
from tests.factories import ContactFactory, ProjectFactory, TouchpointFactory, published_survey
from vocsite.row_insert import copy_rows, insert_row, insert_rows, update_row
from vocsite.row_select import select_rows


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

    insert_row(Decision(project=project, contact=contact, reason="sampled_out", created_at=at))
    decision = Decision.objects.get()
    assert (decision.reason, decision.contact_id, decision.created_at) == (
        "sampled_out",
        contact.pk,
        at,
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
    first = insert_row(Decision(project=project, reason="no_survey"), returning_pk=True)
    second = insert_row(Decision(project=project, reason="sampled_out"), returning_pk=True)
    assert second.pk == first.pk + 1
    assert Decision.objects.get(pk=second.pk).reason == "sampled_out"


def test_insert_rows_stores_several_rows_in_one_statement(db, django_assert_num_queries):
    project = ProjectFactory()
    contact = ContactFactory(project=project)
    at = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
    rows = [
        Decision(project=project, contact=contact, reason=reason, created_at=at)
        for reason in ("sampled_out", "global_cooldown", "shown")
    ]
    with django_assert_num_queries(1):
        insert_rows(rows)
    assert sorted(Decision.objects.values_list("reason", "contact_id", "created_at")) == [
        ("global_cooldown", contact.pk, at),
        ("sampled_out", contact.pk, at),
        ("shown", contact.pk, at),
    ]
    assert not any(row._state.adding for row in rows)
    with django_assert_num_queries(0):
        insert_rows([])


def _columns(instance) -> dict:
    """Every column's value, primary key and timestamps included (model_to_dict skips the
    fields that are not editable)."""
    return {f.attname: getattr(instance, f.attname) for f in type(instance)._meta.concrete_fields}


@pytest.mark.parametrize("write", [insert_rows, copy_rows])
def test_fast_writes_store_the_same_answers_as_bulk_create(db, write):
    """The answer path's INSERT and the COPY of a batch: NULL and JSON values, auto_now, the
    foreign keys."""
    project = ProjectFactory()
    survey = published_survey(project, touchpoints=[TouchpointFactory(project=project)])
    questions = list(survey.current_version.questions.order_by("position"))
    display = insert_row(
        Display(
            id=uuid.uuid4(),
            project=project,
            contact=ContactFactory(project=project),
            survey=survey,
            version=survey.current_version,
            claimed_at=datetime(2026, 11, 26, 9, 0, tzinfo=UTC),
        )
    )

    def answers(submission: uuid.UUID) -> list[Answer]:
        response = Response.objects.create(
            project=project,
            survey=survey,
            version=survey.current_version,
            display=display if submission.int % 2 else None,
            submission_id=submission,
        )
        return [
            Answer(response=response, question=questions[0], question_type="nps", value_int=9),
            Answer(
                response=response,
                question=questions[1],
                question_type="text",
                value_text="Fast delivery",
                value_choices=None,
            ),
        ]

    fast, slow = answers(uuid.UUID(int=1)), answers(uuid.UUID(int=2))
    write(fast)
    Answer.objects.bulk_create(slow)

    def stored(rows):
        ignore = ("id", "response_id", "answered_at")
        return [
            {k: v for k, v in _columns(answer).items() if k not in ignore}
            for answer in Answer.objects.filter(response=rows[0].response).order_by("question_id")
        ]

    assert stored(fast) == stored(slow)
    assert stored(fast)[1]["value_choices"] is None
    assert Answer.objects.filter(response=fast[0].response, value_choices__isnull=True).count() == 2
    assert all(a.answered_at is not None for a in Answer.objects.filter(response=fast[0].response))


def test_copy_rows_stores_a_batch(db):
    project = ProjectFactory()
    contact = ContactFactory(project=project)
    at = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
    rows = [
        Decision(
            project=project, contact=contact if n % 2 else None, reason="sampled_out", created_at=at
        )
        for n in range(250)
    ]
    copy_rows(rows)  # on PostgreSQL a COPY, which Django's query log does not see
    assert (
        Decision.objects.filter(project=project, created_at=at, reason="sampled_out").count() == 250
    )
    assert Decision.objects.filter(contact=contact).count() == 125
    assert not any(row._state.adding for row in rows)
    copy_rows([])
    assert Decision.objects.count() == 250


def test_copy_rows_refuses_the_whole_batch_when_one_row_breaks_a_constraint(transactional_db):
    """The decision log relies on this to fall back to row-by-row writes."""
    project = ProjectFactory()
    rows = [
        Decision(project=project, reason="no_survey"),
        Decision(project=project, contact_id=999_999, reason="no_survey"),
    ]
    with pytest.raises(IntegrityError):
        copy_rows(rows)
    assert Decision.objects.count() == 0


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
