"""The widget's payload types are the one definition of its input: what they accept is what
the OpenAPI schema documents (`msgspec.json.schema` of the same class), and their errors are
worded as the rest of the API words them (vocsite.json_api)."""

import uuid
from functools import cache

import jsonschema
import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from feedback.answering.widget_api import FeedbackInput, ResponseInput
from surveys.delivery.widget_api import DecideInput
from vocsite.errors import ApplicationError
from vocsite.json_api import payload_convert

TYPICAL = {
    "key": "pk_abc123",
    "visitor_id": "3f2a9c1e-visitor",
    "touchpoint": "checkout_completed",
    "url": "https://shop.example/checkout?step=2",
    "locale": "zh-CN",
}

texts = st.one_of(
    st.text(max_size=40),
    st.text(alphabet="abc-_XYZ019 \t\n", max_size=12),
    st.sampled_from(["", " ", "pk_x", "checkout", "a" * 101, "é", "ok\n"]),
)
values = st.one_of(
    texts, st.none(), st.integers(), st.booleans(), st.lists(st.integers(), max_size=2)
)
attributes = st.one_of(
    st.dictionaries(st.text(max_size=5), st.one_of(st.integers(), st.text(max_size=5), st.none())),
    values,
)
fields = ["key", "visitor_id", "user_id", "touchpoint", "url", "locale", "attributes", "unknown"]
# A usual body with some fields replaced by awkward values or left out. The "payloads" budget
# (tests/conftest.py) suffices: 500 examples put every kind of value above (text, empty,
# None, number, boolean, list, dictionary) in every field, and leave out every field.
bodies = st.builds(
    lambda replaced, removed: {
        k: v for k, v in {**TYPICAL, **replaced}.items() if k not in removed
    },
    st.dictionaries(st.sampled_from(fields), st.one_of(values, attributes), max_size=2),
    st.sets(st.sampled_from(fields), max_size=2),
)


@cache
def _published_schema(payload) -> jsonschema.Draft202012Validator:
    """The JSON schema published for `payload`, made into a validator once: thousands of
    generated bodies are checked against the same schema."""
    return jsonschema.Draft202012Validator(msgspec.json.schema(payload))


def documented(payload, body) -> bool:
    """Whether the body is valid by the JSON schema published for `payload`."""
    return _published_schema(payload).is_valid(body)


def accepted(payload, body):
    try:
        return payload_convert(body, payload)
    except ApplicationError as error:
        assert (error.code, error.status_code, len(error.fields)) == ("invalid", 400, 1)
        return None


@settings(settings.get_profile("payloads"))
@given(bodies)
def test_decide_accepts_only_what_its_schema_documents(body):
    if accepted(DecideInput, body) is not None:
        assert documented(DecideInput, body)
    if not documented(DecideInput, body):
        assert accepted(DecideInput, body) is None


def test_the_usual_decide_body_is_taken_as_sent():
    values = payload_convert({**TYPICAL, "attributes": {"plan": "pro"}}, DecideInput)
    assert msgspec.structs.asdict(values) == {
        **TYPICAL,
        "attributes": {"plan": "pro"},
        "user_id": None,
        "user_hash": None,
    }


@pytest.mark.parametrize(
    ("change", "fields"),
    [
        ({"visitor_id": 5}, {"visitor_id": ["Not a valid string."]}),
        ({"visitor_id": "   "}, {"visitor_id": ["This field may not be blank."]}),
        ({"visitor_id": None}, {"visitor_id": ["A visitor_id or user_id is required."]}),
        ({"touchpoint": None}, {"touchpoint": ["Not a valid string."]}),
        (
            {"touchpoint": "bad key!"},
            {
                "touchpoint": [
                    'Enter a valid "slug" consisting of letters, numbers, underscores or hyphens.'
                ]
            },
        ),
        ({"url": "u" * 2001}, {"url": ["Ensure this field has no more than 2000 characters."]}),
        ({"attributes": ["plan"]}, {"attributes": ["Expected a dictionary of items."]}),
    ],
)
def test_decide_errors_name_the_field_in_the_apis_words(change, fields):
    with pytest.raises(ApplicationError) as refused:
        payload_convert({**TYPICAL, **change}, DecideInput)
    assert (refused.value.code, refused.value.fields) == ("invalid", fields)


def test_text_is_trimmed_as_the_api_trims_it():
    values = payload_convert({**TYPICAL, "visitor_id": " padded "}, DecideInput)
    assert values.visitor_id == "padded"


# ---------------------------------------------------------------- response submission

ANSWERED = {
    "key": "pk_abc123",
    "display_id": "0b9a4f52-63f4-4d8e-9b7e-2f1c0d3e4a5b",
    "submission_id": "7c1e2d3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f",
    "answers": [{"question_id": 11, "value": 9}, {"question_id": 12, "value": "Fast"}],
    "finished": True,
}
answer_values = st.one_of(
    st.none(), st.integers(-3, 12), st.text(max_size=6), st.lists(st.text(max_size=3), max_size=2)
)
answer_items = st.one_of(
    st.fixed_dictionaries({"question_id": st.integers(-1, 2**63), "value": answer_values}),
    st.dictionaries(st.sampled_from(["question_id", "value", "x"]), values, max_size=3),
    values,
)
response_fields = ["key", "display_id", "submission_id", "answers", "finished", "unknown"]
response_values = st.one_of(
    values,
    st.lists(answer_items, max_size=3),
    st.sampled_from(
        [
            "0b9a4f52-63f4-4d8e-9b7e-2f1c0d3e4a5",
            [{"question_id": 1, "value": 1}] * 51,
            [{"question_id": True, "value": 1}],
            "pk_" + "x" * 62,
        ]
    ),
)
response_bodies = st.builds(
    lambda replaced, removed: {
        k: v for k, v in {**ANSWERED, **replaced}.items() if k not in removed
    },
    st.dictionaries(st.sampled_from(response_fields), response_values, max_size=2),
    st.sets(st.sampled_from(response_fields), max_size=1),
)


@settings(settings.get_profile("payloads"))
@given(response_bodies)
def test_answers_are_accepted_only_as_their_schema_documents(body):
    if accepted(ResponseInput, body) is not None:
        assert documented(ResponseInput, body)
    if not documented(ResponseInput, body):
        assert accepted(ResponseInput, body) is None


def test_the_usual_answers_are_taken_as_sent():
    values = payload_convert(ANSWERED, ResponseInput)
    assert values.display_id == uuid.UUID(ANSWERED["display_id"])
    assert [(a.question_id, a.value) for a in values.answers] == [(11, 9), (12, "Fast")]
    assert values.finished is True


@pytest.mark.parametrize(
    ("change", "fields"),
    [
        ({"finished": "yes"}, {"finished": ["Must be a valid boolean."]}),
        ({"display_id": "not-a-uuid"}, {"display_id": ["Must be a valid UUID."]}),
        (
            {"answers": [{"question_id": True, "value": 1}]},
            {"answers.0.question_id": ["A valid integer is required."]},
        ),
        ({"answers": [{"question_id": 1}]}, {"answers.0.value": ["This field is required."]}),
        (
            {"answers": [{"question_id": 0, "value": 1}]},
            {"answers.0.question_id": ["Ensure this value is greater than or equal to 1."]},
        ),
        (
            {"answers": [{"question_id": 1, "value": 1}] * 51},
            {"answers": ["Ensure this field has no more than 50 elements."]},
        ),
    ],
)
def test_answer_errors_name_the_field_in_the_apis_words(change, fields):
    with pytest.raises(ApplicationError) as refused:
        payload_convert({**ANSWERED, **change}, ResponseInput)
    assert refused.value.fields == fields


def test_feedback_names_an_unknown_category():
    body = {"key": "pk_a", "visitor_id": "v", "submission_id": str(uuid.uuid4()), "text": "a"}
    with pytest.raises(ApplicationError) as refused:
        payload_convert({**body, "category": "rant"}, FeedbackInput)
    assert refused.value.fields == {"category": ['"rant" is not a valid choice.']}
    assert payload_convert(body, FeedbackInput).category == ""
