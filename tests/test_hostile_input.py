"""Hostile input on every staff page and every API endpoint: a 4xx, never a 5xx.

The routes come from the URL resolver, so a new page or endpoint is fuzzed the day it
exists (a path parameter `World.ids` does not name gets a placeholder of its type). Each
route is called, logged in as a project admin, with:

- its path parameters set to the project's own ids, another project's ids, a number beyond
  a bigint, zero, NUL characters;
- every query parameter any page or endpoint reads set to NUL, non-ASCII digits ("²",
  "٣"), a number beyond a bigint, another project's ids;
- a form body (the field names of the page's own form), a CSV upload where a page takes a
  file, and a JSON body (the field names of the endpoint's OpenAPI request body) with the
  same values, as strings and as numbers.

Django's admin gets the same values in its search, paging, ordering and object ids.
Behaviour beyond "not a 5xx" (what is refused and how, what an id is) is pinned below.

The same file runs on SQLite (`make unit`) and PostgreSQL (`make unit-postgres`): PostgreSQL
refuses NUL in text and integers beyond its column types, where SQLite stored them.
"""

from __future__ import annotations

import json
import re
import uuid
from decimal import Decimal

import pytest
from django.contrib.admin import site as admin_site
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from drf_spectacular.generators import SchemaGenerator

from feedback.answering.models import Answer
from feedback.answering.services import AnswerIn, response_submit
from feedback.cases.models import AlertRule, Case
from feedback.topics.models import RetagRun, Topic
from feedback.webhooks.models import WebhookDelivery
from feedback.webhooks.services import webhook_endpoint_create
from surveys.contacts.models import Contact, OperationalEvent
from surveys.delivery.email_surveys import survey_token, unsubscribe_token
from surveys.delivery.ledger import contact_resolve, display_claim
from surveys.tenancy.models import Membership, Team
from surveys.tenancy.services import api_key_create, project_create
from tests.factories import (
    ContactFactory,
    TouchpointFactory,
    UserFactory,
    published_survey,
    rolled_back_after,
)
from vocsite.ids import id_parse

pytestmark = pytest.mark.django_db

HUGE = "9" * 30
BEYOND_BIGINT = str(2**63)
# NUL (PostgreSQL's text refuses it), digits `str.isdigit()` takes and no id is made of
# (`int("²")` raises, `int("٣")` is 3), and the smallest number beyond every integer column
# (bigint) and every decimal one (14 digits): a larger one (HUGE) takes the same paths, and
# 19 digits still fit text fields a 30-digit number would be refused by first.
TEXT_VALUES = ("a\x00b", "²", "٣", BEYOND_BIGINT)
# Every query parameter a staff page or an endpoint reads (`project` picks the project and is
# tried on its own in test_the_project_is_chosen_by_a_strict_id).
QUERY_NAMES = (
    "assignee",
    "category",
    "channel",
    "cursor",
    "days",
    "export",
    "format",
    "interval",
    "key",
    "lang",
    "margin",
    "metric",
    "next",
    "object",
    "overdue",
    "page",
    "periods",
    "priority",
    "q",
    "score",
    "segment",
    "sentiment",
    "since",
    "stage",
    "status",
    "survey",
    "team",
    "topic",
    "touchpoint",
    "until",
    "untagged",
)


class World:
    """One project with one of everything a URL can name; `ids()` are its path values."""

    def __init__(self, name: str):
        self.project, key = project_create(name=name, allowed_origins=["http://shop.example"])
        self.secret_key = key.raw
        self.api_key = api_key_create(project=self.project).api_key
        self.touchpoint = TouchpointFactory(project=self.project, key="checkout_completed")
        self.project.recontact_days = 0
        self.project.save()
        self.survey = published_survey(
            self.project,
            touchpoints=[self.touchpoint],
            channels=["widget", "email"],
            display_option="always",
            recontact_days=0,
        )
        self.contact = ContactFactory(
            project=self.project, user_id=f"{name}-customer", email=f"{name}@shop.example"
        )
        self.visitor_id = f"visitor-{name}"
        contact_resolve(project=self.project, visitor_id=self.visitor_id)
        questions = self.survey.current_version.snapshot["questions"]
        contact = contact_resolve(project=self.project, visitor_id=None, user_id="u-" + name)
        display = display_claim(
            project=self.project, contact=contact, touchpoint_key=self.touchpoint.key
        ).display
        response_submit(
            project=self.project,
            display=display,
            submission_id=uuid.uuid4(),
            answers=[AnswerIn(questions[0]["id"], 2), AnswerIn(questions[1]["id"], "refund")],
            finished=True,
        )
        self.answer = Answer.objects.get(response__project=self.project, question_type="text")
        self.display = display_claim(
            project=self.project, contact=contact, touchpoint_key=self.touchpoint.key
        ).display
        self.email_display = display_claim(
            project=self.project,
            contact=self.contact,
            touchpoint_key=self.touchpoint.key,
            channel="email",
        ).display
        self.case = Case.objects.create(
            project=self.project, title=f"{name} case", due_at="2030-01-01T00:00Z"
        )
        self.team = Team.objects.create(project=self.project, name=f"{name} team")
        self.rule = AlertRule.objects.filter(project=self.project).first()
        self.webhook = webhook_endpoint_create(
            project=self.project, url="https://hooks.example/x", events=["case.created"]
        )
        self.delivery = WebhookDelivery.objects.create(
            endpoint=self.webhook, event="case.created", subject="s", payload={}, status="failed"
        )
        self.topic = Topic.objects.create(
            project=self.project, name=f"{name} topic", keywords=["x"]
        )
        self.retag = RetagRun.objects.create(project=self.project, status="done")
        self.admin = UserFactory(username=f"{name}-admin")
        self.membership = Membership.objects.create(
            user=self.admin, project=self.project, role="admin"
        )
        self._ids = self._path_values()

    def ids(self) -> dict[str, str]:
        """A real value for each path parameter of the URL map (a copy the caller may change;
        the e-mail tokens are signed once, not on each of the thousands of calls)."""
        return dict(self._ids)

    def _path_values(self) -> dict[str, str]:
        return {
            "survey_id": str(self.survey.pk),
            "action": "pause",
            "key_id": str(self.api_key.pk),
            "membership_id": str(self.membership.pk),
            "team_id": str(self.team.pk),
            "contact_id": str(self.contact.pk),
            "case_id": str(self.case.pk),
            "rule_id": str(self.rule.pk),
            "webhook_id": str(self.webhook.pk),
            "delivery_id": str(self.delivery.pk),
            "topic_id": str(self.topic.pk),
            "run_id": str(self.retag.pk),
            "answer_id": str(self.answer.pk),
            "user_id": self.contact.user_id,
            "display_id": str(self.display.pk),
            "token": survey_token(self.email_display),
            "unsubscribe_token": unsubscribe_token(self.contact),
            "uidb64": "MQ",
            "visitor_id": self.visitor_id,
        }


PARAMETER = re.compile(r"<(?:(?P<converter>\w+):)?(?P<name>\w+)>")


def staff_and_api_routes() -> list[str]:
    """Every route of the URL map as a pattern (`app/cases/<int:case_id>/`), admin aside."""
    routes: list[str] = []

    def walk(patterns, prefix: str) -> None:
        for entry in patterns:
            if isinstance(entry, URLResolver):
                if str(entry.pattern) == "admin/":
                    continue  # fuzzed below, model by model
                walk(entry.url_patterns, prefix + str(entry.pattern))
            elif isinstance(entry, URLPattern):
                routes.append(prefix + str(entry.pattern))

    walk(get_resolver().url_patterns, "")
    # Logging out last: the other calls stay logged in.
    return sorted(set(routes), key=lambda route: (route == "accounts/logout/", route))


# A parameter World.ids does not name yet still gets a well-formed value of its converter,
# so a new route is fuzzed before anyone names its objects here.
PLACEHOLDERS = {"int": "1", "uuid": str(uuid.UUID(int=1)), "str": "x", "slug": "x", "path": "x"}


def fill(route: str, world: World, other: World) -> list[str]:
    """The route's URLs: own ids first, then another project's, and values no id is."""
    parameters = [(m["converter"] or "str", m["name"]) for m in PARAMETER.finditer(route)]
    own, theirs = world.ids(), other.ids()
    if route.startswith("u/"):  # the unsubscribe page's token is the contact's
        own["token"], theirs["token"] = own["unsubscribe_token"], theirs["unsubscribe_token"]
    for converter, name in parameters:
        own.setdefault(name, PLACEHOLDERS[converter])
        theirs.setdefault(name, PLACEHOLDERS[converter])

    def url(values: dict[str, str]) -> str:
        return "/" + PARAMETER.sub(lambda m: values[m["name"]], route)

    urls = [url(own)]
    if parameters:
        urls.append(url(theirs))
        for bad in (BEYOND_BIGINT, "0", "a%00b"):
            urls.append(url({name: bad for _, name in parameters}))
    else:
        urls.append("/" + route + "%00")
    return urls


@pytest.fixture(scope="module")
def worlds(django_db_setup, django_db_blocker):
    """Projects A and B, built once for this file: every test starts from the same two worlds,
    its own writes undone (the file's other tests see them too, and count only their own
    project's rows)."""
    with rolled_back_after(django_db_blocker):
        with django_db_blocker.unblock():
            built = World("A"), World("B")
        yield built


def _client(user) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


def _form_names(reply) -> set[str]:
    if not reply.get("Content-Type", "").startswith("text/html"):
        return set()
    names = set(re.findall(r'name="([^"]+)"', reply.content.decode(errors="replace")))
    return names - {"csrfmiddlewaretoken"}


def _json_names() -> dict[tuple[str, str], set[str]]:
    """(path, method) → the field names of the operation's OpenAPI request body."""
    schema = SchemaGenerator().get_schema(request=None, public=True)
    components = schema.get("components", {}).get("schemas", {})
    out = {}
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            content = operation.get("requestBody", {}).get("content", {})
            body = content.get("application/json", {}).get("schema", {})
            if "$ref" in body:
                body = components[body["$ref"].rsplit("/", 1)[-1]]
            out[(path, method)] = set(body.get("properties", {}))
    return out


def _openapi_path(route: str) -> str:
    return "/" + PARAMETER.sub(lambda m: "{" + m["name"] + "}", route)


def _the_other_projects(other: World, name: str, fallback: str) -> str:
    """Another project's id for a parameter named like one (survey, team, topic…)."""
    ids = other.ids()
    return ids.get(f"{name}_id", ids.get(name, fallback))


def test_every_page_and_endpoint_answers_hostile_input_with_a_4xx(worlds):
    """Every route × (own, other project's and impossible path ids) by GET and POST, then
    every query parameter, form field, uploaded CSV cell and JSON field set to each hostile
    value. About 2,300 calls."""
    a, b = worlds
    client = _client(a.admin)
    routes = staff_and_api_routes()
    assert len(routes) > 60
    json_names = _json_names()
    failures: list[tuple] = []

    def check(reply, *what) -> None:
        if reply.status_code >= 500:
            failures.append((reply.status_code, *what))

    for route in routes:
        own_url, *other_urls = fill(route, a, b)
        for url in other_urls:
            check(client.get(url), "GET", url)
            check(client.post(url), "POST", url)
        page = client.get(own_url)
        check(page, "GET", own_url)
        fields = _form_names(page) | set(QUERY_NAMES)
        for value in (*TEXT_VALUES, "other"):

            def pick(name: str, value=value) -> str:
                if value != "other":
                    return value
                return _the_other_projects(b, name, b.ids()["survey_id"])

            query = {name: pick(name) for name in QUERY_NAMES}
            check(client.get(own_url, query), "GET query", own_url, value)
            form = {name: pick(name) for name in fields}
            check(client.post(own_url, form), "POST form", own_url, value)
            if "file" in fields or route.endswith("contacts/import"):
                csv = f"user_id,plan\nu-{value},{value}\n".encode()
                upload = {"file": SimpleUploadedFile("contacts.csv", csv)}
                check(client.post(own_url, upload), "POST CSV", own_url, value)
        if route.startswith("api/"):
            path = _openapi_path(route)
            for method in ("post", "patch", "put"):
                names = json_names.get((path, method))
                if names is None:
                    continue
                for value in (*TEXT_VALUES, 2**63, -1, int(b.ids()["survey_id"])):
                    body = {name: value for name in names}
                    if "key" in names:
                        body["key"] = a.project.public_key
                    reply = getattr(client, method)(
                        own_url, json.dumps(body), content_type="application/json"
                    )
                    check(reply, method.upper(), own_url, value)
    assert not failures, failures


def test_the_admin_answers_hostile_input_with_a_4xx(worlds):
    a, _ = worlds
    a.admin.is_staff = a.admin.is_superuser = True
    a.admin.save()
    client = _client(a.admin)
    failures = []
    for model in admin_site._registry:
        base = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        for value in TEXT_VALUES:
            for url, query in (
                (base, {"q": value, "p": value, "o": value}),
                (f"{base}{value}/change/", {}),
            ):
                reply = client.get(url, query)
                if reply.status_code >= 500:
                    failures.append((reply.status_code, url, query))
    assert not failures, failures


# ---- the middleware: NUL and undecodable input -----------------------------------------------


@pytest.fixture
def admin(project):
    user = UserFactory(username="boss")
    Membership.objects.create(user=user, project=project, role="admin")
    return _client(user)


REFUSED = "The request holds a NUL character or text that is not UTF-8; nothing was done."


def test_nul_in_a_path_is_a_400_page_for_people_and_the_error_body_for_the_api(admin):
    page = admin.get("/app/inbox/%00/")
    assert page.status_code == 400
    assert REFUSED in page.content.decode()
    assert page["Content-Type"] == "text/html; charset=utf-8"
    api = admin.get("/api/v1/contacts/a%00b")
    assert (api.status_code, api.json()) == (
        400,
        {"error": {"code": "malformed_request", "message": REFUSED, "fields": {}}},
    )


@pytest.mark.parametrize("query", ["q=a%00b", "q=%FF", "q%00=x", "survey=1&touchpoint=%C3"])
def test_nul_or_bytes_that_are_not_utf8_in_a_query_string_are_refused(admin, query):
    assert admin.get(f"/app/verbatims/?{query}").status_code == 400
    reply = admin.get(f"/api/v1/responses?{query}")
    assert (reply.status_code, reply.json()["error"]["code"]) == (400, "malformed_request")


def test_text_that_is_fine_passes(admin, project):
    """Non-ASCII text, an encoded plus sign and escaped emoji (a valid surrogate pair)."""
    assert admin.get("/app/verbatims/?q=%E9%80%80%E6%AC%BE+a%2Bb").status_code == 200
    reply = admin.post(
        "/api/v1/events",
        '{"event": "order_placed", "user_id": "u-1", "properties": {"e": "\\ud83d\\ude00"}}',
        content_type="application/json",
    )
    assert reply.status_code == 201
    assert OperationalEvent.objects.get(project=project).properties == {"e": "😀"}


def test_nul_in_a_form_body_is_refused_and_changes_nothing(admin, project):
    for body in ({"name": "Refunds\x00", "keywords_text": "refund"}, "name=R%FF&keywords_text=x"):
        if isinstance(body, str):
            reply = admin.post(
                "/app/topics/new/", body, content_type="application/x-www-form-urlencoded"
            )
        else:
            reply = admin.post("/app/topics/new/", body)
        assert reply.status_code == 400
        assert REFUSED in reply.content.decode()
    upload = SimpleUploadedFile("c.csv", b"user_id\nu-1\n")
    reply = admin.post("/app/contacts/import/", {"file": upload, "note": "a\x00b"})
    assert reply.status_code == 400
    assert Topic.objects.filter(project=project).count() == 0
    assert Contact.objects.filter(project=project).count() == 0


def test_json_that_is_not_utf8_or_escapes_a_nul_is_refused(admin, project):
    for body in (b'{"event": "x\xff"}', b'{"event": "x\\u0000"}', b'{"event": "\\uDFFF"}'):
        reply = admin.generic("POST", "/api/v1/events", body, content_type="application/json")
        assert (reply.status_code, reply.json()["error"]["code"]) == (400, "malformed_request")
    assert OperationalEvent.objects.filter(project=project).count() == 0


def test_nul_in_a_csv_cell_is_a_row_problem_and_nothing_is_imported(server_client, project):
    reply = server_client.post(
        "/api/v1/contacts/import",
        {"file": SimpleUploadedFile("c.csv", b"user_id,plan\nu-1,pro\nu-2,p\x00ro\n")},
        format="multipart",
    )
    assert reply.status_code == 400
    assert reply.json()["error"] == {
        "code": "invalid",
        "message": "1 problem in the file; nothing was imported.",
        "fields": {"rows": ["Row 3: plan: Null characters are not allowed."]},
    }
    assert Contact.objects.filter(project=project).count() == 0


# ---- ids ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1", 1),
        ("9223372036854775807", 2**63 - 1),
        (42, 42),
        ("9223372036854775808", None),
        ("0", None),
        ("-1", None),
        ("²", None),
        ("٣", None),
        (" 1", None),
        ("1.0", None),
        ("", None),
        (None, None),
        (True, None),
        (2**63, None),
        ("9" * 5000, None),
    ],
)
def test_an_id_is_ascii_digits_within_a_bigint(raw, expected):
    assert id_parse(raw) == expected


def test_dashboards_drop_survey_and_team_ids_they_cannot_use(worlds):
    a, b = worlds
    client = _client(a.admin)
    for survey in ("²", "٣", HUGE, b.ids()["survey_id"]):
        page = client.get("/app/dashboards/lead/", {"survey": survey, "team": survey})
        assert page.status_code == 200
        html = page.content.decode()
        assert "Unknown survey." in html and "Unknown team." in html
    own = client.get("/app/dashboards/lead/", {"survey": a.survey.pk, "team": a.team.pk})
    assert "Unknown survey." not in own.content.decode()
    assert "Unknown team." not in own.content.decode()


def test_api_id_filters_take_only_ascii_digits(worlds):
    a, _ = worlds
    client = _client(a.admin)
    for value in ("٣", "²", BEYOND_BIGINT, "-1"):
        reply = client.get("/api/v1/metrics", {"metric": "nps", "survey": value})
        assert reply.status_code == 400
        assert list(reply.json()["error"]["fields"]) == ["survey"]
        assert client.get("/api/v1/cases", {"team": value}).status_code == 400
    ok = client.get("/api/v1/metrics", {"metric": "nps", "survey": str(a.survey.pk)})
    assert ok.status_code == 200


@pytest.mark.parametrize("chosen", ["²", "٣", HUGE, "0"])
def test_the_project_is_chosen_by_a_strict_id(worlds, chosen):
    a, _ = worlds
    client = _client(a.admin)
    page = client.get("/app/inbox/", {"project": chosen})
    assert (page.status_code, page["Location"]) == (302, "/app/no-project/")
    api = client.get("/api/v1/surveys", HTTP_X_PROJECT=chosen)
    assert api.status_code == 403
    switch = client.post("/app/switch-project/", {"project": chosen, "next": "inbox"})
    assert (switch.status_code, switch["Location"]) == (302, "inbox")
    assert client.get("/app/inbox/").status_code == 200  # still in project A


def test_verbatim_tagging_with_ids_of_nothing_or_of_another_project_is_a_404(worlds):
    a, b = worlds
    client = _client(a.admin)
    url = f"/app/verbatims/{a.answer.pk}/tags/"
    for topic in ("", "²", HUGE, b.ids()["topic_id"]):
        assert client.post(url, {"topic": topic, "action": "add"}).status_code == 404
    # another project's comment: the service's ApplicationError, shown as a page with its words
    reply = client.post(
        f"/app/verbatims/{b.answer.pk}/tags/", {"topic": a.topic.pk, "action": "add"}
    )
    assert reply.status_code == 404
    assert "No such comment." in reply.content.decode()
    assert not a.answer.tags.filter(topic=a.topic).exists()
    done = client.post(url, {"topic": a.topic.pk, "action": "add", "next": "/app/verbatims/"})
    assert (done.status_code, done["Location"]) == (302, "/app/verbatims/")
    assert a.answer.tags.filter(topic=a.topic).exists()
    elsewhere = client.post(url, {"topic": a.topic.pk, "action": "remove", "next": "//evil.test/"})
    assert elsewhere["Location"] == "/app/verbatims/"


# ---- bounded numbers ------------------------------------------------------------------------


def test_revenue_that_would_overflow_the_contacts_total_is_refused_and_later_revenue_counts(
    server_client, project
):
    def send(revenue: str):
        body = {"event": "order_placed", "user_id": "whale", "revenue": revenue}
        return server_client.post("/api/v1/events", body, format="json")

    assert send("400000000000.00").status_code == 201
    assert send("400000000000.00").status_code == 201
    refused = send("400000000000.00")
    assert refused.status_code == 400
    assert refused.json()["error"] == {
        "code": "invalid",
        "message": "The event was not stored: its revenue would take the contact's total "
        "beyond ±999,999,999,999.99.",
        "fields": {
            "revenue": ["The contact's revenue total must stay within ±999,999,999,999.99."]
        },
    }
    assert OperationalEvent.objects.filter(contact__user_id="whale").count() == 2
    assert send("10.50").status_code == 201
    contact = Contact.objects.get(project=project, user_id="whale")
    assert contact.revenue_total == Decimal("800000000010.50")
    # pages that read the contact still render it
    exported = server_client.get("/api/v1/contacts/whale")
    assert exported.status_code == 200
    assert exported.json()["contact"]["revenue_total"] == "800000000010.50"
    # refunds are bounded the same way
    assert send("-999999999999.99").status_code == 201
    assert send("-999999999999.99").status_code == 400
    contact.refresh_from_db()
    assert contact.revenue_total == Decimal("-199999999989.49")


def test_an_alert_rule_with_an_sla_beyond_a_year_is_refused_at_save(admin, project):
    rule = {"name": "Slow", "question_type": "nps", "score_min": "0", "score_max": "6"}
    for hours in ("2000000000", "8761", HUGE):
        page = admin.post(
            "/app/alert-rules/new/",
            {**rule, "priority": "normal", "sla_hours": hours, "assignment": "none"},
        )
        assert page.status_code == 200
        assert "Ensure this value is less than or equal to 8760." in page.content.decode()
    scores = admin.post(
        "/app/alert-rules/new/",
        {**rule, "score_max": "11", "priority": "normal", "sla_hours": "24", "assignment": "none"},
    )
    assert "Ensure this value is less than or equal to 10." in scores.content.decode()
    assert not AlertRule.objects.filter(name="Slow").exists()
    saved = admin.post(
        "/app/alert-rules/new/",
        {**rule, "priority": "normal", "sla_hours": "8760", "assignment": "none"},
    )
    assert saved.status_code == 302
    assert AlertRule.objects.get(name="Slow").sla_hours == 8760
    with pytest.raises(IntegrityError), transaction.atomic():  # and the database holds it
        AlertRule.objects.filter(name="Slow").update(sla_hours=2_000_000_000)


def test_a_response_cap_beyond_ten_million_is_refused(server_client, project):
    body = {
        "name": "Capped",
        "questions": [{"type": "nps", "text": {"en": "How likely?"}}],
        "response_cap": 2**31,
    }
    reply = server_client.post("/api/v1/surveys", body, format="json")
    assert reply.status_code == 400
    assert reply.json()["error"]["fields"] == {
        "response_cap": ["Ensure this value is less than or equal to 10000000."]
    }
    assert (
        server_client.post(
            "/api/v1/surveys", {**body, "response_cap": 10_000_000}, format="json"
        ).status_code
        == 201
    )
