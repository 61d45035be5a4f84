"""Erasure removes every trace of a person (DESIGN.md §6): one person is seeded through every
path that stores something about them, erased, and then every text and JSON column of every
table is searched for each of their values. Totals in every metric stay what they were.

Runs on SQLite in `make unit` and on PostgreSQL in `make unit-postgres`."""

from __future__ import annotations

import json
import re
import uuid

import pytest
from django.apps import apps
from django.core import mail
from django.db import models
from django.test import Client
from rest_framework.test import APIClient

from feedback.answering.models import Response
from feedback.cases.models import Case
from feedback.cases.services import CaseChange, alert_rules_install_defaults, case_change
from feedback.topics.services import TopicIn, topic_save
from feedback.webhooks.models import WebhookDelivery
from feedback.webhooks.services import webhook_endpoint_create
from metrics.rollups.models import Rollup
from metrics.rollups.services import rollups_rebuild
from surveys.contacts.models import Contact
from surveys.contacts.personal_data import ERASED
from surveys.delivery.email_surveys import invitation_send
from surveys.delivery.models import Display, Invitation
from tests.factories import RootCauseFactory, published_survey, signed

pytestmark = pytest.mark.django_db(transaction=False)

# Everything that names Alice or quotes her; each must be gone from every table.
NEEDLES = [
    "alice-77",  # user id
    "alice@wonder.land",
    "alice%40wonder.land",
    "+44 7700 900077",
    "Alice Liddell",  # an attribute that is also a breakdown attribute
    "v-alice-phone",  # visitor ids
    "v-alice-laptop",
    "rabbit-hole-9",  # a second device's attribute, before she signed in
    "Zebracorns",  # words she wrote (the topic "zebracorn" matches them)
    "Jabberwock",
    "Cheshire",
    "order-for-alice",  # an event id
    "Tulgey Wood 7",  # an event property
    "Tea party",  # a case note
    "Mad Hatter",  # a resolution note
]


def _widget() -> APIClient:
    client = APIClient()
    client.defaults["HTTP_ORIGIN"] = "http://shop.example"
    return client


def _post(client, path, project, **body):
    reply = client.post(
        f"/api/widget/v1/{path}", {"key": project.public_key, **body}, format="json"
    )
    assert reply.status_code < 300, reply.content
    return reply.json() if reply.content else None


def _answer(client, project, decision, score, text):
    questions = decision["survey"]["questions"]
    _post(client, f"displays/{decision['display_id']}/shown", project)
    return _post(
        client,
        "responses",
        project,
        display_id=decision["display_id"],
        submission_id=str(uuid.uuid4()),
        answers=[
            {"question_id": questions[0]["id"], "value": score},
            {"question_id": questions[1]["id"], "value": text},
        ],
        finished=True,
    )


def _text_columns(model) -> list[str]:
    return [
        f.attname
        for f in model._meta.concrete_fields
        if isinstance(f, models.CharField | models.TextField | models.JSONField)
    ]


def _traces(needles: list[str]) -> list[str]:
    """Every (table, column) of every installed model whose value contains a needle; JSON is
    compared as text with non-ASCII kept, so nested, escaped and quoted text is found too."""
    found = []
    for model in apps.get_models():
        columns = _text_columns(model)
        if not columns or model._meta.proxy:
            continue
        for row in model._default_manager.values_list("pk", *columns):
            for column, value in zip(columns, row[1:], strict=True):
                text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
                for needle in needles:
                    if needle.lower() in (text or "").lower():
                        found.append(f"{model._meta.db_table}.{column} #{row[0]}: {needle}")
    return found


def _metric(server_client, **params) -> dict:
    reply = server_client.get("/api/v1/metrics", params)
    assert reply.status_code == 200, reply.content
    body = reply.json()
    return {"total": body["total"], "series": body["series"]}


@pytest.fixture
def alice(project, touchpoint, server_client, django_capture_on_commit_callbacks):
    """Alice, through every path that stores something about a person."""
    project.breakdown_attributes = ["name", "plan"]
    project.recontact_days = 0
    project.frequency_cap = 1000
    project.save()
    alert_rules_install_defaults(project=project)
    topic_save(
        project=project, data=TopicIn(name="Creatures", keywords=["zebracorn"], exclusions=[])
    )
    survey = published_survey(
        project,
        touchpoints=[touchpoint],
        display_option="always",
        recontact_days=0,
        channels=["widget", "email"],
    )
    webhook_endpoint_create(
        project=project,
        url="http://127.0.0.1:9/hook",
        events=["response.finished", "case.created", "case.updated", "feedback.created"],
    )
    widget = _widget()
    url = "https://shop.example/cart?email=alice%40wonder.land&ref=Cheshire"
    with django_capture_on_commit_callbacks(execute=True):
        # Two anonymous devices, with attributes and URLs, one answer and one message each.
        for visitor, attributes in (
            ("v-alice-phone", {"name": "Alice Liddell", "plan": "pro"}),
            ("v-alice-laptop", {"nickname": "rabbit-hole-9", "plan": "pro"}),
        ):
            decision = _post(
                widget,
                "decide",
                project,
                visitor_id=visitor,
                touchpoint=touchpoint.key,
                attributes=attributes,
                url=url,
            )
            assert decision["show"] is True
            _answer(widget, project, decision, 2, 'The Zebracorns\nate my "order", Cheshire!')
            _post(
                widget,
                "feedback",
                project,
                visitor_id=visitor,
                submission_id=str(uuid.uuid4()),
                text="Jabberwock in the\ncheckout, write to alice@wonder.land",
                url=url,
            )
        # She signs in on both devices: their anonymous contacts merge into her.
        for visitor in ("v-alice-phone", "v-alice-laptop"):
            decision = _post(
                widget,
                "decide",
                project,
                visitor_id=visitor,
                touchpoint=touchpoint.key,
                attributes={"name": "Alice Liddell"},
                url=url,
                **signed(project, "alice-77"),
            )
        _answer(widget, project, decision, 5, "Zebracorns gone, thanks")
        # Her company's server: contact upsert and events (one triggers an e-mail survey).
        assert (
            server_client.put(
                "/api/v1/contacts/alice-77",
                {
                    "email": "alice@wonder.land",
                    "phone": "+44 7700 900077",
                    "attributes": {"name": "Alice Liddell"},
                },
                format="json",
            ).status_code
            == 200
        )
        for body in (
            {
                "event": "order_placed",
                "event_id": "order-for-alice",
                "revenue": "12.50",
                "properties": {"address": "Tulgey Wood 7", "email": "alice@wonder.land"},
            },
            {"event": touchpoint.key, "event_id": "checkout-alice@wonder.land"},
        ):
            reply = server_client.post(
                "/api/v1/events", {"user_id": "alice-77", **body}, format="json"
            )
            assert reply.status_code in (200, 201, 202), reply.content
    # The e-mail survey: she answers through the hosted page, score first, then the comment.
    invitation = Invitation.objects.get(contact__user_id="alice-77")
    if invitation.status == "scheduled":
        with django_capture_on_commit_callbacks(execute=True):
            invitation_send(str(invitation.pk))
    link = re.search(r"http://\S+/s/[^\s?]+", mail.outbox[-1].body).group(0)
    link = re.sub(r"^http://[^/]+", "", link)
    page = Client()
    html = page.get(link).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
    first, comment = survey.current_version.snapshot["questions"][:2]
    with django_capture_on_commit_callbacks(execute=True):
        for step in (
            {"step": "first", f"q{first['id']}": "1"},
            {"step": "rest", f"q{comment['id']}": "Jabberwock by e-mail"},
        ):
            reply = page.post(link, {"csrfmiddlewaretoken": token, **step})
            assert reply.status_code in (200, 302), reply.content
    assert Response.objects.get(display=invitation.display_id).finished is True
    # Her cases get notes.
    for case in Case.objects.filter(contact__user_id="alice-77"):
        case_change(case=case, actor=None, change=CaseChange(note="Tea party call"))
        case_change(
            case=case,
            actor=None,
            change=CaseChange(
                status="resolved",
                root_cause=RootCauseFactory(project=case.project, name="product"),
                resolution_note="Mad Hatter fixed it",
            ),
        )
    contact = Contact.objects.get(user_id="alice-77")
    return {"contact": contact, "survey": survey}


def test_alice_was_seeded_through_every_path(alice):
    """The seeding reached every place (else the search below would prove nothing)."""
    contact = alice["contact"]
    traces = _traces(NEEDLES)
    for needle in NEEDLES:
        assert any(t.endswith(f": {needle}") for t in traces), needle
    assert Contact.objects.filter(merged_into=contact).count() == 2
    assert WebhookDelivery.objects.filter(contact=contact).count() >= 5
    assert Case.objects.filter(contact=contact).count() >= 2
    assert Rollup.objects.filter(breakdown_attribute="name", breakdown_value="Alice Liddell")


def test_the_export_holds_everything_erasure_removes(alice, server_client):
    export = json.dumps(server_client.get("/api/v1/contacts/alice-77").json(), ensure_ascii=False)
    for needle in NEEDLES:
        assert needle.lower() in export.lower(), needle


def _all_metrics(server_client, survey) -> dict:
    figures = {}
    for metric in ("nps",):
        for params in ({}, {"survey": survey.pk}, {"channel": "email"}, {"interval": "day"}):
            figures[(metric, tuple(params.items()))] = _metric(
                server_client, metric=metric, **params
            )
    return figures


def test_erasure_leaves_no_trace_and_every_total_as_it_was(alice, server_client):
    survey = alice["survey"]
    before = _all_metrics(server_client, survey)
    pro_before = _metric(server_client, metric="nps", segment="plan:pro")["total"]["n"]
    by_name_before = sum(r.count for r in Rollup.objects.filter(breakdown_attribute="name"))
    assert server_client.delete("/api/v1/contacts/alice-77").status_code == 204

    assert _traces(NEEDLES) == []
    assert _all_metrics(server_client, survey) == before
    # Her answers left the values that named her for the one erased bucket; each attribute's
    # cells still add up to the same total.
    assert sum(r.count for r in Rollup.objects.filter(breakdown_attribute="name")) == (
        by_name_before
    )
    assert not Rollup.objects.filter(breakdown_value="Alice Liddell").exists()
    erased = _metric(server_client, metric="nps", segment=f"name:{ERASED}")["total"]["n"]
    assert erased == by_name_before
    assert _metric(server_client, metric="nps", segment="plan:pro")["total"]["n"] == 0
    assert _metric(server_client, metric="nps", segment=f"plan:{ERASED}")["total"]["n"] == (
        pro_before
    )
    # A rebuild from raw rows gives the same cells: the rollups equal the raw counts.
    cells = sorted(
        Rollup.objects.values_list("breakdown_attribute", "breakdown_value", "score", "count")
    )
    rollups_rebuild()
    assert (
        sorted(
            Rollup.objects.values_list("breakdown_attribute", "breakdown_value", "score", "count")
        )
        == cells
    )
    # Nothing of hers is exported any more; her contact is gone from the API.
    assert server_client.get("/api/v1/contacts/alice-77").status_code == 404
    assert Display.objects.exclude(url="").count() == 0


def test_erased_links_answer_gone_and_store_nothing(alice, server_client):
    link = re.sub(
        r"^http://[^/]+", "", re.search(r"http://\S+/s/[^\s?]+", mail.outbox[-1].body).group(0)
    )
    responses = Response.objects.count()
    assert server_client.delete("/api/v1/contacts/alice-77").status_code == 204
    client = Client()
    assert client.get(link).status_code == 410
    assert client.post(link, {"step": "first"}).status_code in (403, 410)
    assert Response.objects.count() == responses


def test_an_anonymous_visitor_is_erased_by_visitor_id(project, touchpoint, server_client):
    project.breakdown_attributes = ["name"]
    project.save()
    published_survey(project, touchpoints=[touchpoint], display_option="always")
    widget = _widget()
    decision = _post(
        widget,
        "decide",
        project,
        visitor_id="v-only-anon",
        touchpoint=touchpoint.key,
        attributes={"name": "Bill the Lizard"},
        url="https://shop.example/?who=Bill the Lizard",
    )
    _answer(widget, project, decision, 3, "Bill says the chimney is blocked")
    _post(
        widget,
        "feedback",
        project,
        visitor_id="v-only-anon",
        submission_id=str(uuid.uuid4()),
        text="Bill the Lizard again",
    )
    needles = ["Bill the Lizard", "v-only-anon", "chimney"]
    assert len(_traces(needles)) >= 5
    assert server_client.delete("/api/v1/visitors/v-only-anon").status_code == 204
    assert _traces(needles) == []
    assert server_client.delete("/api/v1/visitors/v-only-anon").status_code == 404


def test_a_visitor_id_that_was_merged_erases_the_person(alice, server_client):
    """A visitor id kept by a browser after sign-in stands for the whole person."""
    assert server_client.delete("/api/v1/visitors/v-alice-laptop").status_code == 204
    assert _traces(NEEDLES) == []


def test_the_contacts_page_finds_and_erases_an_anonymous_visitor(project, touchpoint, staff_user):
    published_survey(project, touchpoints=[touchpoint])
    _post(
        _widget(),
        "decide",
        project,
        visitor_id="v-page-anon",
        touchpoint=touchpoint.key,
        attributes={"name": "Dormouse"},
    )
    client = Client()
    client.force_login(staff_user)
    page = client.get("/app/contacts/", {"q": "v-page-anon"}).content.decode()
    contact = Contact.objects.get(visitor_ids__visitor_id="v-page-anon")
    assert f"anonymous visitor #{contact.pk}" in page
    assert f"/app/contacts/{contact.pk}/erase/" in page
    assert client.post(f"/app/contacts/{contact.pk}/erase/").status_code == 302
    assert _traces(["Dormouse", "v-page-anon"]) == []


def test_erasure_holds_totals_when_the_journey_changed_since_the_answers(
    project, touchpoint, server_client, django_capture_on_commit_callbacks
):
    """Cells are recounted from the rows, not moved by recomputing keys from today's
    settings: a touchpoint moved to another stage after the answers changes nothing."""
    from tests.factories import StageFactory

    project.breakdown_attributes = ["company"]
    project.recontact_days = 0
    project.frequency_cap = 1000
    project.save()
    published_survey(project, touchpoints=[touchpoint], display_option="always")
    widget = _widget()
    for visitor, company in (("v-a", "Acme Ltd"), ("v-b", "Acme Ltd"), ("v-c", "Globex")):
        decision = _post(
            widget,
            "decide",
            project,
            visitor_id=visitor,
            touchpoint=touchpoint.key,
            attributes={"company": company},
        )
        with django_capture_on_commit_callbacks(execute=True):
            _answer(widget, project, decision, 4, "fine")
    touchpoint.stage = StageFactory(project=project, key="later", name="Later")
    touchpoint.save()
    before = sum(r.count for r in Rollup.objects.filter(breakdown_attribute="company"))
    assert server_client.delete("/api/v1/visitors/v-a").status_code == 204
    cells = {
        r.breakdown_value: r.count for r in Rollup.objects.filter(breakdown_attribute="company")
    }
    assert sum(cells.values()) == before == 3
    assert (cells["Acme Ltd"], cells[ERASED], cells["Globex"]) == (1, 1, 1)


def test_nothing_more_is_stored_for_a_display_of_an_erased_person(
    project, touchpoint, server_client
):
    """A survey on screen when its person is erased: its answer is refused, not stored
    against the anonymous shell where no API could find it again."""
    published_survey(project, touchpoints=[touchpoint], display_option="always")
    widget = _widget()
    decision = _post(widget, "decide", project, visitor_id="v-late", touchpoint=touchpoint.key)
    assert server_client.delete("/api/v1/visitors/v-late").status_code == 204
    questions = decision["survey"]["questions"]
    reply = widget.post(
        "/api/widget/v1/responses",
        {
            "key": project.public_key,
            "display_id": decision["display_id"],
            "submission_id": str(uuid.uuid4()),
            "answers": [
                {"question_id": questions[0]["id"], "value": 2},
                {"question_id": questions[1]["id"], "value": "Alice Liddell, 12 Tulgey Wood"},
            ],
            "finished": True,
        },
        format="json",
    )
    assert reply.status_code == 404
    assert Response.objects.count() == 0
    assert _traces(["Tulgey Wood"]) == []
