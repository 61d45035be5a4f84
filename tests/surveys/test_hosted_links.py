"""E-mail links are safe from link scanners: mail security scanners fetch every link of an
e-mail, so a GET of a survey or unsubscribe link changes nothing. The score in a link is only
pre-selected; the page's POST (sent by a static script, or the <noscript> button) stores it,
once however often it is sent. Unsubscribe follows RFC 8058 (one-click POST, headers on every
survey e-mail). Links of an erased person answer 410 Gone and store nothing."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from django.core import mail
from django.test import Client

from feedback.answering.models import Response
from feedback.cases.models import Case
from feedback.cases.services import alert_rules_install_defaults
from surveys.contacts.services import contact_erase
from surveys.delivery.events import EventIn, event_record
from surveys.delivery.models import Invitation
from tests.factories import ContactFactory, published_survey

pytestmark = pytest.mark.django_db


@pytest.fixture
def survey(project, touchpoint):
    alert_rules_install_defaults(project=project)  # a detractor opens a case
    return published_survey(project, touchpoints=[touchpoint], channels=["email"])


@pytest.fixture
def customer(project):
    return ContactFactory(
        project=project, user_id="cust-1", email="cust1@example.com", language="en"
    )


@pytest.fixture
def invitation(project, survey, customer, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):  # no delay: sent on commit
        event_record(project=project, data=EventIn(event="checkout_completed", user_id="cust-1"))
    invitation = Invitation.objects.select_related("display").get(contact=customer)
    assert invitation.status == "sent" and len(mail.outbox) == 1
    return invitation


@pytest.fixture
def links(invitation) -> dict:
    message = mail.outbox[0]
    urls = [_path(u) for u in re.findall(r"http://\S+", message.body)]
    return {
        "scores": [u for u in urls if "?score=" in u],
        "page": next(u for u in urls if "/s/" in u and "score" not in u),
        "unsubscribe": next(u for u in urls if "/u/" in u),
        "headers": message.extra_headers,
    }


def _path(url: str) -> str:
    return re.sub(r"^http://[^/]+", "", url)


def _first_question(survey) -> int:
    return survey.current_version.snapshot["questions"][0]["id"]


class _Form(HTMLParser):
    """What a browser without JavaScript sends when the form's button is pressed: the hidden
    inputs, the checked radios and the textareas (none here)."""

    def __init__(self):
        super().__init__()
        self.data: dict[str, str] = {}
        self.noscript_buttons: list[str] = []
        self.scripts: list[dict] = []
        self._in_noscript = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "noscript":
            self._in_noscript = True
        elif tag == "button" and self._in_noscript:
            self.noscript_buttons.append(attrs.get("type", "submit"))
        elif tag == "script":
            self.scripts.append(attrs)
        elif tag == "input" and (attrs.get("type") == "hidden" or "checked" in attrs):
            self.data[attrs["name"]] = attrs["value"]

    def handle_endtag(self, tag):
        if tag == "noscript":
            self._in_noscript = False


def _form(html: str) -> _Form:
    parser = _Form()
    parser.feed(html)
    return parser


def _nothing_stored(invitation) -> None:
    assert Response.objects.count() == 0
    assert Case.objects.count() == 0
    invitation.refresh_from_db()
    invitation.display.refresh_from_db()
    assert (invitation.status, invitation.display.status) == ("sent", "shown")


def test_a_get_with_a_score_only_shows_it_selected(invitation, links, survey):
    client = Client()
    for score, link in enumerate(links["scores"]):
        page = client.get(link)
        assert page.status_code == 200
        html = page.content.decode()
        assert f'value="{score}" checked' in html
        assert html.count(" checked") == 1
        assert "data-autosubmit" in html
    # The scanner's fetches, and the same link again, stored nothing and moved nothing.
    _nothing_stored(invitation)
    assert "data-autosubmit" not in client.get(links["scores"][0] + "0").content.decode()  # 00
    assert client.get(links["page"] + "?score=11").content.decode().count(" checked") == 0
    _nothing_stored(invitation)


def test_the_page_submits_with_a_static_script_and_a_noscript_button(invitation, links):
    form = _form(Client().get(links["scores"][2]).content.decode())
    assert [s.get("src") for s in form.scripts] == ["/static/hosted/survey.js"]
    assert all(s.get("src") for s in form.scripts)  # no inline script (the CSP forbids it)
    assert form.noscript_buttons == ["submit"]


def test_the_post_stores_the_score_once_however_often_it_is_sent(
    invitation, links, survey, django_capture_on_commit_callbacks
):
    client = Client()
    form = _form(client.get(links["scores"][2]).content.decode())
    assert form.data == {
        "csrfmiddlewaretoken": form.data["csrfmiddlewaretoken"],
        "step": "first",
        "source": "email_click",
        f"q{_first_question(survey)}": "2",
    }
    with django_capture_on_commit_callbacks(execute=True):
        first = client.post(links["page"], form.data)  # the <noscript> button
        again = client.post(links["page"], form.data)  # a double click, or script and button
    assert (first.status_code, first["Location"]) == (302, links["page"])
    assert (again.status_code, again["Location"]) == (302, links["page"])
    response = Response.objects.get()
    assert (response.finished, response.meta, response.channel) == (
        False,
        {"source": "email_click"},
        "email",
    )
    assert [(a.question_type, a.value_int) for a in response.answers.all()] == [("nps", 2)]
    assert Case.objects.count() == 0  # not before the response is finished

    # The follow-up question comes next; answering it finishes the one response.
    follow_up = _form(client.get(links["page"]).content.decode())
    assert follow_up.data["step"] == "rest"
    text_question = survey.current_version.snapshot["questions"][1]["id"]
    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(
            links["page"], {**follow_up.data, f"q{text_question}": "The parcel came late"}
        )
        client.post(links["page"], {**follow_up.data, f"q{text_question}": "again"})
    assert "Thank you" in done.content.decode()
    response = Response.objects.get()
    assert response.finished is True
    assert sorted((a.question_type, a.value_int, a.value_text) for a in response.answers.all()) == [
        ("nps", 2, ""),
        ("text", None, "The parcel came late"),
    ]
    assert Case.objects.filter(response=response).count() == 1
    invitation.display.refresh_from_db()
    assert invitation.display.status == "responded"


def test_a_promoter_is_done_with_the_first_post_and_a_repeat_stores_nothing_more(
    invitation, links, survey
):
    client = Client()
    form = _form(client.get(links["scores"][10]).content.decode())
    assert "Thank you" in client.post(links["page"], form.data).content.decode()
    assert "Thank you" in client.post(links["page"], form.data).content.decode()
    response = Response.objects.get()
    assert response.finished is True
    assert [(a.question_type, a.value_int) for a in response.answers.all()] == [("nps", 10)]
    assert Case.objects.count() == 0


def test_survey_emails_carry_the_rfc_8058_headers(links):
    assert links["headers"] == {
        "List-Unsubscribe": f"<http://127.0.0.1:8000{links['unsubscribe']}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }


def test_unsubscribe_get_only_asks_and_the_one_click_post_opts_out(links, customer):
    client = Client(enforce_csrf_checks=True)  # a mail client has no CSRF token
    page = client.get(links["unsubscribe"])
    form = _form(page.content.decode())
    assert page.status_code == 200 and "<button" in page.content.decode()
    assert form.scripts == []
    customer.refresh_from_db()
    assert customer.opted_out_at is None
    reply = client.post(
        links["unsubscribe"],
        "List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert reply.status_code == 200
    assert "You will not receive survey e-mails" in reply.content.decode()
    customer.refresh_from_db()
    opted_out_at = customer.opted_out_at
    assert opted_out_at is not None
    client.post(links["unsubscribe"], "List-Unsubscribe=One-Click", content_type="text/plain")
    customer.refresh_from_db()
    assert customer.opted_out_at == opted_out_at  # once


def test_an_unsubscribe_token_names_one_contact(links):
    assert Client().post(links["unsubscribe"][:-3] + "xx/").status_code == 404


def test_an_erased_persons_links_are_gone_and_store_nothing(
    invitation, links, survey, customer, project
):
    contact_erase(contact=customer)
    client = Client()
    first = f"q{_first_question(survey)}"
    replies = [
        client.get(links["scores"][3]),
        client.get(links["page"]),
        client.post(links["page"], {"step": "first", first: "3"}),
        client.get(links["unsubscribe"]),
        client.post(links["unsubscribe"], "List-Unsubscribe=One-Click", content_type="text/plain"),
    ]
    assert [r.status_code for r in replies] == [410] * 5
    assert all("This link is no longer valid." in r.content.decode() for r in replies)
    assert all(r["Content-Type"] == "text/html; charset=utf-8" for r in replies)
    _nothing_stored(invitation)
    customer.refresh_from_db()
    assert customer.opted_out_at is None
