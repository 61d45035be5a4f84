"""The admins' contacts page: search, CSV import with every row's problem shown (nothing
written), export download, erasure (audited without personal data), admins only."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from surveys.contacts.models import Contact
from surveys.tenancy.models import AuditEntry
from tests.factories import ContactFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


def login(project, role: str) -> Client:
    user = UserFactory(username=f"{role}-user")
    MembershipFactory(user=user, project=project, role=role)
    client = Client()
    client.force_login(user)
    return client


def _csv(text: str) -> dict:
    return {"file": SimpleUploadedFile("contacts.csv", text.encode())}


def test_import_shows_row_problems_then_imports_a_clean_file(project):
    client = login(project, "admin")
    reply = client.post(
        "/app/contacts/import/", _csv("user_id,email\nok-1,a@b.co\nok-2,nope\n"), follow=True
    )
    html = reply.content.decode()
    assert "1 problem in the file; nothing was imported." in html
    assert "<li>Row 3: email: Enter a valid e-mail address.</li>" in html
    assert not Contact.objects.filter(project=project).exists()
    reply = client.post(
        "/app/contacts/import/", _csv("user_id,email,plan\nok-1,a@b.co,pro\n"), follow=True
    )
    assert "Imported: 1 new contact, 0 contacts updated." in reply.content.decode()
    assert Contact.objects.get(project=project, user_id="ok-1").attributes == {"plan": "pro"}


def test_import_row_problems_are_in_the_admins_language(project):
    client = login(project, "admin")
    reply = client.post(
        "/app/contacts/import/",
        _csv("user_id,email\n,x@example.com\nu-2,a,b\nu-3,\nu-3,\n"),
        follow=True,
        HTTP_ACCEPT_LANGUAGE="zh-CN",
    )
    html = reply.content.decode()
    for problem in (
        "第 2 行：user_id：1 到 200 个字符。",
        "第 3 行：值的数量多于列数。",
        "第 5 行：user_id：第 4 行也有。",
    ):
        assert f"<li>{problem}</li>" in html
    assert not Contact.objects.filter(project=project).exists()


def test_search_export_and_erase(project):
    ann = ContactFactory(project=project, user_id="ann-77", email="ann@shop.example")
    ContactFactory(project=project, user_id="bob-12", email="bob@shop.example")
    client = login(project, "admin")
    html = client.get("/app/contacts/?q=ann").content.decode()
    assert "ann-77" in html and "bob-12" not in html
    export = client.get(f"/app/contacts/{ann.pk}/export/")
    assert export["Content-Disposition"] == f'attachment; filename="contact-{ann.pk}.json"'
    assert json.loads(export.content)["contact"]["email"] == "ann@shop.example"
    client.post(f"/app/contacts/{ann.pk}/erase/")
    ann.refresh_from_db()
    assert (ann.user_id, ann.email, ann.erased_at is not None) == (None, "", True)
    entry = AuditEntry.objects.get(project=project, action="contact.erased")
    assert entry.object_repr == f"anonymous #{ann.pk}" and entry.actor.username == "admin-user"
    assert "ann" not in json.dumps([entry.before, entry.after, entry.object_repr])


def test_only_admins(project):
    contact = ContactFactory(project=project, user_id="x-1")
    for role in ("designer", "agent", "viewer"):
        client = login(project, role)
        assert client.get("/app/contacts/").status_code == 403
        assert client.post(f"/app/contacts/{contact.pk}/erase/").status_code == 403
    contact.refresh_from_db()
    assert contact.user_id == "x-1"
