"""Feedback-tab messages are first-class (issue 27, item 2): the Feedback inbox page (filters,
mark handled, a case in one click) and `GET /api/v1/feedback`, each project seeing only its
own messages, and the verbatims listing them beside the survey comments."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest
import time_machine
from django.test import Client, TestCase
from django.utils import timezone
from rest_framework.test import APIClient

from feedback.answering.models import Feedback
from feedback.answering.services import feedback_submit
from feedback.cases.models import Case
from feedback.topics.services import TopicIn, topic_save
from surveys.tenancy.services import api_key_create
from tests.factories import MembershipFactory, ProjectFactory, UserFactory

pytestmark = pytest.mark.django_db


def member(project, username: str, role: str):
    user = UserFactory(username=username)
    MembershipFactory(user=user, project=project, role=role)
    return user


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def send(project, text: str, *, category: str = "", rating: int | None = None) -> Feedback:
    """A Feedback-tab message, processed as after its commit (topics, sentiment, cases)."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        feedback = feedback_submit(
            project=project,
            contact=None,
            submission_id=uuid.uuid4(),
            text=text,
            category=category,
            rating=rating,
        ).feedback
    feedback.refresh_from_db()
    return feedback


@pytest.fixture
def messages(project):
    """Four messages: a late delivery (bug, 1/5), praise (idea, 5/5), a slow delivery (bug,
    2/5) and one without category or rating; the Delivery topic tags two of them."""
    topic_save(project=project, data=TopicIn(name="Delivery", keywords=["delivery"], exclusions=[]))
    now = timezone.now()
    items = {}
    for minutes, key, text, category, rating in (
        (40, "late", "The delivery was two weeks late", "bug", 1),
        (30, "praise", "Lovely new design, well done", "idea", 5),
        (20, "slow", "Slow delivery and nobody answered", "bug", 2),
        (10, "plain", "Where do I change my address?", "", None),
    ):
        with time_machine.travel(now - timedelta(minutes=minutes), tick=False):
            items[key] = send(project, text, category=category, rating=rating)
    # Sentiment comes from the model; set here so the filter's expected rows are known.
    for key, sentiment in (("late", "negative"), ("praise", "positive"), ("slow", "negative")):
        Feedback.objects.filter(pk=items[key].pk).update(sentiment=sentiment)
    return items


def listed(page) -> list[int]:
    return [int(pk) for pk in re.findall(r'data-feedback="(\d+)"', page.content.decode())]


def test_the_inbox_lists_new_messages_newest_first_with_exact_filters(project, messages):
    client = login(member(project, "agent", "agent"))
    m = messages
    assert listed(client.get("/app/feedback/")) == [
        m["plain"].pk,
        m["slow"].pk,
        m["praise"].pk,
        m["late"].pk,
    ]
    expected = {
        "category=bug": [m["slow"].pk, m["late"].pk],
        "rating=5": [m["praise"].pk],
        f"topic={m['late'].tags.get().topic_id}": [m["slow"].pk, m["late"].pk],
        "sentiment=negative": [m["slow"].pk, m["late"].pk],
        "q=NOBODY": [m["slow"].pk],
        "category=bug&rating=1": [m["late"].pk],
        "category=idea&sentiment=negative": [],
        "status=handled": [],
    }
    for query, ids in expected.items():
        assert listed(client.get(f"/app/feedback/?{query}")) == ids, query
    page = client.get("/app/feedback/?q=delivery").content.decode()
    assert "2 messages match" in page
    assert '<mark title="Delivery">delivery</mark>' in page


def test_nonsense_filters_are_ignored_not_errors(project, messages):
    client = login(member(project, "agent", "agent"))
    reply = client.get("/app/feedback/?rating=9&topic=99999999999999999999&sentiment=meh&status=x")
    assert reply.status_code == 200
    assert len(listed(reply)) == 4  # status x: any status


def test_mark_handled_takes_a_message_out_of_the_new_ones_and_back(project, messages):
    agent = member(project, "agent", "agent")
    client = login(agent)
    late = messages["late"]
    reply = client.post(
        f"/app/feedback/{late.pk}/handled/", {"handled": "1", "querystring": "category=bug"}
    )
    assert (reply.status_code, reply["Location"]) == (302, "/app/feedback/?category=bug")
    late.refresh_from_db()
    assert (late.handled_by, late.handled_at is not None) == (agent, True)
    assert late.pk not in listed(client.get("/app/feedback/"))
    assert listed(client.get("/app/feedback/?status=handled")) == [late.pk]
    assert "handled by agent" in client.get("/app/feedback/?status=handled").content.decode()

    client.post(f"/app/feedback/{late.pk}/handled/", {"handled": "0"})
    late.refresh_from_db()
    assert (late.handled_by, late.handled_at) == (None, None)
    assert client.get(f"/app/feedback/{late.pk}/handled/").status_code == 405


def test_one_click_opens_exactly_one_case_and_links_it(project, messages):
    agent = member(project, "agent", "agent")
    client = login(agent)
    slow = messages["slow"]
    opened = client.post(f"/app/feedback/{slow.pk}/case/")
    case = Case.objects.get(feedback=slow)
    assert (opened.status_code, opened["Location"]) == (302, f"/app/cases/{case.pk}/")
    assert (case.title, case.status, case.assignee, case.rule) == (
        "Feedback: Slow delivery and nobody answered",
        "in_progress",
        agent,
        None,
    )
    assert list(case.events.values_list("kind", flat=True)) == ["created", "claimed"]
    assert client.get(f"/app/cases/{case.pk}/").status_code == 200  # the agent sees it

    again = client.post(f"/app/feedback/{slow.pk}/case/")
    assert again["Location"] == f"/app/cases/{case.pk}/"
    assert Case.objects.filter(feedback=slow).count() == 1
    slow.refresh_from_db()
    assert slow.handled_by == agent  # the case carries the work now
    page = client.get("/app/feedback/?status=").content.decode()
    assert f'href="/app/cases/{case.pk}/"' in page


def test_another_projects_messages_are_invisible_and_untouchable(project, messages):
    other = ProjectFactory()
    theirs = send(other, "Their delivery was late", category="bug", rating=1)
    client = login(member(project, "agent", "agent"))
    assert theirs.pk not in listed(client.get("/app/feedback/?status="))
    assert client.post(f"/app/feedback/{theirs.pk}/handled/").status_code == 404
    assert client.post(f"/app/feedback/{theirs.pk}/case/").status_code == 404
    theirs.refresh_from_db()
    assert theirs.handled_at is None
    assert Case.objects.filter(feedback=theirs).count() == 0


def test_viewers_do_not_work_the_feedback_inbox(project, messages):
    client = login(member(project, "viewer", "viewer"))
    assert client.get("/app/feedback/").status_code == 403
    assert client.post(f"/app/feedback/{messages['late'].pk}/case/").status_code == 403
    assert Case.objects.count() == 0


# ---------------------------------------------------------------- the API


def test_the_api_lists_messages_with_the_inbox_filters(project, messages, server_client):
    m = messages
    reply = server_client.get("/api/v1/feedback")
    assert reply.status_code == 200
    body = reply.json()
    assert (body["next"], body["previous"]) == (None, None)
    assert [item["id"] for item in body["results"]] == [
        m["plain"].pk,
        m["slow"].pk,
        m["praise"].pk,
        m["late"].pk,
    ]
    assert body["results"][3] == {
        "id": m["late"].pk,
        "created_at": body["results"][3]["created_at"],
        "category": "bug",
        "rating": 1,
        "text": "The delivery was two weeks late",
        "url": "",
        "sentiment": "negative",
        "topics": ["Delivery"],
        "contact": None,
        "status": "new",
        "handled_at": None,
        "handled_by": None,
        "case": None,
    }
    topic_id = m["late"].tags.get().topic_id
    since = (m["praise"].created_at).isoformat()
    for query, ids in {
        "category=bug": [m["slow"].pk, m["late"].pk],
        "rating=2": [m["slow"].pk],
        f"topic={topic_id}": [m["slow"].pk, m["late"].pk],
        "sentiment=positive": [m["praise"].pk],
        "status=new": [m["plain"].pk, m["slow"].pk, m["praise"].pk, m["late"].pk],
        "status=handled": [],
        "q=address": [m["plain"].pk],
    }.items():
        results = server_client.get(f"/api/v1/feedback?{query}").json()["results"]
        assert [item["id"] for item in results] == ids, query
    dated = server_client.get("/api/v1/feedback", {"since": since}).json()["results"]
    assert [item["id"] for item in dated] == [m["plain"].pk, m["slow"].pk, m["praise"].pk]
    two = server_client.get("/api/v1/feedback?limit=2").json()
    assert len(two["results"]) == 2 and two["next"] is not None
    rest = server_client.get(two["next"]).json()
    assert [item["id"] for item in rest["results"]] == [m["praise"].pk, m["late"].pk]


def test_the_api_refuses_bad_filters_and_strangers(project, messages, server_client):
    bad = server_client.get("/api/v1/feedback?rating=9&sentiment=meh")
    assert bad.status_code == 400
    assert set(bad.json()["error"]["fields"]) == {"rating", "sentiment"}
    assert APIClient().get("/api/v1/feedback").status_code in (401, 403)
    viewer = member(project, "viewer", "viewer")
    session = APIClient()
    session.force_authenticate(viewer)
    session.credentials(HTTP_X_PROJECT=str(project.pk))
    assert session.get("/api/v1/feedback").status_code == 403
    stranger = APIClient()
    stranger.credentials(
        HTTP_AUTHORIZATION=f"Bearer {api_key_create(project=ProjectFactory()).raw}"
    )
    assert stranger.get("/api/v1/feedback").json()["results"] == []


def test_the_api_names_the_case_and_who_handled(project, messages, server_client):
    agent = member(project, "agent", "agent")
    login(agent).post(f"/app/feedback/{messages['late'].pk}/case/")
    case = Case.objects.get(feedback=messages["late"])
    (item,) = server_client.get("/api/v1/feedback?status=handled").json()["results"]
    assert (item["id"], item["case"], item["status"], item["handled_by"]) == (
        messages["late"].pk,
        case.pk,
        "handled",
        "agent",
    )


# ---------------------------------------------------------------- verbatims


def test_verbatims_list_messages_beside_survey_comments(project, messages, respond):
    answer = respond(2, "Delivery took ages", user="alice").answers.get(question_type="text")
    client = login(member(project, "agent", "agent"))

    def shown(query: str = "") -> list[str]:
        page = client.get(f"/app/verbatims/?{query}").content.decode()
        return re.findall(r'id="verbatim-((?:feedback-)?\d+)"', page)

    m = messages
    every = [str(answer.pk)] + [f"feedback-{m[k].pk}" for k in ("plain", "slow", "praise", "late")]
    assert shown() == every  # newest first: the answer came after the messages
    topic = m["late"].tags.get().topic_id
    assert shown(f"topic={topic}") == [
        str(answer.pk),
        f"feedback-{m['slow'].pk}",
        f"feedback-{m['late'].pk}",
    ]
    assert shown("q=address") == [f"feedback-{m['plain'].pk}"]
    assert shown("source=feedback&sentiment=positive") == [f"feedback-{m['praise'].pk}"]
    assert shown("source=survey") == [str(answer.pk)]
    assert shown("touchpoint=checkout_completed") == [str(answer.pk)]
    assert shown("untagged=1") == [f"feedback-{m['plain'].pk}", f"feedback-{m['praise'].pk}"]
    theirs = send(ProjectFactory(), "Their delivery was late")
    assert f"feedback-{theirs.pk}" not in shown()
