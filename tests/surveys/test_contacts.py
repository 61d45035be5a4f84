"""Contacts: upsert/read through the API, CSV import (per-row errors, nothing half-imported),
export of everything held, and erasure proven by searching every table afterwards."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import models
from django.db.models import Q, Sum

from feedback.answering.models import Feedback, Response
from feedback.answering.services import feedback_submit
from feedback.cases.models import Case
from feedback.topics.models import Topic
from feedback.webhooks.models import WebhookDelivery
from feedback.webhooks.services import webhook_endpoint_create
from metrics.rollups.models import Rollup
from surveys.contacts.models import Contact
from surveys.contacts.services import contact_erase
from surveys.delivery.events import EventIn, event_record

pytestmark = pytest.mark.django_db


def test_put_creates_then_updates_and_get_reads(server_client, project):
    url = "/api/v1/contacts/cust-9"
    created = server_client.put(
        url, {"email": "c9@example.com", "attributes": {"plan": "pro"}}, format="json"
    )
    assert created.status_code == 201
    updated = server_client.put(url, {"attributes": {"region": "eu"}}, format="json")
    assert updated.status_code == 200
    body = server_client.get(url).json()["contact"]
    assert (body["email"], body["attributes"]) == (
        "c9@example.com",
        {"plan": "pro", "region": "eu"},
    )
    assert server_client.get("/api/v1/contacts/nobody").status_code == 404
    bad = server_client.put(url, {"email": "not-an-email"}, format="json")
    assert bad.status_code == 400 and "email" in bad.json()["error"]["fields"]


def _upload(client, text: str):
    return client.post(
        "/api/v1/contacts/import",
        {"file": SimpleUploadedFile("contacts.csv", text.encode("utf-8"))},
        format="multipart",
    )


def test_csv_import_is_all_or_nothing_with_row_errors(server_client, project):
    Contact.objects.create(project=project, user_id="u-1", email="old@example.com")
    bad = _upload(
        server_client,
        "user_id,email,plan\nu-1,new@example.com,pro\n,x@example.com,free\nu-3,not-mail,pro\nu-1,a@b.co,pro\n",
    )
    assert bad.status_code == 400
    assert bad.json()["error"]["fields"]["rows"] == [
        "Row 3: user_id: 1 to 200 characters.",
        "Row 4: email: Enter a valid e-mail address.",
        "Row 5: user_id: Also on row 2.",
    ]
    assert Contact.objects.get(user_id="u-1").email == "old@example.com"  # nothing imported
    assert Contact.objects.filter(project=project).count() == 1
    good = _upload(
        server_client, "\ufeffuser_id,email,plan\nu-1,new@example.com,pro\nu-2,two@example.com,\n"
    )
    assert good.json() == {"created": 1, "updated": 1}
    assert Contact.objects.get(user_id="u-1").attributes == {"plan": "pro"}
    assert Contact.objects.get(user_id="u-2").email == "two@example.com"
    assert _upload(server_client, "email\nx@example.com\n").json()["error"]["fields"] == {
        "file": ["No user_id column."]
    }


def test_csv_import_refuses_unknown_language_codes(server_client, project):
    """A contact's language picks their texts: a code no one knows would silently fall back."""
    bad = _upload(
        server_client,
        "user_id,language\nu-1,zh-Hans\nu-2,english\nu-3,xx\nu-4,pt_BR\nu-5,\n",
    )
    assert bad.status_code == 400
    assert bad.json()["error"]["fields"]["rows"] == [
        "Row 3: language: “english” is not a language code: use one such as en, zh or pt-BR.",
        "Row 4: language: “xx” is not a language code: use one such as en, zh or pt-BR.",
    ]
    assert Contact.objects.filter(project=project).count() == 0
    good = _upload(server_client, "user_id,language\nu-1,zh-Hans\nu-4,pt_BR\n")
    assert good.json() == {"created": 2, "updated": 0}
    assert sorted(Contact.objects.values_list("language", flat=True)) == ["pt_BR", "zh-Hans"]


MARKERS = ("erase-me-7f3a", "erase.me@example.com", "+44 20 7946 0958", "MY SECRET COMPLAINT QX9")


@pytest.fixture
def person(project, respond, django_capture_on_commit_callbacks):
    """A customer who left a detractor answer (case, tags, webhook), feedback and events."""
    webhook_endpoint_create(
        project=project,
        url="https://hooks.example/in",
        events=["response.finished", "case.created", "feedback.created"],
    )
    Topic.objects.create(project=project, name="Secrets", keywords=["secret"])
    response = respond(1, text=f"{MARKERS[3]} my secret", user=MARKERS[0])
    contact = Contact.objects.get(user_id=MARKERS[0])
    contact.email, contact.phone = MARKERS[1], MARKERS[2]
    contact.attributes = {"plan": "pro", "nickname": MARKERS[0]}
    contact.save()
    with django_capture_on_commit_callbacks(execute=True):
        feedback_submit(
            project=project,
            contact=contact,
            submission_id=__import__("uuid").uuid4(),
            text=f"Feedback tab: {MARKERS[3]}",
            rating=1,
        )
    event_record(
        project=project,
        data=EventIn(
            event="order_placed",
            user_id=MARKERS[0],
            revenue=Decimal("30"),
            properties={"email": MARKERS[1]},
        ),
    )
    case = Case.objects.get(response=response)
    case.events.create(kind="note", note=f"Called {MARKERS[2]} about {MARKERS[3]}")
    return contact, response


def test_export_holds_everything_about_the_person(server_client, person):
    body = server_client.get(f"/api/v1/contacts/{MARKERS[0]}").json()
    assert body["contact"]["email"] == MARKERS[1]
    assert body["responses"][0]["answers"][1]["text"] == f"{MARKERS[3]} my secret"
    assert body["feedback"][0]["text"] == f"Feedback tab: {MARKERS[3]}"
    assert body["events"][0]["revenue"] == "30.00"
    assert any(MARKERS[3] in e["note"] for c in body["cases"] for e in c["events"])


def _hits(marker: str) -> list[str]:
    """Every row in every table whose text or JSON columns contain the marker."""
    found = []
    for model in apps.get_models():
        fields = [
            f.name
            for f in model._meta.get_fields()
            if isinstance(f, models.CharField | models.TextField | models.JSONField)
            and not f.is_relation
        ]
        if not fields:
            continue
        query = Q()
        for name in fields:
            query |= Q(**{f"{name}__icontains": marker})
        try:
            count = model.objects.filter(query).count()
        except Exception:
            count = sum(marker in json.dumps(v, default=str) for v in model.objects.values(*fields))
        if count:
            found.append(f"{model._meta.label} ({count})")
    return found


def test_erase_removes_personal_data_everywhere_and_keeps_counts(server_client, project, person):
    contact, response = person
    totals = Rollup.objects.filter(project=project).aggregate(n=Sum("count"))["n"]
    assert WebhookDelivery.objects.filter(endpoint__project=project).exists()
    for marker in MARKERS:
        assert _hits(marker), marker  # the markers really are stored before erasure
    assert server_client.delete(f"/api/v1/contacts/{MARKERS[0]}").status_code == 204
    for marker in MARKERS:
        assert _hits(marker) == [], marker
    assert Rollup.objects.filter(project=project).aggregate(n=Sum("count"))["n"] == totals
    response.refresh_from_db()
    assert response.finished and response.answers.get(question_type="nps").value_int == 1
    contact.refresh_from_db()
    assert contact.erased_at is not None and contact.user_id is None
    assert Feedback.objects.get(project=project).text == ""
    assert server_client.get(f"/api/v1/contacts/{MARKERS[0]}").status_code == 404
    assert Response.objects.filter(project=project).count() == 1
    contact_erase(contact=contact)  # erasing twice is harmless
