"""The audit log is append-only: entries are added by the services, and nobody changes or
deletes them — not from code (save on a stored entry, queryset update or delete), not from
Django's admin (no add, change or delete permission, superusers included). Deleting a project
still takes its entries with it; deleting a user keeps who it was."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from surveys.tenancy.models import AuditEntry, AuditLogIsAppendOnly, Project
from surveys.tenancy.services import api_key_create
from tests.factories import MembershipFactory, ProjectFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def entry(project) -> AuditEntry:
    boss = UserFactory(username="boss")
    MembershipFactory(user=boss, project=project, role="admin")
    api_key_create(project=project, name="backend", created_by=boss)
    return AuditEntry.objects.get(project=project, action="api_key.created")


def test_an_entry_names_its_actor_and_cannot_be_saved_again(entry):
    assert (entry.actor.username, entry.actor_label) == ("boss", "boss")
    entry.action = "api_key.forged"
    with pytest.raises(AuditLogIsAppendOnly, match="cannot be changed"):
        entry.save()
    with pytest.raises(AuditLogIsAppendOnly, match="cannot be deleted"):
        entry.delete()
    assert AuditEntry.objects.get(pk=entry.pk).action == "api_key.created"


def test_querysets_cannot_update_or_delete_entries(entry):
    entries = AuditEntry.objects.filter(pk=entry.pk)
    with pytest.raises(AuditLogIsAppendOnly):
        entries.update(action="api_key.forged")
    with pytest.raises(AuditLogIsAppendOnly):
        entries.delete()
    with pytest.raises(AuditLogIsAppendOnly):
        AuditEntry.objects.all().delete()
    with pytest.raises(AuditLogIsAppendOnly):
        AuditEntry.objects.bulk_update([entry], ["action"])
    assert list(AuditEntry.objects.values_list("action", flat=True)) == ["api_key.created"]


def test_deleting_a_project_takes_its_entries_and_leaves_the_others(entry, project):
    other = ProjectFactory()
    api_key_create(project=other)
    project.delete()
    assert not Project.objects.filter(pk=project.pk).exists()
    assert list(AuditEntry.objects.values_list("project_id", "action")) == [
        (other.pk, "api_key.created")
    ]


def test_deleting_a_user_keeps_who_it_was(entry):
    get_user_model().objects.filter(username="boss").delete()
    stored = AuditEntry.objects.get(pk=entry.pk)
    assert (stored.actor, stored.actor_label, stored.action) == (
        None,
        "boss",
        "api_key.created",
    )


def test_the_admin_shows_entries_and_changes_none(entry, admin_client):
    changelist = admin_client.get(reverse("admin:surveys_auditentry_changelist"))
    assert changelist.status_code == 200
    html = changelist.content.decode()
    assert "api_key.created" in html
    assert "delete_selected" not in html  # no bulk delete action
    change_url = reverse("admin:surveys_auditentry_change", args=[entry.pk])
    page = admin_client.get(change_url)
    assert page.status_code == 200
    assert 'name="action"' not in page.content.decode()  # read-only, no input
    assert admin_client.post(change_url, {"action": "api_key.forged"}).status_code == 403
    assert admin_client.get(reverse("admin:surveys_auditentry_add")).status_code == 403
    delete_url = reverse("admin:surveys_auditentry_delete", args=[entry.pk])
    assert admin_client.post(delete_url, {"post": "yes"}).status_code == 403
    bulk = admin_client.post(
        reverse("admin:surveys_auditentry_changelist"),
        {"action": "delete_selected", "_selected_action": [entry.pk], "post": "yes"},
    )
    assert bulk.status_code in (200, 302)
    assert AuditEntry.objects.get(pk=entry.pk).action == "api_key.created"


def test_a_project_is_still_deleted_from_the_admin(entry, project, admin_client):
    url = reverse("admin:surveys_project_delete", args=[project.pk])
    confirm = admin_client.get(url)
    assert confirm.status_code == 200
    assert "doesn’t have permission" not in confirm.content.decode()
    assert admin_client.post(url, {"post": "yes"}).status_code == 302
    assert not Project.objects.filter(pk=project.pk).exists()
    assert not AuditEntry.objects.exists()
