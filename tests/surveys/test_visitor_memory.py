"""Decide's memory of refused visitors (surveys.delivery.visitor_memory): a repeat refusal costs no
query, and the memory is only ever used to say no — a survey is shown on a fresh read only."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from surveys.contacts.models import Contact
from surveys.delivery import visitor_memory
from surveys.delivery.ledger import contact_resolve, display_claim
from surveys.delivery.models import Decision, Display
from tests.factories import ProjectFactory, TouchpointFactory, published_survey, signed

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def memory(settings):
    settings.DECIDE_VISITOR_MEMORY_SECONDS = 30
    visitor_memory.clear()
    yield
    visitor_memory.clear()


@pytest.fixture
def survey(project, touchpoint):
    return published_survey(project, touchpoints=[touchpoint], recontact_days=7)


def decide(widget, project, visitor="v-1", touchpoint="checkout_completed", **extra):
    if extra.get("user_id"):
        extra = {**extra, **signed(project, extra["user_id"])}
    body = {"key": project.public_key, "visitor_id": visitor, "touchpoint": touchpoint, **extra}
    response = widget.post("/api/widget/v1/decide", body, format="json")
    assert response.status_code == 200, response.content
    return response.json()


def statements(widget, project, **kwargs) -> tuple[dict, list[str]]:
    with CaptureQueriesContext(connection) as ctx:
        reply = decide(widget, project, **kwargs)
    return reply, [q["sql"].split()[0] + " " + q["sql"].split()[2] for q in ctx.captured_queries]


def test_a_visitor_refused_moments_ago_is_refused_again_without_reading_the_ledger(
    widget, project, survey
):
    with time_machine.travel(T0, tick=False):
        assert decide(widget, project)["show"] is True
        first, first_sql = statements(widget, project)
        again, again_sql = statements(widget, project)
    assert first == again == {"show": False, "reason": "survey_cooldown"}
    # The same statements (project, touchpoint, surveys: cached in memory outside the tests;
    # the Decision row) but for the read of the contact with its ledger.
    assert [s for s in first_sql if s not in again_sql] == ["SELECT c.project_id,"]
    assert len(first_sql) == len(again_sql) + 1
    reasons = list(Decision.objects.order_by("pk").values_list("reason", flat=True))
    assert reasons == ["shown", "survey_cooldown", "survey_cooldown"]
    contact = Contact.objects.get()
    assert set(Decision.objects.values_list("contact_id", flat=True)) == {contact.pk}


def test_with_the_memory_off_every_decide_reads_the_ledger(widget, project, survey, settings):
    settings.DECIDE_VISITOR_MEMORY_SECONDS = 0
    with time_machine.travel(T0, tick=False):
        decide(widget, project)
        decide(widget, project)
        again, sql = statements(widget, project)
    assert again == {"show": False, "reason": "survey_cooldown"}
    assert "SELECT c.project_id," in sql
    settings.DECIDE_VISITOR_MEMORY_SECONDS = 30
    assert visitor_memory.recall(visitor_memory.Visitor(project.pk, "v-1", None)) is None


def test_a_show_from_memory_is_decided_again_on_a_fresh_read(widget, project, survey):
    """Remembered: a claim the widget never confirmed, which expired 10 minutes on. Meanwhile
    another process claimed for the visitor; the memory would show, so the decide reads
    again and refuses."""
    visitor = visitor_memory.Visitor(project.pk, "v-1", None)
    with time_machine.travel(T0, tick=False):
        decide(widget, project)
        assert decide(widget, project)["reason"] == "survey_cooldown"
    with time_machine.travel(T0 + timedelta(minutes=11), tick=False):
        assert visitor_memory.recall(visitor) is not None  # memory's seconds are not the clock's
        elsewhere = Contact.objects.get()  # another web process, its own read
        assert display_claim(
            project=project, contact=elsewhere, touchpoint_key="checkout_completed"
        ).verdict.show
        assert decide(widget, project) == {"show": False, "reason": "survey_cooldown"}
    assert Display.objects.count() == 2  # ours, expired, and the other process's


def test_a_show_from_memory_that_still_holds_claims_and_is_forgotten(widget, project, survey):
    with time_machine.travel(T0, tick=False):
        decide(widget, project)
        decide(widget, project)  # refused, remembered
    visitor = visitor_memory.Visitor(project.pk, "v-1", None)
    assert visitor_memory.recall(visitor) is not None
    with time_machine.travel(T0 + timedelta(minutes=11), tick=False):  # the claim expired
        reply = decide(widget, project)
    assert reply["show"] is True
    assert Display.objects.count() == 2
    assert visitor_memory.recall(visitor) is None


def test_a_call_with_new_attributes_is_decided_and_saved_the_usual_way(widget, project, touchpoint):
    targeting = {"attributes": [{"attribute": "plan", "op": "eq", "value": "pro"}]}
    published_survey(project, touchpoints=[touchpoint], targeting=targeting)
    with time_machine.travel(T0, tick=False):
        assert decide(widget, project) == {"show": False, "reason": "targeting"}
        assert decide(widget, project) == {"show": False, "reason": "targeting"}  # remembered
        assert decide(widget, project, attributes={"plan": "pro"})["show"] is True
    assert Contact.objects.get().attributes == {"plan": "pro"}


def test_the_hourly_last_seen_is_saved_even_for_a_remembered_visitor(widget, project, survey):
    with time_machine.travel(T0, tick=False):
        shown = decide(widget, project)
        url = f"/api/widget/v1/displays/{shown['display_id']}/shown"
        assert widget.post(url, {"key": project.public_key}, format="json").status_code == 204
        decide(widget, project)
    with time_machine.travel(T0 + timedelta(hours=2), tick=False):
        assert visitor_memory.recall(visitor_memory.Visitor(project.pk, "v-1", None)) is not None
        assert decide(widget, project)["reason"] == "survey_cooldown"
    assert Contact.objects.get().last_seen_at == T0 + timedelta(hours=2)


def test_an_opt_out_is_not_hidden_by_the_memory(widget, project, survey):
    with time_machine.travel(T0, tick=False):
        decide(widget, project)
        assert decide(widget, project)["reason"] == "survey_cooldown"
        body = {"key": project.public_key, "visitor_id": "v-1"}
        assert widget.post("/api/widget/v1/opt-out", body, format="json").status_code == 204
        assert decide(widget, project) == {"show": False, "reason": "opted_out"}


def test_a_contact_change_in_this_process_is_not_hidden_by_the_memory(widget, project, survey):
    """Another widget call of the visitor (here: contact_resolve as the Feedback tab calls it)
    saves new attributes; the remembered copy is dropped, so targeting sees them."""
    survey.targeting = {"attributes": [{"attribute": "plan", "op": "eq", "value": "free"}]}
    survey.save(update_fields=["targeting"])
    with time_machine.travel(T0, tick=False):
        assert decide(widget, project, attributes={"plan": "free"})["show"] is True
        decide(widget, project)
        contact_resolve(project=project, visitor_id="v-1", attributes={"plan": "pro"})
        assert decide(widget, project) == {"show": False, "reason": "targeting"}


def test_the_memory_is_per_project(widget, project, survey):
    other = ProjectFactory()
    published_survey(
        other, touchpoints=[TouchpointFactory(project=other, key="checkout_completed")]
    )
    with time_machine.travel(T0, tick=False):
        decide(widget, project)
        decide(widget, project)  # remembered in `project`
        reply = decide(widget, other)  # the same visitor id, another project's visitor
    assert reply["show"] is True
    assert Contact.objects.filter(project=other).count() == 1


def test_a_signed_in_visitor_is_remembered_under_their_user_id(widget, project, survey):
    with time_machine.travel(T0, tick=False):
        assert decide(widget, project, user_id="u-7")["show"] is True
        first, first_sql = statements(widget, project, user_id="u-7")
        again, again_sql = statements(widget, project, user_id="u-7")
        # The same browser without the signed user id: another key, and not the person.
        anonymous = decide(widget, project)
    assert first == again == {"show": False, "reason": "survey_cooldown"}
    assert anonymous["show"] is True
    assert len(again_sql) < len(first_sql)
    assert visitor_memory.recall(visitor_memory.Visitor(project.pk, "v-1", "u-7")) is not None


def test_signing_in_forgets_the_browsers_anonymous_self(widget, project, survey):
    anonymous = visitor_memory.Visitor(project.pk, "v-1", None)
    with time_machine.travel(T0, tick=False):
        decide(widget, project)
        decide(widget, project)
        assert visitor_memory.recall(anonymous) is not None
        decide(widget, project, user_id="u-7")  # identify: v-1's displays move to u-7
    assert visitor_memory.recall(anonymous) is None


def test_a_visitor_whose_decide_did_not_read_the_ledger_is_forgotten(widget, project, survey):
    """A signed-in visitor at a touchpoint without surveys: nothing was read to remember, and
    what was remembered before may be out of date (the call could have saved attributes)."""
    TouchpointFactory(project=project, key="home")
    visitor = visitor_memory.Visitor(project.pk, "v-1", "u-7")
    with time_machine.travel(T0, tick=False):
        decide(widget, project, user_id="u-7")
        decide(widget, project, user_id="u-7")
        assert visitor_memory.recall(visitor) is not None
        reply = decide(widget, project, user_id="u-7", touchpoint="home", attributes={"p": 1})
    assert reply == {"show": False, "reason": "no_survey"}
    assert visitor_memory.recall(visitor) is None


def test_a_contact_too_large_to_keep_is_decided_the_usual_way(widget, project, survey):
    many = {f"attribute_{i}": i for i in range(visitor_memory.MAX_ATTRIBUTES + 1)}
    with time_machine.travel(T0, tick=False):
        decide(widget, project, attributes=many)
        decide(widget, project, attributes=many)
    assert visitor_memory.recall(visitor_memory.Visitor(project.pk, "v-1", None)) is None


@pytest.mark.django_db(transaction=True)
def test_a_refusal_from_memory_for_a_deleted_contact_drops_its_decision_row(widget, survey):
    """Deleted in the staff UI moments after a refusal: the memory refuses once more (its
    seconds are the promise), and the Decision row that cannot point at the contact is
    dropped instead of failing the call."""
    project = survey.project
    with time_machine.travel(T0, tick=False):
        decide(widget, project)
        decide(widget, project)
        Contact.objects.all().delete()
        assert decide(widget, project) == {"show": False, "reason": "survey_cooldown"}
    # The two before the deletion stay, without their contact; the third was dropped.
    assert list(Decision.objects.values_list("contact_id", flat=True)) == [None, None]


def test_a_call_naming_only_the_user_id_is_remembered_under_it(widget, project, survey):
    body = {"key": project.public_key, **signed(project, "u-9"), "touchpoint": "checkout_completed"}
    with time_machine.travel(T0, tick=False):
        replies = [widget.post("/api/widget/v1/decide", body, format="json") for _ in range(3)]
    assert [r.status_code for r in replies] == [200, 200, 200]
    assert [r.json()["show"] for r in replies] == [True, False, False]
    assert visitor_memory.recall(visitor_memory.Visitor(project.pk, None, "u-9")) is not None
