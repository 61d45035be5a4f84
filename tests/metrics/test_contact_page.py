"""A page per customer (/app/contacts/<id>/): identity, attributes, lifecycle and revenue, NPS over
time, and one timeline of displays (with why they were shown), responses, Feedback-tab
messages, cases and operational events, newest first — built through the real services and
read through the page. Anonymous visitors have one; a merged visitor leads to the person; an
erased contact shows nothing about them; another project's contact is not found; the page's
queries do not grow with its rows."""

from __future__ import annotations

import html as html_lib
import re
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test import Client, TestCase
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from feedback.answering.services import feedback_submit
from feedback.cases.models import Case
from surveys.contacts.models import Contact
from surveys.contacts.services import contact_erase
from surveys.delivery.email_surveys import invitation_send
from surveys.delivery.events import EventIn, event_record
from surveys.delivery.ledger import contact_resolve
from surveys.delivery.models import Invitation
from surveys.delivery.throttle import sample_bucket
from surveys.design.services import QuestionIn
from tests.factories import (
    ContactFactory,
    MembershipFactory,
    ProjectFactory,
    UserFactory,
    answered,
    published_survey,
)

pytestmark = pytest.mark.django_db

START = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def at(days: int, hours: int = 0):
    return time_machine.travel(START + timedelta(days=days, hours=hours), tick=True)


def page_of(contact: Contact, user, **params) -> str:
    client = Client()
    client.force_login(user)
    response = client.get(f"/app/contacts/{contact.pk}/", params)
    assert response.status_code == 200
    return response.content.decode()


def entries(html: str) -> list[tuple[str, str]]:
    """The timeline's entries as (kind, text without tags, whitespace collapsed)."""
    timeline = html.split('id="timeline"', 1)[1].split("</ol>", 1)[0]
    found = re.findall(r'data-kind="(\w+)">(.*?)</li>', timeline, flags=re.S)
    return [(kind, _text(body)) for kind, body in found]


def _text(fragment: str) -> str:
    return " ".join(html_lib.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


@pytest.fixture
def ana(project, survey, respond):
    """Ana's history: she signs up, answers 9, then 3 with a comment (a case opens), writes in
    the Feedback tab, and orders for 120.50."""
    with at(0):
        event_record(
            project=project, data=EventIn(event="signed_up", user_id="ana", event_id="s-1")
        )
    with at(1, 1):
        respond(9, user="ana", attributes={"plan": "pro"})
    with at(4, 2):
        respond(3, "Too slow at checkout", user="ana")
    contact = Contact.objects.get(project=project, user_id="ana")
    contact.email = "ana@customer.example"
    contact.save(update_fields=["email"])
    with at(5, 3), TestCase.captureOnCommitCallbacks(execute=True):  # its processing runs
        feedback_submit(
            project=project,
            contact=contact,
            submission_id=uuid.uuid4(),
            text="The coupon field broke",
            category="bug",
            rating=2,
        )
    with at(6, 4):
        event_record(
            project=project,
            data=EventIn(
                event="order_placed", user_id="ana", event_id="o-1", revenue=Decimal("120.50")
            ),
        )
    contact.refresh_from_db()
    return contact


def test_the_page_shows_who_the_customer_is_and_their_nps_over_time(ana, staff_user):
    html = page_of(ana, staff_user)

    identity = _text(html.split('id="contact-identity">')[1].split("</dl>")[0])
    assert identity.startswith("User id ana E-mail ana@customer.example Phone — Language")
    assert 'id="contact-name"' in html and "> ana</h1>" in html
    assert re.search(r'id="contact-attributes">\s*<dt[^>]*>plan</dt><dd[^>]*>pro</dd>', html)
    assert '<strong id="contact-revenue">120.50</strong>' in html
    lifecycle = html.split('id="contact-lifecycle-history">')[1].split("</ul>")[0]
    assert " ".join(re.sub(r"<[^>]+>", " ", lifecycle).split()) == "2026-03-01 · started"
    series = html.split('id="nps-series">')[1].split("</table>")[0]
    rows = re.findall(r"<tr><td>([\d-]+)</td><td[^>]*>(\d+)</td><td>(\w+)</td></tr>", series)
    assert rows == [("2026-03-05", "3", "detractor"), ("2026-03-02", "9", "promoter")]
    assert re.search(r'id="contact-nps-category">detractor<', html)
    assert html.count("<circle ") == 2


def test_the_timeline_lists_everything_newest_first_with_why_each_survey_was_shown(
    ana, staff_user, survey, touchpoint
):
    html = page_of(ana, staff_user)
    case = Case.objects.get(contact=ana)
    why = (
        f"Why: asked at the touchpoint “{touchpoint.name}” · "
        "the survey is for everyone (no targeting)"
    )

    assert entries(html) == [
        ("event", "2026-03-07 13:00 Event “order_placed” · revenue 120.50"),
        (
            "feedback",
            "2026-03-06 12:00 Feedback-tab message · bug · rated 2 of 5 · negative "
            "The coupon field broke",
        ),
        ("case", f"2026-03-05 11:00 #{case.pk} {case.title} · New"),
        (
            "response",
            f"2026-03-05 11:00 Answered “NPS” · {touchpoint.name} · response · case #{case.pk} "
            "How likely are you to recommend us? 3 What could we do better? Too slow at checkout",
        ),
        (
            "display",
            "2026-03-05 11:00 Survey “NPS” put in front of them · widget "
            "Outcome: responded · shown 11:00 · responded 2026-03-05 11:00 " + why,
        ),
        (
            "response",
            f"2026-03-02 10:00 Answered “NPS” · {touchpoint.name} · response "
            "How likely are you to recommend us? 9",
        ),
        (
            "display",
            "2026-03-02 10:00 Survey “NPS” put in front of them · widget "
            "Outcome: responded · shown 10:00 · responded 2026-03-02 10:00 " + why,
        ),
        ("event", "2026-03-01 09:00 Event “signed_up” · started as a customer"),
    ]
    assert f'href="/app/cases/{case.pk}/"' in html
    assert f'href="/app/responses/{case.response_id}/"' in html
    assert "8 entries, newest first" in html


def test_a_display_names_the_targeting_it_matched(project, touchpoint, staff_user):
    project.recontact_days = 0
    project.save()
    targeted = published_survey(
        project,
        touchpoints=[touchpoint],
        display_option="always",
        recontact_days=0,
        sample_percent=Decimal("50"),
        targeting={
            "attributes": [{"attribute": "plan", "op": "in", "value": ["pro", "team"]}],
            "languages": ["en"],
        },
    )
    # sticky sampling hashes the user id: someone inside the 50 %, speaking English
    user_id = next(f"u{n}" for n in range(100) if sample_bucket(f"u{n}", targeted.pk) < 50)
    contact_resolve(project=project, visitor_id=None, user_id=user_id, language="en")
    response = answered(targeted, 10, user_id=user_id, attributes={"plan": "pro"})
    (display,) = [e for e in entries(page_of(response.contact, staff_user)) if e[0] == "display"]
    assert display[1].endswith(
        f"Why: asked at the touchpoint “{touchpoint.name}” · "
        "attribute “plan” is one of “pro, team” · language is one of en · "
        "drawn in the survey's 50 % sample"
    )


def test_an_anonymous_visitor_has_a_page_with_their_visitor_ids(survey, staff_user):
    response = answered(survey, 8, visitor_id="v-anon-1")
    html = page_of(response.contact, staff_user)

    assert "<title>Anonymous visitor · vocsite</title>" in html
    assert f'Anonymous visitor <span class="text-muted">#{response.contact.pk}</span>' in html
    assert re.search(r'id="contact-visitor-ids"><code>v-anon-1</code></dd>', html)
    assert [kind for kind, _ in entries(html)] == ["response", "display"]
    assert re.search(r'id="contact-nps-category">passive<', html)


def test_a_merged_visitor_leads_to_the_person_and_their_history_comes_along(
    project, survey, staff_user
):
    before = answered(survey, 10, visitor_id="v-before-login")
    person = contact_resolve(project=project, visitor_id="v-before-login", user_id="bo")
    client = Client()
    client.force_login(staff_user)

    response = client.get(f"/app/contacts/{before.contact_id}/")

    assert response.status_code == 302
    assert response["Location"] == f"/app/contacts/{person.pk}/"
    html = page_of(person, staff_user)
    assert re.search(r'id="contact-visitor-ids"><code>v-before-login</code></dd>', html)
    assert [kind for kind, _ in entries(html)] == ["response", "display"]
    assert re.search(r'id="contact-nps-category">promoter<', html)  # answered before login


def test_an_erased_contact_shows_only_that_it_was_erased(ana, staff_user):
    with at(10):
        contact_erase(contact=ana, actor=staff_user)
    visitor_ids = list(ana.visitor_ids.values_list("visitor_id", flat=True))
    client = Client()
    client.force_login(staff_user)

    html = client.get(f"/app/contacts/{ana.pk}/").content.decode()

    main = html.split("<main", 1)[1].split("</main>", 1)[0]
    assert _text(main.split(">", 1)[1]) == (
        f"Erased contact #{ana.pk} This person's data was erased on 2026-03-11. Nothing about "
        "them is kept; their scores count on anonymously."
    )
    for personal in ["ana", "ana@customer.example", "Too slow", "coupon", "pro", *visitor_ids]:
        assert personal not in main


def test_an_email_display_names_the_event_that_invited(project, touchpoint, staff_user):
    published_survey(project, touchpoints=[touchpoint], channels=["email"])
    contact = ContactFactory(project=project, user_id="fay")
    with at(2, 5):
        event = EventIn(event="checkout_completed", user_id="fay")
        invitation_id = event_record(project=project, data=event).invitation_id
        Invitation.objects.filter(pk=invitation_id).update(send_after=timezone.now())
        assert invitation_send(str(invitation_id)) == "sent"

    (display,) = [e for e in entries(page_of(contact, staff_user)) if e[0] == "display"]
    assert display[1] == (
        "2026-03-03 14:00 Survey “NPS” put in front of them · e-mail "
        "Outcome: e-mailed, not answered · e-mailed 14:00 "
        "Why: e-mail invitation after the event “checkout_completed” · "
        f"asked at the touchpoint “{touchpoint.name}” · the survey is for everyone (no targeting)"
    )


def test_answers_read_as_the_customer_saw_them(project, touchpoint, staff_user):
    exit_survey = published_survey(
        project,
        allow_missing_translations=True,  # some texts fall back to English
        touchpoints=[touchpoint],
        name="Exit",
        questions=[
            QuestionIn(
                type="multi_choice",
                text={"en": "Why are you leaving?", "zh": "您为什么离开？"},
                choices=[{"en": "Price", "zh": "价格"}, {"en": "Speed"}, {"en": "Support"}],
            ),
            QuestionIn(type="yes_no", text={"en": "Would you come back?"}),
        ],
    )
    contact = answered(exit_survey, ["c1", "c3"], 0, user_id="gus").contact

    (response,) = [e for e in entries(page_of(contact, staff_user)) if e[0] == "response"]
    assert response[1].endswith(
        f"Answered “Exit” · {touchpoint.name} · response Why are you leaving? Price, Support "
        "Would you come back? no"
    )


@pytest.mark.parametrize("role", ["viewer", "agent", "designer", "admin"])
def test_every_role_of_the_project_reads_the_page(project, survey, role):
    contact = answered(survey, 9, user_id="cy").contact
    user = UserFactory()
    MembershipFactory(user=user, project=project, role=role)

    assert "> cy</h1>" in page_of(contact, user)


def test_another_projects_contact_is_not_found(project, survey, staff_user):
    contact = answered(survey, 9, user_id="dee").contact
    outsider = UserFactory()
    MembershipFactory(user=outsider, project=ProjectFactory(), role="admin")
    client = Client()
    client.force_login(outsider)

    assert client.get(f"/app/contacts/{contact.pk}/").status_code == 404
    assert Client().get(f"/app/contacts/{contact.pk}/").status_code == 302  # to the login
    client.force_login(staff_user)
    assert client.get("/app/contacts/999999/").status_code == 404


def _queries(contact: Contact, user) -> int:
    client = Client()
    client.force_login(user)
    with CaptureQueriesContext(connection) as captured:
        assert client.get(f"/app/contacts/{contact.pk}/").status_code == 200
    return len(captured)


def test_the_page_costs_the_same_queries_with_many_rows(ana, project, respond, staff_user):
    few = _queries(ana, staff_user)
    assert few <= 20  # 19: the session and navigation, the profile, the page and its rows

    for n in range(3):
        respond(2, f"Still slow {n}", user="ana")
        feedback_submit(project=project, contact=ana, submission_id=uuid.uuid4(), text=f"Again {n}")
        event_record(
            project=project,
            data=EventIn(event="order_placed", user_id="ana", revenue=Decimal("10")),
        )
    html = page_of(ana, staff_user)
    assert (
        re.search(r"\d+ entries, newest first", html).group() == "23 entries, newest first"
    )  # 8 + 3 × (display, response, case, feedback, event)

    assert _queries(ana, staff_user) == few


def test_the_timeline_is_paginated_newest_first(project, staff_user):
    contact = Contact.objects.create(project=project, user_id="eve")
    for n in range(55):
        with at(n):
            event_record(project=project, data=EventIn(event=f"visit_{n}", user_id="eve"))

    first = entries(page_of(contact, staff_user))
    second = entries(page_of(contact, staff_user, page=2))

    def names(page):
        return [text.split("“")[1].split("”")[0] for _, text in page]

    assert names(first) == [f"visit_{n}" for n in range(54, 4, -1)]
    assert names(second) == ["visit_4", "visit_3", "visit_2", "visit_1", "visit_0"]


def test_contacts_inbox_verbatims_and_frontline_link_to_the_page(ana, staff_user):
    client = Client()
    client.force_login(staff_user)
    link = f'href="/app/contacts/{ana.pk}/"'

    for url in [
        "/app/contacts/",
        "/app/inbox/",
        "/app/verbatims/",
        "/app/dashboards/frontline/?since=2026-03-01&until=2026-03-10",
    ]:
        assert link in client.get(url).content.decode(), url
