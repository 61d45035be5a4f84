"""Topic and verbatim pages: create a topic (history retagged, progress shown), errors beside
their fields, a suggestion turned into a topic in one click, highlighted spans that stay
inert, hand corrections over htmx, and who may do what."""

from __future__ import annotations

import pytest
from django.test import Client

from feedback.topics.models import RetagRun, Tag, Topic
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


def login(project, role: str) -> Client:
    user = UserFactory(username=role)
    MembershipFactory(user=user, project=project, role=role)
    client = Client()
    client.force_login(user)
    return client


def test_designer_creates_a_topic_and_history_is_retagged(
    project, respond, django_capture_on_commit_callbacks
):
    old = respond(2, text="My parcel never came", user="a").answers.get(question_type="text")
    client = login(project, "designer")
    with django_capture_on_commit_callbacks(execute=True):
        reply = client.post(
            "/app/topics/new/",
            {
                "name": "Delivery",
                "keywords_text": "parcel\ncourier",
                "exclusions_text": "",
                "is_active": "on",
            },
        )
    assert reply.status_code == 302
    topic = Topic.objects.get(project=project, name="Delivery")
    assert topic.keywords == ["parcel", "courier"]
    assert [(t.matched_text, t.span_start) for t in Tag.objects.filter(answer=old)] == [
        ("parcel", 3)
    ]
    html = client.get("/app/topics/").content.decode()
    assert "Retagging history finished" in html and "1 comment, 1 topic match" in html
    assert '<tr class="" data-topic="Delivery">' in html


def test_running_retag_polls_its_progress(project):
    client = login(project, "admin")
    run = RetagRun.objects.create(project=project, status="running", total=200, done=50)
    html = client.get("/app/topics/").content.decode()
    assert f'hx-get="/app/topics/retag/{run.pk}/"' in html and 'hx-trigger="every 1s"' in html
    assert "50 of 200 comments" in html and "25 %" in html
    run.status, run.done = "done", 200
    run.save()
    partial = client.get(f"/app/topics/retag/{run.pk}/").content.decode()
    assert "hx-trigger" not in partial and "200 comments" in partial


def test_topic_errors_are_shown_beside_their_fields(project):
    Topic.objects.create(project=project, name="Refunds", keywords=["refund"])
    client = login(project, "designer")
    reply = client.post("/app/topics/new/", {"name": "refunds", "keywords_text": "!!!"})
    html = reply.content.decode()
    assert reply.status_code == 200
    assert "This project already has a topic of that name." in html
    assert "Keywords need letters or Chinese characters." in html
    assert Topic.objects.filter(project=project).count() == 1


def test_a_suggestion_becomes_a_topic_in_one_click(
    project, respond, django_capture_on_commit_callbacks
):
    for user in "abc":
        respond(1, text="The app keeps crashing", user=user)
    client = login(project, "designer")
    assert "app keeps crashing" in client.get("/app/topics/").content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/app/topics/suggestions/", {"term": "app keeps crashing"})
    topic = Topic.objects.get(project=project, name="App keeps crashing")
    assert Tag.objects.filter(topic=topic).count() == 3
    assert (
        "app keeps crashing"
        not in client.get("/app/topics/").content.decode().split('id="suggestions"')[1]
    )


def test_verbatims_highlight_spans_and_keep_customer_markup_inert(project, respond):
    Topic.objects.create(project=project, name="Refunds", keywords=["refund"])
    respond(2, text="<script>alert(1)</script> my refund <img src=x onerror=alert(2)>", user="x")
    html = login(project, "agent").get("/app/verbatims/").content.decode()
    assert (
        '&lt;script&gt;alert(1)&lt;/script&gt; my <mark title="Refunds">refund</mark> &lt;img src=x onerror=alert(2)&gt;'
        in html
    )
    assert "<script>alert(1)" not in html


def test_agent_corrects_tags_by_hand_over_htmx(project, respond):
    refunds = Topic.objects.create(project=project, name="Refunds", keywords=["refund"])
    delivery = Topic.objects.create(project=project, name="Delivery", keywords=["parcel"])
    from feedback.topics.services import retag_run

    answer = respond(2, text="refund please", user="y").answers.get(question_type="text")
    client = login(project, "agent")
    url = f"/app/verbatims/{answer.pk}/tags/"
    removed = client.post(url, {"topic": refunds.pk, "action": "remove"}, HTTP_HX_REQUEST="true")
    assert removed.status_code == 200 and f'id="verbatim-{answer.pk}"' in removed.content.decode()
    client.post(url, {"topic": delivery.pk, "action": "add"}, HTTP_HX_REQUEST="true")
    retag_run(RetagRun.objects.create(project=project).pk)
    chips = sorted(
        (t.topic.name, t.source, t.suppressed) for t in Tag.objects.filter(answer=answer)
    )
    assert chips == [("Delivery", "manual", False), ("Refunds", "rule", True)]
    html = client.get(f"/app/verbatims/?topic={delivery.pk}").content.decode()
    assert "refund please" in html
    assert "refund please" not in client.get(f"/app/verbatims/?topic={refunds.pk}").content.decode()


def test_roles_and_projects(project, respond):
    other = Topic.objects.create(project=project, name="Mine", keywords=["x"])
    assert login(project, "agent").get("/app/topics/").status_code == 403
    assert login(project, "viewer").get("/app/verbatims/").status_code == 403
    outsider = UserFactory(username="outsider")
    from tests.factories import ProjectFactory

    MembershipFactory(user=outsider, project=ProjectFactory(), role="admin")
    client = Client()
    client.force_login(outsider)
    assert client.get(f"/app/topics/{other.pk}/").status_code == 404
    answer = respond(2, text="x marks", user="z").answers.get(question_type="text")
    assert (
        client.post(
            f"/app/verbatims/{answer.pk}/tags/", {"topic": other.pk, "action": "add"}
        ).status_code
        == 404
    )
