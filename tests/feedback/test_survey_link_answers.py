"""Answering through a survey link (`/l/<token>/`): the hosted survey page, answers stored by
the same service and counted under the link's channel and touchpoint with its hidden fields
as breakdown values; a GET stores nothing; a known respondent (signed user_id) is held to the
throttle ledger and to single use; bad links and bad values are refused in words, storing
nothing."""

from __future__ import annotations

from datetime import UTC, datetime
from html.parser import HTMLParser

import pytest
import time_machine
from django.test import Client

from feedback.answering.link_views import LINK_POSTS_PER_MINUTE
from feedback.answering.models import ProcessingFailure, Response
from feedback.cases.models import Case
from feedback.webhooks.models import WebhookDelivery
from feedback.webhooks.services import webhook_endpoint_create
from metrics.rollups.models import Rollup
from metrics.rollups.services import rollups_rebuild
from surveys.contacts.models import Contact
from surveys.contacts.services import contact_erase, contact_export
from surveys.delivery.links import link_create, link_deactivate
from surveys.delivery.models import Display
from surveys.tenancy.project_settings import project_update
from tests.factories import signed

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_rate_counters")]


class _Form(HTMLParser):
    """What a browser sends with the form's button: hidden inputs and checked radios."""

    def __init__(self):
        super().__init__()
        self.data: dict[str, str] = {}
        self.legends: list[str] = []
        self._in_legend = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "input" and (attrs.get("type") == "hidden" or "checked" in attrs):
            self.data[attrs["name"]] = attrs["value"]
        self._in_legend = tag == "legend"

    def handle_data(self, data):
        if self._in_legend:
            self.legends.append(data)

    def handle_endtag(self, tag):
        self._in_legend = False


def _form(html: str) -> _Form:
    parser = _Form()
    parser.feed(html)
    return parser


@pytest.fixture
def link(project, survey, touchpoint):
    project.breakdown_attributes = ["plan", "store"]
    project.save()
    return link_create(
        project=project,
        survey=survey,
        label="Receipts",
        channel="receipt",
        touchpoint_key=touchpoint.key,
        hidden_fields=["store"],
    )


def _questions(survey) -> tuple[int, int]:
    first, why = survey.current_version.snapshot["questions"]
    return first["id"], why["id"]


def _answer(client, path, survey, score, why=None, capture=None):
    """GET the page, POST the score, and the "why" when it is asked: the final page."""
    first, text = _questions(survey)
    form = _form(client.get(path).content.decode())
    with capture(execute=True):
        page = client.post(path, {**form.data, f"q{first}": str(score)})
    if page.status_code == 302:
        follow = page["Location"]
        form = _form(client.get(follow).content.decode())
        assert form.data["step"] == "rest"
        with capture(execute=True):
            page = client.post(follow, {**form.data, f"q{text}": why or ""})
    return page


def test_an_anonymous_answer_counts_under_the_links_channel_and_store(
    link, survey, touchpoint, server_client, django_capture_on_commit_callbacks
):
    path = f"/l/{link.token}/?store=sh-021&utm_source=poster"
    client = Client()
    page = client.get(path)
    assert page.status_code == 200
    assert Display.objects.count() == 0  # opening the page claims nothing

    done = _answer(client, path, survey, 9, capture=django_capture_on_commit_callbacks)
    assert "Thank you" in done.content.decode()
    response = Response.objects.get()
    assert (response.contact_id, response.channel, response.touchpoint_id) == (
        None,
        "receipt",
        touchpoint.pk,
    )
    assert (response.segment, response.meta, response.finished) == (
        {"store": "sh-021"},  # utm_source is not a hidden field of the link: ignored
        {"source": "link", "link": link.pk},
        True,
    )
    assert response.display.link_id == link.pk
    assert response.display.status == "responded"

    def nps(**filters):
        reply = server_client.get("/api/v1/metrics", {"metric": "nps", **filters})
        assert reply.status_code == 200, reply.content
        return reply.json()["total"]["n"], reply.json()["total"]["score"]

    assert nps(channel="receipt") == (1, 100.0)
    assert nps(channel="web")[0] == 0
    assert nps(segment="store:sh-021") == (1, 100.0)
    assert nps(channel="receipt", touchpoint=touchpoint.key)[0] == 1
    # Rebuilding the rollups from raw answers counts it in the same cells.
    cells = sorted(
        Rollup.objects.values_list(
            "channel", "breakdown_attribute", "breakdown_value", "score", "count"
        )
    )
    assert cells == [("receipt", "", "", 9, 1), ("receipt", "store", "sh-021", 9, 1)]
    rollups_rebuild(project=link.project)
    assert (
        sorted(
            Rollup.objects.values_list(
                "channel", "breakdown_attribute", "breakdown_value", "score", "count"
            )
        )
        == cells
    )
    # The link's page counts the answer.
    listed = server_client.get(f"/api/v1/surveys/{survey.pk}/links").json()
    assert [(row["id"], row["answers"]) for row in listed] == [(link.pk, 1)]


def test_a_detractor_answers_in_two_steps_and_opens_a_case(
    project, link, survey, django_capture_on_commit_callbacks
):
    webhook_endpoint_create(
        project=project, url="https://hooks.example/voc", events=["response.finished"]
    )
    client = Client()
    done = _answer(
        client,
        f"/l/{link.token}/",
        survey,
        2,
        why="The queue at the till was long",
        capture=django_capture_on_commit_callbacks,
    )
    assert "Thank you" in done.content.decode()
    response = Response.objects.get()
    assert sorted((a.question_type, a.value_int, a.value_text) for a in response.answers.all()) == [
        ("nps", 2, ""),
        ("text", None, "The queue at the till was long"),
    ]
    assert Case.objects.filter(response=response).count() == 1
    assert Display.objects.count() == 1
    delivered = WebhookDelivery.objects.get(event="response.finished").payload["data"]
    assert {k: delivered["response"][k] for k in ("channel", "contact", "segment")} == {
        "channel": "receipt",
        "contact": None,
        "segment": {},
    }
    # Every step of the processing ran for an answer with no contact.
    assert ProcessingFailure.objects.count() == 0
    response.refresh_from_db()
    assert (response.rolled_up_at is not None, response.processed_at is not None) == (True, True)


def test_the_same_form_sent_twice_is_one_answer(link, survey):
    client = Client()
    path = f"/l/{link.token}/"
    first, _why = _questions(survey)
    form = _form(client.get(path).content.decode())
    assert set(form.data) == {"csrfmiddlewaretoken", "step", "attempt"}
    for _ in range(2):  # a double click
        assert "Thank you" in client.post(path, {**form.data, f"q{first}": "10"}).content.decode()
    assert Response.objects.count() == 1
    assert Display.objects.count() == 1
    # Another page shown is another answer (anonymous links take any number).
    again = _form(client.get(path).content.decode())
    client.post(path, {**again.data, f"q{first}": "8"})
    assert sorted(Response.objects.values_list("answers__value_int", flat=True)) == [8, 10]


def test_a_post_without_the_score_stores_nothing(link, survey):
    client = Client()
    path = f"/l/{link.token}/"
    form = _form(client.get(path).content.decode())
    page = client.post(path, form.data)
    assert page.status_code == 422
    assert "Please answer this question." in page.content.decode()
    assert (Display.objects.count(), Response.objects.count()) == (0, 0)
    # A score out of range: refused by the answering service, nothing kept either.
    first, _why = _questions(survey)
    assert client.post(path, {**form.data, f"q{first}": "11"}).status_code == 422
    assert (Display.objects.count(), Response.objects.count()) == (0, 0)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("store=" + "x" * 101, "value is too long (at most 100 characters)"),
        ("store=a&store=b", "gives “store” more than once"),
        ("store=sh%07021", "holds characters that are not allowed"),
    ],
)
def test_a_hidden_value_that_cannot_be_kept_is_refused_in_words(link, survey, query, message):
    client = Client()
    path = f"/l/{link.token}/?{query}"
    page = client.get(path)
    assert page.status_code == 400
    assert message in page.content.decode()
    first, _why = _questions(survey)
    assert client.post(path, {f"q{first}": "9", "step": "first"}).status_code == 400
    assert (Display.objects.count(), Response.objects.count()) == (0, 0)


def test_one_address_sending_too_many_answers_is_held_back(link, survey):
    client = Client()
    path = f"/l/{link.token}/"
    first, _why = _questions(survey)
    # Within one minute's window of the counters, whenever the test runs.
    with time_machine.travel(datetime(2026, 12, 1, 9, 0, 5, tzinfo=UTC), tick=False):
        for _ in range(LINK_POSTS_PER_MINUTE):
            assert client.post(path, {"step": "first"}).status_code == 422  # no score: no row
        held = client.post(path, {f"q{first}": "9", "step": "first"})
        assert held.status_code == 429
        assert "Too many answers from your network just now." in held.content.decode()
        assert Response.objects.count() == 0
        other = Client(REMOTE_ADDR="198.51.100.7")
        assert "Thank you" in other.post(path, {f"q{first}": "9"}).content.decode()


def test_unknown_and_deactivated_links_answer_not_found(link, survey):
    client = Client()
    assert client.get("/l/not-a-token/").status_code == 404
    assert "This survey link is not valid." in client.get("/l/nope/").content.decode()
    link_deactivate(link=link)
    first, _why = _questions(survey)
    assert client.get(f"/l/{link.token}/").status_code == 404
    assert client.post(f"/l/{link.token}/", {f"q{first}": "9"}).status_code == 404
    assert Response.objects.count() == 0


def test_a_paused_survey_takes_no_answers_through_its_links(link, survey):
    survey.status = "paused"
    survey.save()
    page = Client().get(f"/l/{link.token}/")
    assert page.status_code == 404
    assert "This survey is not taking answers at the moment." in page.content.decode()


def test_the_page_speaks_the_language_asked_for(link, survey):
    client = Client()
    chinese = "您推荐我们的可能性有多大？"
    english = "How likely are you to recommend us?"
    assert _form(client.get(f"/l/{link.token}/?lang=zh").content.decode()).legends == [chinese]
    by_browser = client.get(f"/l/{link.token}/", HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9")
    assert _form(by_browser.content.decode()).legends == [chinese]
    assert 'lang="zh"' in by_browser.content.decode()
    assert "Accept-Language" in by_browser["Vary"]
    assert _form(client.get(f"/l/{link.token}/?lang=fr").content.decode()).legends == [english]


def test_a_chinese_answer_keeps_its_language_to_the_last_step(
    link, survey, django_capture_on_commit_callbacks
):
    client = Client()
    path = f"/l/{link.token}/?lang=zh"
    first, _why = _questions(survey)
    form = _form(client.get(path).content.decode())
    step = client.post(path, {**form.data, f"q{first}": "3"})
    assert step.status_code == 302
    follow = client.get(step["Location"])
    assert _form(follow.content.decode()).legends == [  # the score can still change
        "您推荐我们的可能性有多大？",
        "我们可以在哪些方面做得更好？",
    ]
    assert Response.objects.get().language == "zh"


@pytest.fixture
def single_use(project, survey):
    return link_create(
        project=project,
        survey=survey,
        label="Phone follow-up",
        channel="phone",
        mode="single_use_per_contact",
    )


def test_a_single_use_link_takes_one_answer_per_known_respondent(
    project, single_use, survey, django_capture_on_commit_callbacks
):
    client = Client()
    identity = "&".join(f"{k}={v}" for k, v in signed(project, "cust-7").items())
    path = f"/l/{single_use.token}/?{identity}"
    done = _answer(client, path, survey, 10, capture=django_capture_on_commit_callbacks)
    assert "Thank you" in done.content.decode()
    response = Response.objects.get()
    assert (response.contact.user_id, response.channel) == ("cust-7", "phone")

    again = client.get(path)
    assert again.status_code == 200
    assert "You have already answered this survey." in again.content.decode()
    first, _why = _questions(survey)
    form = _form(client.get(f"/l/{single_use.token}/?lang=en").content.decode())
    refused = client.post(path, {f"q{first}": "3", "step": "first", **form.data})
    assert "You have already answered this survey." in refused.content.decode()
    assert Response.objects.count() == 1
    # Another person may answer it once too.
    other = "&".join(f"{k}={v}" for k, v in signed(project, "cust-8").items())
    _answer(
        client,
        f"/l/{single_use.token}/?{other}",
        survey,
        7,
        capture=django_capture_on_commit_callbacks,
    )
    assert sorted(Response.objects.values_list("contact__user_id", flat=True)) == [
        "cust-7",
        "cust-8",
    ]


def test_a_single_use_link_needs_a_signed_respondent(project, single_use, survey):
    client = Client()
    page = client.get(f"/l/{single_use.token}/")
    assert page.status_code == 403
    assert "This link is personal" in page.content.decode()
    forged = client.get(f"/l/{single_use.token}/?user_id=cust-7&user_hash=00ff")
    assert forged.status_code == 403
    assert "This personal link is not valid." in forged.content.decode()
    first, _why = _questions(survey)
    client.post(f"/l/{single_use.token}/?user_id=cust-7&user_hash=00ff", {f"q{first}": "9"})
    assert (Response.objects.count(), Contact.objects.filter(user_id="cust-7").count()) == (0, 0)


def test_a_known_respondent_surveyed_recently_is_not_asked_again(
    project, link, survey, respond, django_capture_on_commit_callbacks
):
    respond(9, user="cust-9")  # answered in the app just now
    project.recontact_days = 30
    project.save()
    client = Client()
    identity = "&".join(f"{k}={v}" for k, v in signed(project, "cust-9").items())
    path = f"/l/{link.token}/?{identity}"
    page = client.get(path)
    assert page.status_code == 200
    assert "We asked for your feedback recently" in page.content.decode()
    assert "<form" not in page.content.decode()
    first, _why = _questions(survey)
    refused = client.post(path, {f"q{first}": "4", "step": "first"})
    assert "We asked for your feedback recently" in refused.content.decode()
    assert Response.objects.count() == 1  # the app's answer only
    # The same link without a name is anonymous, and counts for nobody.
    done = _answer(
        client, f"/l/{link.token}/", survey, 10, capture=django_capture_on_commit_callbacks
    )
    assert "Thank you" in done.content.decode()
    assert Response.objects.filter(contact=None, channel="receipt").count() == 1


def test_a_known_respondents_answer_through_a_link_is_erased_like_the_others(
    project, link, survey, django_capture_on_commit_callbacks
):
    client = Client()
    identity = "&".join(f"{k}={v}" for k, v in signed(project, "cust-5").items())
    _answer(
        client,
        f"/l/{link.token}/?store=sh-021&{identity}",
        survey,
        3,
        why="Nobody at the counter",
        capture=django_capture_on_commit_callbacks,
    )
    contact = Contact.objects.get(user_id="cust-5")
    exported = contact_export(contact=contact)["responses"]
    assert [(r["channel"], r["segment"]) for r in exported] == [("receipt", {"store": "sh-021"})]
    contact_erase(contact=contact)
    response = Response.objects.get()
    assert response.meta == {}
    assert list(response.answers.values_list("value_text", flat=True).order_by("id")) == ["", ""]
    assert response.segment == {"store": "(erased)"}


def test_an_erased_respondents_unfinished_answer_cannot_be_taken_up(project, link, survey):
    client = Client()
    identity = "&".join(f"{k}={v}" for k, v in signed(project, "cust-6").items())
    path = f"/l/{link.token}/?{identity}"
    first, text = _questions(survey)
    form = _form(client.get(path).content.decode())
    step = client.post(path, {**form.data, f"q{first}": "2"})
    assert step.status_code == 302
    contact_erase(contact=Contact.objects.get(user_id="cust-6"))
    gone = client.get(step["Location"])
    assert gone.status_code == 410
    assert "This link is no longer valid." in gone.content.decode()
    assert client.post(step["Location"], {f"q{text}": "late"}).status_code == 410
    assert list(Response.objects.get().answers.values_list("value_text", flat=True)) == [""]


def test_the_results_and_response_pages_show_an_anonymous_link_answer(
    link, survey, staff_user, django_capture_on_commit_callbacks
):
    staff_client = Client()
    staff_client.force_login(staff_user)
    path = f"/l/{link.token}/?store=sh-021"
    _answer(Client(), path, survey, 2, "Slow", capture=django_capture_on_commit_callbacks)
    response = Response.objects.get()
    results = staff_client.get(f"/app/results/{survey.pk}/", {"channel": "receipt"})
    assert results.status_code == 200
    assert results.content.decode().count("anonymous (no contact)") == 2  # phone and wide
    page = staff_client.get(f"/app/responses/{response.pk}/").content.decode()
    assert "Anonymous: answered without a contact" in page
    assert "store = sh-021" in page


def test_a_refused_hidden_value_is_said_in_the_pages_language(link, survey, project):
    project.languages = ["en", "zh"]
    project.save()
    page = Client().get(f"/l/{link.token}/?lang=zh&store=" + "x" * 101)
    assert page.status_code == 400
    assert "链接中“store”的值太长（最多 100 个字符）。" in page.content.decode()


def test_a_hidden_field_made_a_breakdown_later_counts_the_answers_before(
    project, survey, touchpoint, server_client, django_capture_on_commit_callbacks
):
    link = link_create(
        project=project, survey=survey, label="Receipts", channel="receipt", hidden_fields=["store"]
    )
    _answer(
        Client(),
        f"/l/{link.token}/?store=sh-021",
        survey,
        9,
        capture=django_capture_on_commit_callbacks,
    )

    def store_n() -> int:
        reply = server_client.get("/api/v1/metrics", {"metric": "nps", "segment": "store:sh-021"})
        return reply.json()["total"]["n"] if reply.status_code == 200 else 0

    assert store_n() == 0  # not a breakdown yet: kept on the answer, not split
    with django_capture_on_commit_callbacks(execute=True):
        project_update(project=project, breakdown_attributes=["plan", "store"])
    assert store_n() == 1
