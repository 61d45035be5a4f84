"""Data retention per project (issue 29 item 2): raw answers, displays and sent e-mail
invitations older than the project's retention are deleted in bounded batches, while the
rollups, and so every dashboard figure, keep the whole history — even after a rebuild."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from io import StringIO

import pytest
import time_machine
from celery import current_app
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from feedback.answering.models import Answer, Response
from feedback.answering.pipeline import responses_process
from feedback.cases.models import Case
from metrics.rollups.models import Rollup
from metrics.rollups.services import rollups_rebuild
from surveys.delivery.email_surveys import invitation_send
from surveys.delivery.events import EventIn, event_record
from surveys.delivery.models import Display, Invitation
from surveys.tenancy.models import AuditEntry
from surveys.tenancy.project_settings import project_update
from surveys.tenancy.retention import months_before, retention_apply
from tests.factories import (
    ContactFactory,
    MembershipFactory,
    ProjectFactory,
    TouchpointFactory,
    UserFactory,
    answered,
    published_survey,
)
from vocsite.errors import ApplicationError

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
# Six months before NOW: raw rows before 4 June 2026 (UTC) go.
OLD = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
NEW = datetime(2026, 7, 1, 9, 0, tzinfo=UTC)


def respond_at(respond, moment: datetime, score: int, **options) -> Response:
    with time_machine.travel(moment, tick=False):
        return respond(score, **options)


def unprocessed_at(survey, moment: datetime, score: int) -> Response:
    """A finished answer whose processing (rollup and steps) has not run yet."""
    with time_machine.travel(moment, tick=False):
        return answered(survey, score, user_id="late", processed=False)


def apply(**options):
    with time_machine.travel(NOW, tick=False):
        return retention_apply(**options)


def cells(project) -> list[tuple]:
    return sorted(
        Rollup.objects.filter(project=project).values_list(
            "question_type", "breakdown_attribute", "breakdown_value", "day", "score", "count"
        )
    )


def nps_between(client, since: str, until: str) -> tuple[int, float]:
    """The executive dashboard's NPS figure (n, score) for a period."""
    with time_machine.travel(NOW, tick=False):
        page = client.get("/app/dashboards/", {"since": since, "until": until})
    total = page.context["reports"]["nps"]["total"]
    return total["n"], total["score"]


@pytest.fixture
def admin(project):
    user = UserFactory(username="keeper")
    MembershipFactory(user=user, project=project, role="admin")
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def other_project():
    """A second project with old answers and no retention."""
    other = ProjectFactory(recontact_days=0, frequency_cap=10_000)
    survey = published_survey(
        other,
        touchpoints=[TouchpointFactory(project=other, key="checkout_completed")],
        display_option="always",
        recontact_days=0,
    )
    for score in (10, 0):
        with time_machine.travel(OLD, tick=False):
            answered(survey, score, user_id=f"o{score}")
    return other


def test_months_before_keeps_the_day_or_the_months_last():
    assert months_before(date(2026, 12, 4), 6) == date(2026, 6, 4)
    assert months_before(date(2026, 3, 31), 1) == date(2026, 2, 28)
    assert months_before(date(2026, 1, 15), 120) == date(2016, 1, 15)


def test_old_rows_go_new_and_unprocessed_stay_other_projects_untouched(
    project, survey, respond, other_project, admin
):
    project_update(project=project, retention_months=6)
    old = [respond_at(respond, OLD, score, user=f"u{score}") for score in (10, 9, 3)]
    late = unprocessed_at(survey, OLD, 2)
    new = respond_at(respond, NEW, 8, user="u8")
    case = Case.objects.get(response=old[2])  # the detractor's case

    (run,) = apply()

    assert run.deleted == {"responses": 3, "invitations": 0, "displays": 4}
    assert (run.first_kept_day, run.cutoff, run.complete) == (
        date(2026, 6, 4),
        datetime(2026, 6, 4, tzinfo=UTC),
        True,
    )
    assert sorted(Response.objects.filter(project=project).values_list("pk", flat=True)) == [
        late.pk,
        new.pk,
    ]
    assert Answer.objects.filter(response__project=project).count() == 2
    assert list(Display.objects.filter(project=project).values_list("pk", flat=True)) == [
        new.display_id
    ]
    late.refresh_from_db()
    assert late.display_id is None  # its display was old: the response stays, unlinked
    case.refresh_from_db()
    assert (case.response_id, case.contact_id) == (None, old[2].contact_id)
    case_page = admin.get(f"/app/cases/{case.pk}/")
    assert (case_page.status_code, case_page.context["answers"]) == (200, [])
    inbox = admin.get("/app/inbox/")
    assert inbox.status_code == 200 and case.title in inbox.content.decode()
    project.refresh_from_db()
    assert project.raw_rows_kept_from == date(2026, 6, 4)
    settings_page = admin.get("/app/settings/").content.decode()
    assert "Raw answers and displays from before 2026-06-04 are deleted" in settings_page
    assert Response.objects.filter(project=other_project).count() == 2
    assert Display.objects.filter(project=other_project).count() == 2
    assert apply()[0].deleted == {"responses": 0, "invitations": 0, "displays": 0}


def test_rollups_and_the_dashboard_keep_the_history_even_after_a_rebuild(
    project, survey, respond, admin
):
    project_update(project=project, retention_months=6)
    for score in (10, 9, 3):
        respond_at(respond, OLD, score, user=f"u{score}", attributes={"plan": "pro"})
    respond_at(respond, NEW, 8, user="u8", attributes={"plan": "pro"})
    late = unprocessed_at(survey, OLD, 0)
    before = cells(project)
    assert nps_between(admin, "2026-03-01", "2026-03-31") == (3, 33.33)

    apply()

    assert Response.objects.filter(project=project).count() == 2
    assert cells(project) == before
    assert nps_between(admin, "2026-03-01", "2026-03-31") == (3, 33.33)
    assert nps_between(admin, "2026-07-01", "2026-07-31") == (1, 0.0)

    rollups_rebuild(project=project)  # what a timezone change or `rebuild_rollups` runs
    assert cells(project) == before
    assert nps_between(admin, "2026-03-01", "2026-03-31") == (3, 33.33)
    # The kept answer is counted into its old day when its processing runs, not by the rebuild.
    late.refresh_from_db()
    assert late.rolled_up_at is None
    assert responses_process([late.pk]) == 1
    assert nps_between(admin, "2026-03-01", "2026-03-31") == (4, 0.0)


def test_batches_are_bounded_and_a_spent_budget_leaves_the_rest_for_the_next_run(
    project, survey, respond
):
    project_update(project=project, retention_months=6)
    for index in range(5):
        respond_at(respond, OLD, 9, user=f"u{index}")

    (first,) = apply(batch_size=2, budget_seconds=0)
    assert (first.deleted, first.complete) == ({"responses": 2}, False)
    assert Response.objects.filter(project=project).count() == 3
    assert Display.objects.filter(project=project).count() == 5

    (second,) = apply(batch_size=2)
    assert (second.deleted, second.complete) == (
        {"responses": 3, "invitations": 0, "displays": 5},
        True,
    )
    assert Response.objects.filter(project=project).count() == 0


def test_sent_invitations_go_and_scheduled_ones_stay(project, touchpoint):
    project_update(project=project, retention_months=6)
    published_survey(project, touchpoints=[touchpoint], channels=["email"], delay_seconds=3600)
    for user in ("sent", "waiting"):
        ContactFactory(project=project, user_id=user, email=f"{user}@example.com")
    with time_machine.travel(OLD, tick=False):
        sent = event_record(
            project=project, data=EventIn(event="checkout_completed", user_id="sent")
        )
        waiting = event_record(
            project=project, data=EventIn(event="checkout_completed", user_id="waiting")
        )
    with time_machine.travel(datetime(2026, 3, 10, 11, 0, tzinfo=UTC), tick=False):
        assert invitation_send(str(sent.invitation_id)) == "sent"

    (run,) = apply()

    assert run.deleted == {"responses": 0, "invitations": 1, "displays": 1}
    assert list(Invitation.objects.values_list("pk", flat=True)) == [waiting.invitation_id]


def test_a_capped_survey_still_collecting_keeps_its_answers(project, survey, respond):
    project_update(project=project, retention_months=6)
    survey.response_cap = 100
    survey.save(update_fields=["response_cap"])
    respond_at(respond, OLD, 9)

    (run,) = apply()

    assert run.deleted == {"responses": 0, "invitations": 0, "displays": 1}
    assert Response.objects.filter(project=project).count() == 1


def test_projects_without_a_retention_keep_everything(project, survey, respond):
    respond_at(respond, OLD, 9)
    assert apply() == []
    assert Response.objects.filter(project=project).count() == 1


def test_the_command_prints_what_it_deletes_and_a_dry_run_deletes_nothing(project, survey, respond):
    project.name = "Shop"
    project.save(update_fields=["name"])
    project_update(project=project, retention_months=6)
    respond_at(respond, OLD, 9)
    out = StringIO()
    with time_machine.travel(NOW, tick=False):
        call_command("apply_retention", "--dry-run", stdout=out)
    line = (
        f"Project {project.pk} (Shop), 6 months: {{}} 1 responses, 0 invitations, 1 displays "
        "from before 2026-06-04 (UTC).\n"
    )
    assert out.getvalue() == line.format("would delete")
    assert Response.objects.filter(project=project).count() == 1

    out = StringIO()
    with time_machine.travel(NOW, tick=False):
        call_command("apply_retention", "--project", str(project.pk), stdout=out)
    assert out.getvalue() == line.format("deleted")
    assert Response.objects.filter(project=project).count() == 0


def test_the_command_refuses_a_project_without_retention(project):
    with pytest.raises(CommandError, match=f"Project {project.pk} has no retention"):
        call_command("apply_retention", "--project", str(project.pk))


@pytest.mark.parametrize("months", [0, 121, True, "6"])
def test_the_service_refuses_a_retention_out_of_range(project, months):
    with pytest.raises(ApplicationError) as refused:
        project_update(project=project, retention_months=months)
    assert refused.value.fields == {
        "retention_months": ["Empty (keep everything) or 1 to 120 months."]
    }
    project.refresh_from_db()
    assert project.retention_months is None


def _settings(project, retention: str) -> dict:
    return {
        "section": "settings",
        "name": project.name,
        "allowed_origins": "\n".join(project.allowed_origins),
        "languages": ", ".join(project.languages),
        "default_language": project.default_language,
        "recontact_days": project.recontact_days,
        "frequency_cap": project.frequency_cap,
        "frequency_window_days": project.frequency_window_days,
        "breakdown_attributes": "",
        "feedback_tab_enabled": "on",
        "identity_verification": "on" if project.identity_verification else "",
        "timezone": project.timezone,
        "retention_months": retention,
    }


def test_an_admin_sets_the_retention_in_settings_and_it_is_audited(admin, project):
    assert admin.post("/app/settings/", _settings(project, "24")).status_code == 302
    project.refresh_from_db()
    assert project.retention_months == 24
    entry = AuditEntry.objects.get(action="project.updated")
    assert (entry.before["retention_months"], entry.after["retention_months"]) == (None, 24)
    page = admin.get("/app/settings/").content.decode()
    assert 'name="retention_months" value="24"' in page
    audit = admin.get("/app/audit/").context["entries"][0]
    assert [(c.label, c.before, c.after) for c in audit.changes] == [
        ("Retention (months)", "—", "24")
    ]

    assert admin.post("/app/settings/", _settings(project, "")).status_code == 302
    project.refresh_from_db()
    assert project.retention_months is None


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("0", "Ensure this value is greater than or equal to 1."),
        ("121", "Ensure this value is less than or equal to 120."),
    ],
)
def test_settings_refuse_a_retention_out_of_range_beside_the_field(admin, project, value, message):
    reply = admin.post("/app/settings/", _settings(project, value))
    assert reply.status_code == 200
    assert reply.context["settings_form"].errors == {"retention_months": [message]}
    project.refresh_from_db()
    assert project.retention_months is None
    assert not AuditEntry.objects.filter(action="project.updated").exists()


@pytest.mark.parametrize("role", ["designer", "agent", "viewer"])
def test_only_admins_set_the_retention(project, role):
    user = UserFactory()
    MembershipFactory(user=user, project=project, role=role)
    client = Client()
    client.force_login(user)
    assert client.post("/app/settings/", _settings(project, "6")).status_code == 403
    project.refresh_from_db()
    assert project.retention_months is None


def test_an_admin_sets_only_their_own_projects_retention(admin, project):
    elsewhere = ProjectFactory()
    assert admin.post("/app/settings/", _settings(project, "12")).status_code == 302
    elsewhere.refresh_from_db()
    assert elsewhere.retention_months is None


def test_an_erasure_after_retention_recounts_only_the_kept_days(
    project, survey, respond, server_client
):
    project_update(project=project, retention_months=6)
    for score in (10, 9, 3):
        respond_at(respond, OLD, score, user=f"u{score}", attributes={"plan": "pro"})
    respond_at(respond, NEW, 8, user="u8", attributes={"plan": "pro"})
    apply()

    def pro(since: str, until: str) -> int:
        query = f"metric=nps&segment=plan:pro&since={since}&until={until}"
        with time_machine.travel(NOW, tick=False):
            return server_client.get(f"/api/v1/metrics?{query}").json()["total"]["n"]

    assert server_client.delete("/api/v1/contacts/u8").status_code == 204

    assert pro("2026-03-01", "2026-03-31") == 3  # their raw rows are gone; the cells stay
    assert pro("2026-07-01", "2026-07-31") == 0  # the erased person's kept answer moved
    assert sorted(
        Rollup.objects.filter(breakdown_attribute="plan").values_list(
            "day", "breakdown_value", "score", "count"
        )
    ) == [
        (date(2026, 3, 10), "pro", 3, 1),
        (date(2026, 3, 10), "pro", 9, 1),
        (date(2026, 3, 10), "pro", 10, 1),
        (date(2026, 7, 1), "(erased)", 8, 1),
    ]


def test_the_cut_off_is_midnight_in_the_projects_timezone(project, survey, respond):
    project_update(project=project, retention_months=6, timezone="Asia/Shanghai")
    # 4 June begins at 16:00 UTC on 3 June in Shanghai (UTC+8).
    gone = respond_at(respond, datetime(2026, 6, 3, 15, 59, tzinfo=UTC), 9, user="early")
    kept = respond_at(respond, datetime(2026, 6, 3, 16, 0, tzinfo=UTC), 9, user="late")

    (run,) = apply()

    assert run.cutoff == datetime(2026, 6, 3, 16, 0, tzinfo=UTC)
    assert run.deleted == {"responses": 1, "invitations": 0, "displays": 1}
    assert not Response.objects.filter(pk=gone.pk).exists()
    assert Response.objects.filter(pk=kept.pk).exists()


def test_the_daily_task_is_scheduled_and_runs_by_name(project, survey, respond, settings):
    entry = settings.CELERY_BEAT_SCHEDULE["apply-retention"]
    assert (entry["task"], entry["schedule"], entry["options"]) == (
        "surveys.tasks.apply_retention",
        timedelta(days=1),
        {"expires": 36 * 3600},
    )
    project_update(project=project, retention_months=6)
    respond_at(respond, OLD, 9)
    with time_machine.travel(NOW, tick=False):
        assert current_app.tasks["surveys.tasks.apply_retention"].apply().get() == 2
    assert Response.objects.filter(project=project).count() == 0
