"""The widget with the configuration caches on (vocsite.caches), as in production: what a warm
call no longer reads, a change made through the services seen by the next widget call in the
same process, and a change that bypasses them (another process, the admin) seen once the
entry is older than WIDGET_PROJECT_CACHE_SECONDS."""

import time
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from feedback.answering.models import Response
from feedback.cases.models import Case
from feedback.cases.services import alert_rules_install_defaults
from feedback.topics.models import Tag
from feedback.topics.services import TopicIn, topic_save
from surveys.design.models import Survey
from surveys.design.services import QuestionIn, survey_publish, survey_set_status, survey_update
from surveys.tenancy.project_settings import project_identity_secret_rotate, project_update
from tests.factories import published_survey, signed

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("caches_on")]

CONFIGURATION_TABLES = ("surveys_project", "surveys_touchpoint", "surveys_survey")


@pytest.fixture
def survey(project, touchpoint):
    """Shown to every visitor who asks, as often as asked."""
    project.recontact_days, project.frequency_cap = 0, 10_000
    project.save()
    return published_survey(
        project, touchpoints=[touchpoint], display_option="always", recontact_days=0
    )


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Run a service as a request would: its transaction commits, its on-commit work runs."""

    def run(service, **arguments):
        with django_capture_on_commit_callbacks(execute=True):
            return service(**arguments)

    return run


def decide(widget, project, visitor, **extra):
    body = {"key": project.public_key, "visitor_id": visitor, "touchpoint": "checkout_completed"}
    return widget.post("/api/widget/v1/decide", {**body, **extra}, format="json")


def answer(widget, project, shown, score, text=""):
    questions = shown["survey"]["questions"]
    answers = [{"question_id": questions[0]["id"], "value": score}]
    if text:
        answers.append({"question_id": questions[1]["id"], "value": text})
    return widget.post(
        "/api/widget/v1/responses",
        {
            "key": project.public_key,
            "display_id": shown["display_id"],
            "submission_id": str(uuid.uuid4()),
            "answers": answers,
            "finished": True,
        },
        format="json",
    )


def configuration_reads(queries) -> list[str]:
    return [table for q in queries for table in CONFIGURATION_TABLES if f'"{table}"' in q["sql"]]


def test_a_warm_decide_reads_no_configuration(widget, project, survey):
    with CaptureQueriesContext(connection) as cold:
        assert decide(widget, project, "v-1").json()["show"] is True
    with CaptureQueriesContext(connection) as warm:
        assert decide(widget, project, "v-2").json()["show"] is True
    assert configuration_reads(cold) == [
        "surveys_project",
        "surveys_touchpoint",
        "surveys_survey",
    ]
    assert configuration_reads(warm) == []
    assert len(cold) - len(warm) == 3


def test_an_origin_added_in_settings_is_allowed_by_the_next_call(
    widget, project, survey, committed
):
    widget.defaults["HTTP_ORIGIN"] = "https://new.example"
    assert decide(widget, project, "v-1").status_code == 403
    committed(
        project_update,
        project=project,
        allowed_origins=[*project.allowed_origins, "https://new.example"],
    )
    reply = decide(widget, project, "v-1")
    assert (reply.status_code, reply.json()["show"]) == (200, True)
    assert reply["Access-Control-Allow-Origin"] == "https://new.example"


def test_a_paused_survey_is_not_shown_by_the_next_decide_and_a_resumed_one_is(
    widget, project, survey, committed
):
    assert decide(widget, project, "v-1").json()["show"] is True
    committed(survey_set_status, survey=survey, action="pause")
    assert decide(widget, project, "v-2").json() == {"show": False, "reason": "no_survey"}
    committed(survey_set_status, survey=survey, action="resume")
    assert decide(widget, project, "v-3").json()["show"] is True


def test_a_new_version_is_served_and_answered_on_the_next_calls(widget, project, survey, committed):
    assert decide(widget, project, "v-1").json()["survey"]["version"] == 1
    committed(
        survey_update,
        survey=survey,
        questions=[
            QuestionIn(
                type="csat", text={"en": "How satisfied are you?"}, scale={"min": 1, "max": 5}
            )
        ],
    )
    committed(survey_publish, survey=survey)
    shown = decide(widget, project, "v-2").json()
    assert shown["survey"]["version"] == 2
    assert [(q["type"], q["text"]) for q in shown["survey"]["questions"]] == [
        ("csat", "How satisfied are you?")
    ]
    assert answer(widget, project, shown, 4).status_code == 201
    assert Response.objects.get().answers.get().value_int == 4


def test_a_rotated_identity_secret_refuses_the_old_hash_at_once(widget, project, survey, committed):
    old = signed(project, "cust-1")
    assert decide(widget, project, "v-1", **old).status_code == 200
    committed(project_identity_secret_rotate, project=project)
    project.refresh_from_db()
    refused = decide(widget, project, "v-1", **old)
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "identity_unverified")
    assert decide(widget, project, "v-1", **signed(project, "cust-1")).status_code == 200


def test_alert_rules_installed_open_a_case_for_the_next_answer(
    widget, project, survey, committed, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        answer(widget, project, decide(widget, project, "v-1").json(), 2)
    assert Case.objects.count() == 0  # no rules yet: the project's empty list is now kept
    committed(alert_rules_install_defaults, project=project)
    with django_capture_on_commit_callbacks(execute=True):
        answer(widget, project, decide(widget, project, "v-2").json(), 2)
    assert list(Case.objects.values_list("rule__name", flat=True)) == ["NPS detractor (0–6)"]


def test_an_alert_rule_created_on_the_staff_page_applies_to_the_next_answer(
    widget, project, survey, staff_user, client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        answer(widget, project, decide(widget, project, "v-1").json(), 5, "A refund, please")
    client.force_login(staff_user)
    with django_capture_on_commit_callbacks(execute=True):
        created = client.post(
            "/app/alert-rules/new/",
            {
                "name": "Refund mentions",
                "is_active": "on",
                "keywords_text": "refund",
                "priority": "urgent",
                "assignment": "none",
                "sla_hours": 4,
            },
        )
    assert created.status_code == 302
    assert Case.objects.count() == 0
    with django_capture_on_commit_callbacks(execute=True):
        answer(widget, project, decide(widget, project, "v-2").json(), 5, "A refund, please")
    assert list(Case.objects.values_list("rule__name", "priority")) == [
        ("Refund mentions", "urgent")
    ]


def test_a_topic_edited_tags_the_next_answer(
    widget, project, survey, committed, django_capture_on_commit_callbacks
):
    topic, _run = committed(topic_save, project=project, data=TopicIn("Delivery", ["courier"], []))
    committed(topic_save, project=project, topic=topic, data=TopicIn("Delivery", ["parcel"], []))
    with django_capture_on_commit_callbacks(execute=True):
        answer(widget, project, decide(widget, project, "v-1").json(), 3, "The parcel was late")
    tag = Tag.objects.get()
    assert (tag.topic_id, tag.matched_text) == (topic.pk, "parcel")


def test_a_change_that_bypasses_the_services_is_seen_once_the_entry_expires(
    widget, project, survey, settings
):
    settings.WIDGET_PROJECT_CACHE_SECONDS = 1
    assert decide(widget, project, "v-1").json()["show"] is True
    Survey.objects.filter(pk=survey.pk).update(status="paused")  # as another process would
    assert decide(widget, project, "v-2").json()["show"] is True
    time.sleep(1)
    assert decide(widget, project, "v-3").json() == {"show": False, "reason": "no_survey"}
