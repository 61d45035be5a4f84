"""Decide and response submit through their one view: status, CORS and Allow headers, error
bodies and the paths a call takes through the rate limit, authentication and the services."""

import json
import uuid

import pytest
from django.core.cache import cache
from django.db import transaction
from rest_framework.test import APIClient

from feedback.answering.models import Response
from surveys.contacts.models import Contact
from surveys.delivery.ledger import contact_resolve, display_claim, display_mark_shown
from tests.factories import published_survey, signed
from vocsite import rate_limit

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures("fresh_rate_counters"),
]

ROUTE = "/api/widget/v1/decide"
RESPONSES = "/api/widget/v1/responses"
ORIGIN = "http://shop.example"


@pytest.fixture
def survey(project, touchpoint):
    return published_survey(project, touchpoints=[touchpoint], display_option="always")


def _reply(url, raw, content_type, method, headers):
    with transaction.atomic():
        client = APIClient()
        send = getattr(client, method)
        if method == "get":
            response = send(url, **headers)
        else:
            response = send(url, raw, content_type=content_type, **headers)
        transaction.set_rollback(True)
    cache.clear()
    body = response.content
    if response.get("Content-Type") == "application/json" and body:
        data = json.loads(body)
        if isinstance(data, dict) and "display_id" in data:
            data["display_id"] = "<uuid>"
        body = data
    return response.status_code, dict(response.headers), body


def _one(
    raw, *, content_type="application/json", method="post", query="", origin=ORIGIN, url=ROUTE
):
    headers = {"HTTP_ORIGIN": origin} if origin else {}
    if isinstance(raw, dict):
        raw = json.dumps(raw)
    return _reply(url + query, raw, content_type, method, headers)


def body(project, **extra):
    return {
        "key": project.public_key,
        "visitor_id": "v-1",
        "touchpoint": "checkout_completed",
        **extra,
    }


def test_a_plain_call_that_claims_a_survey(project, survey):
    route = _one(body(project, url="https://shop.example/cart", locale="en"))
    status, headers, reply = route
    assert status == 200
    assert reply["show"] is True and reply["display_id"] == "<uuid>"
    assert reply["survey"]["id"] == survey.pk
    assert headers["Access-Control-Allow-Origin"] == ORIGIN
    assert headers["Vary"] == "Origin"
    assert headers["Allow"] == "POST, OPTIONS"


@pytest.mark.parametrize(
    "extra",
    [
        {"touchpoint": "nowhere"},
        {"user_id": "u-7", "attributes": {"plan": "pro", "seats": 12, "beta": True}},
        {"user_id": None},
        {"user_id": "", "locale": "", "url": ""},
        {"visitor_id": "v-é-ü-中文"},
    ],
    ids=["no-survey", "identified-with-attributes", "null-user", "blank-optionals", "unicode"],
)
def test_other_plain_calls_are_answered(project, survey, extra):
    if extra.get("user_id"):
        extra = {**extra, **signed(project, extra["user_id"])}
    route = _one(body(project, **extra))
    assert route[0] == 200


@pytest.mark.parametrize("user_hash", [None, "", "0" * 64, "not hex"])
def test_an_unsigned_user_id_is_a_403(project, survey, user_hash):
    extra = {"user_id": "u-7"} if user_hash is None else {"user_id": "u-7", "user_hash": user_hash}
    route = _one(body(project, **extra))
    assert route[0] == 403
    assert route[2]["error"]["code"] == "identity_unverified"
    assert not Contact.objects.filter(user_id="u-7").exists()


def test_a_call_without_origin_gets_no_cors_headers(project, survey):
    route = _one(body(project), origin=None)
    assert "Access-Control-Allow-Origin" not in route[1]


@pytest.mark.parametrize(
    "case, status",
    [
        ({"origin": "http://evil.example"}, 403),
        ({"raw": {"key": "pk_unknown", "visitor_id": "v", "touchpoint": "t"}}, 401),
        ({"raw": {"key": "sk_wrong", "visitor_id": "v", "touchpoint": "t"}}, 401),
        ({"extra": {"touchpoint": "not a slug"}}, 400),
        ({"extra": {"visitor_id": 5}}, 400),
        ({"extra": {"visitor_id": " padded "}}, 200),  # the serializer trims it
        ({"extra": {"attributes": {"nested": {"a": 1}}}}, 400),
        ({"extra": {"attributes": {f"a{i}": i for i in range(51)}}}, 400),
        ({"extra": {"attributes": ["plan"]}}, 400),
        ({"raw": '{"key": "pk_x", "visitor_id": "v", "touchpoint": "t", "attributes": NaN}'}, 400),
        ({"raw": "not json"}, 400),
        ({"raw": "\ufeff{}"}, 400),
        ({"raw": "[]"}, 401),  # no key to read
        ({"content_type": "text/plain"}, 415),
        ({"method": "get"}, 401),  # authentication comes first
    ],
    ids=[
        "foreign-origin",
        "unknown-key",
        "secret-key",
        "bad-touchpoint",
        "number-visitor",
        "padded-visitor",
        "nested-attribute",
        "too-many-attributes",
        "attributes-list",
        "nan",
        "not-json",
        "bom",
        "json-list",
        "text-plain",
        "get",
    ],
)
def test_unusual_calls_get_the_apis_reply(project, survey, case, status):
    raw = case.get("raw", body(project, **case.get("extra", {})))
    if isinstance(raw, str) and "pk_x" in raw:
        raw = raw.replace("pk_x", project.public_key)
    options = {k: v for k, v in case.items() if k in ("content_type", "method", "origin")}
    route = _one(raw, **options)
    assert route[0] == status


def test_a_key_in_the_query_string_is_read(project, survey):
    route = _one(body(project), query=f"?key={project.public_key}")
    assert route[0] == 200


def test_a_rate_limited_call_is_counted_once_and_refused(project, survey, settings, monkeypatch):
    settings.WIDGET_RATE_LIMIT_PER_VISITOR = 2
    hits = []
    real_hit = rate_limit.hit
    monkeypatch.setattr(rate_limit, "hit", lambda limits: hits.append(limits) or real_hit(limits))
    client = APIClient()
    replies = [
        client.post(ROUTE, body(project, touchpoint="nowhere"), format="json") for _ in range(3)
    ]
    assert [r.status_code for r in replies] == [200, 200, 429]
    assert replies[2].json()["error"]["code"] == "rate_limited"
    assert 1 <= int(replies[2]["Retry-After"]) <= 60
    assert len(hits) == 3  # each call counted once, the refused one too


# ---------------------------------------------------------------- response submit


@pytest.fixture
def shown(project, survey):
    contact = contact_resolve(project=project, visitor_id="v-answers")
    display = display_claim(
        project=project, contact=contact, touchpoint_key="checkout_completed"
    ).display
    display_mark_shown(display=display)
    return display


def answers(project, display, value=9, submission_id="6d1f2b1e-7c55-4d0c-9a55-3f0c1f7b5e10"):
    question_id = display.version.snapshot["questions"][0]["id"]
    return {
        "key": project.public_key,
        "display_id": str(display.pk),
        "submission_id": submission_id,
        "answers": [{"question_id": question_id, "value": value}],
        "finished": True,
    }


def test_plain_answers_are_stored(project, shown):
    route = _one(answers(project, shown), url=RESPONSES)
    assert route[0] == 201
    assert route[1]["Access-Control-Allow-Origin"] == ORIGIN
    assert route[1]["Allow"] == "POST, OPTIONS"
    assert set(route[2]) == {"response_id"}  # ids differ: each run made its own response


def test_a_retried_submission_gets_the_same_response(project, shown):
    first = APIClient().post(RESPONSES, answers(project, shown), format="json")
    assert first.status_code == 201
    route = _one(answers(project, shown), url=RESPONSES)
    assert route[0] == 200 and route[2] == {"response_id": first.json()["response_id"]}
    assert Response.objects.count() == 1


@pytest.mark.parametrize(
    "change, status, code",
    [
        ({"display_id": "0b4c5f0e-1111-4222-8333-944455556666"}, 404, "not_found"),
        ({"value": 11}, 400, "invalid"),
        ({"value": "nine"}, 400, "invalid"),
    ],
    ids=["unknown-display", "score-out-of-range", "score-as-text"],
)
def test_a_services_refusal_is_the_error_reply(project, shown, change, status, code):
    body = answers(project, shown, value=change.get("value", 9))
    body.update({k: v for k, v in change.items() if k != "value"})
    route = _one(body, url=RESPONSES)
    assert route[0] == status and route[2]["error"]["code"] == code


def test_a_submission_id_used_for_another_display_is_a_conflict(project, survey, shown):
    other = display_claim(
        project=project,
        contact=contact_resolve(project=project, visitor_id="v-other"),
        touchpoint_key="checkout_completed",
    ).display
    display_mark_shown(display=other)
    assert APIClient().post(RESPONSES, answers(project, other), format="json").status_code == 201
    route = _one(answers(project, shown), url=RESPONSES)
    assert route[0] == 409


@pytest.mark.parametrize(
    "change",
    [
        {"answers": {"question_id": 1, "value": 9}},
        {"finished": "yes"},
        {"display_id": "not-a-uuid"},
        {"key": "pk_unknown"},
    ],
    ids=["answers-not-a-list", "finished-not-bool", "bad-display-id", "unknown-key"],
)
def test_unusual_answers_get_the_apis_reply(project, shown, change):
    body = {**answers(project, shown), **change}
    route = _one(body, url=RESPONSES)
    assert route[0] in (400, 401)


def test_a_display_takes_one_response_whatever_the_submission_id(project, shown):
    client = APIClient()
    first = client.post(RESPONSES, answers(project, shown), format="json")
    second = client.post(
        RESPONSES, answers(project, shown, submission_id=str(uuid.uuid4())), format="json"
    )
    assert (first.status_code, second.status_code) == (201, 409)
    assert Response.objects.count() == 1


def test_another_method_is_a_405_once_the_key_is_known(project, survey):
    status, headers, reply = _one("", method="get", query=f"?key={project.public_key}")
    assert (status, reply["error"]["code"]) == (405, "method_not_allowed")
    assert (headers["Allow"], headers["Access-Control-Allow-Origin"]) == ("POST, OPTIONS", ORIGIN)


def test_the_schema_documents_each_widget_payload_from_its_validator(client):
    schema = client.get("/api/schema/?format=json").json()
    decide = schema["paths"]["/api/widget/v1/decide"]["post"]
    assert decide["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/DecideInput"
    }
    assert sorted(decide["responses"]) == ["200", "400", "401", "403", "413", "415", "429"]
    fields = schema["components"]["schemas"]["DecideInput"]["properties"]
    assert fields["url"] == {"default": None, "type": "string", "maxLength": 2000, "nullable": True}
    assert fields["touchpoint"]["pattern"] == "^[-a-zA-Z0-9_]+$"
    shown = schema["paths"]["/api/widget/v1/displays/{display_id}/shown"]["post"]
    assert shown["parameters"] == [
        {
            "in": "path",
            "name": "display_id",
            "schema": {"type": "string", "format": "uuid"},
            "required": True,
        }
    ]
