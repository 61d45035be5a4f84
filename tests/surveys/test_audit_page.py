"""The audit log page reads as words: each entry's action, then every changed field as
"Field: before → after" with coded values (roles, statuses, yes/no, user ids) in words — for
every kind of entry the code writes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.test import Client

from surveys.tenancy.audit_words import ACTION_WORDS
from surveys.tenancy.models import Membership
from surveys.tenancy.services import audit_record
from tests.factories import MembershipFactory, ProjectFactory, UserFactory

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def admin(project):
    user = UserFactory(username="boss")
    MembershipFactory(user=user, project=project, role="admin")
    client = Client()
    client.force_login(user)
    return client


def change(label: str, before: str, after: str) -> str:
    return (
        f'<span class="fw-semibold">{label}</span>: '
        f'<span class="audit-before">{before}</span> → <span class="audit-after">{after}</span>'
    )


def test_a_role_change_and_a_removal_read_as_words(admin, project):
    agent = UserFactory(username="ana")
    membership = MembershipFactory(user=agent, project=project, role="agent")
    admin.post(f"/app/settings/members/{membership.pk}/", {"role": "designer"})
    admin.post(f"/app/settings/members/{membership.pk}/", {"remove": "1"})
    html = admin.get("/app/audit/").content.decode()
    assert '<strong title="membership.updated">Member&#x27;s role changed</strong>' in html
    assert change("Role", "Agent", "Designer") in html
    assert '<strong title="membership.deleted">Member removed</strong>' in html
    assert '<span class="fw-semibold">User</span>: ana</li>' in html
    assert not Membership.objects.filter(pk=membership.pk).exists()


def test_a_team_names_its_lead_and_members(admin, project):
    ana, bo = UserFactory(username="ana"), UserFactory(username="bo")
    for user in (ana, bo):
        MembershipFactory(user=user, project=project, role="agent")
    admin.post("/app/settings/teams/", {"name": "Care", "members": [ana.pk], "lead": ana.pk})
    team_id = project.teams.get().pk
    admin.post(
        f"/app/settings/teams/{team_id}/",
        {"name": "Care", "members": [ana.pk, bo.pk], "lead": bo.pk},
    )
    html = admin.get("/app/audit/").content.decode()
    assert '<strong title="team.created">Team created</strong>' in html
    assert '<span class="fw-semibold">Members</span>: ana</li>' in html
    assert change("Lead", "ana", "bo") in html
    assert change("Members", "ana", "ana, bo") in html


def test_yes_no_lists_and_nothing_read_as_words(admin, project):
    audit_record(
        project=project,
        action="alert_rule.updated",
        obj=project,
        before={"is_active": True, "keywords": ["refund"], "sla_hours": None, "name": "Same"},
        after={"is_active": False, "keywords": ["refund", "late"], "sla_hours": 4, "name": "Same"},
    )
    html = admin.get("/app/audit/").content.decode()
    assert '<strong title="alert_rule.updated">Alert rule changed</strong>' in html
    assert change("Active", "no", "yes") not in html
    assert change("Active", "yes", "no") in html
    assert change("Keywords", "refund", "refund, late") in html
    assert change("SLA (hours)", "—", "4") in html
    assert 'title="name"' not in html  # unchanged fields are not listed


def test_a_structured_value_reads_key_by_key(admin, project):
    audit_record(
        project=project,
        action="survey.updated",
        obj=project,
        before={"thank_you": {"en": "Thanks!"}},
        after={"thank_you": {"en": "Thanks!", "zh": "谢谢！"}},
    )
    html = admin.get("/app/audit/").content.decode()
    assert (
        change("Thank-you message", "English: Thanks!", "English: Thanks!; Chinese: 谢谢！") in html
    )


def test_the_kind_filter_names_kinds_in_words(admin, project):
    admin.post("/app/settings/keys/", {"name": "ci"})
    html = admin.get("/app/audit/").content.decode()
    assert '<option value="ApiKey">Secret API key</option>' in html
    assert '<strong title="api_key.created">Secret API key created</strong>' in html


def test_another_projects_entries_are_not_shown(admin, project):
    other = ProjectFactory(name="Other shop")
    audit_record(project=other, action="project.updated", obj=other, before={"name": "X"})
    html = admin.get("/app/audit/").content.decode()
    assert "Other shop" not in html and "Nothing recorded yet." in html


def test_every_action_the_code_writes_has_words():
    """Every `audit_record(action=...)` in the apps, and the survey status actions."""
    source = "\n".join(
        path.read_text()
        for app in ("surveys", "feedback", "metrics")
        for path in (ROOT / app).rglob("*.py")
        if "migrations" not in path.parts
    )
    written = set(re.findall(r'action="([a-z_]+\.[a-z_]+)"', source))
    for either in re.findall(r'action="([a-z_.]+)" if [^\n]* else "([a-z_.]+)"', source):
        written |= set(either)
    written |= {"survey.pause", "survey.resume", "survey.close"}  # action=f"survey.{action}"
    assert len(written) >= 30
    assert written <= set(ACTION_WORDS)
