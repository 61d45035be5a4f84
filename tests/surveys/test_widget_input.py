"""The fast input checks of decide and of response submission agree with the serializers
that define the input (DecideApi / ResponseSubmitApi.InputSerializer)."""

from hypothesis import given, settings
from hypothesis import strategies as st

from feedback.answering.widget_api import ResponseSubmitApi, plainly_valid_response
from surveys.delivery.widget_api import DecideApi, plainly_valid_decide

TYPICAL = {
    "key": "pk_abc123",
    "visitor_id": "3f2a9c1e-visitor",
    "touchpoint": "checkout_completed",
    "url": "https://shop.example/checkout?step=2",
    "locale": "zh-CN",
}

texts = st.one_of(
    st.text(max_size=40),
    st.text(alphabet="abc-_XYZ019 \t\n\x00", max_size=12),
    st.sampled_from(["", " ", "pk_x", "checkout", "a" * 101, "é", "\ud800", "ok\n"]),
)
values = st.one_of(
    texts, st.none(), st.integers(), st.booleans(), st.lists(st.integers(), max_size=2)
)
attributes = st.one_of(
    st.dictionaries(st.text(max_size=5), st.one_of(st.integers(), st.text(max_size=5), st.none())),
    values,
)
fields = ["key", "visitor_id", "user_id", "touchpoint", "url", "locale", "attributes", "unknown"]
# A usual body with some fields replaced by awkward values or left out: close enough to valid
# that the fast check says yes often, so a difference from the serializer would show.
bodies = st.builds(
    lambda replaced, removed: {
        k: v for k, v in {**TYPICAL, **replaced}.items() if k not in removed
    },
    st.dictionaries(st.sampled_from(fields), st.one_of(values, attributes), max_size=2),
    st.sets(st.sampled_from(fields), max_size=2),
)


def serializer_values(body):
    serializer = DecideApi.InputSerializer(data=body)
    return dict(serializer.validated_data) if serializer.is_valid() else None


def test_the_widgets_usual_body_takes_the_fast_path_with_the_serializers_values():
    for body in (TYPICAL, {**TYPICAL, "user_id": "u-1", "attributes": {"plan": "pro"}}):
        assert plainly_valid_decide(body) == serializer_values(body)
        assert plainly_valid_decide(body) is not None
    assert plainly_valid_decide({**TYPICAL, "user_id": None}) == {**TYPICAL, "user_id": None}


@settings(max_examples=3000, deadline=None)
@given(bodies)
def test_whatever_the_fast_check_accepts_the_serializer_accepts_with_the_same_values(body):
    fast = plainly_valid_decide(body)
    if fast is not None:
        assert fast == serializer_values(body)


@settings(max_examples=500, deadline=None)
@given(
    st.fixed_dictionaries(
        {
            "key": st.from_regex(r"pk_[A-Za-z0-9]{1,20}", fullmatch=True),
            "visitor_id": st.from_regex(r"[A-Za-z0-9-]{1,60}", fullmatch=True),
            "touchpoint": st.from_regex(r"[a-z_]{1,30}", fullmatch=True),
        },
        optional={"url": st.just("https://shop.example/"), "locale": st.just("en")},
    )
)
def test_ordinary_bodies_are_not_sent_the_slow_way(body):
    assert plainly_valid_decide(body) == serializer_values(body) == body


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
            "0B9A4F52-63F4-4D8E-9B7E-2F1C0D3E4A5B",
            "{0b9a4f52-63f4-4d8e-9b7e-2f1c0d3e4a5b}",
            "0b9a4f5263f44d8e9b7e2f1c0d3e4a5b",
            "0b9a4f52-63f4-4d8e-9b7e-2f1c0d3e4a5",
            " 0b9a4f52-63f4-4d8e-9b7e-2f1c0d3e4a5b",
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


def response_serializer_values(body):
    serializer = ResponseSubmitApi.InputSerializer(data=body)
    if not serializer.is_valid():
        return None
    values = dict(serializer.validated_data)
    values["answers"] = [dict(answer) for answer in values["answers"]]
    return values


def test_the_widgets_usual_answer_takes_the_fast_path_with_the_serializers_values():
    fast = plainly_valid_response(ANSWERED)
    assert fast is not None
    assert fast == response_serializer_values(ANSWERED)
    assert fast["answers"] == [
        {"question_id": 11, "value": 9},
        {"question_id": 12, "value": "Fast"},
    ]
    assert str(fast["display_id"]) == ANSWERED["display_id"]


@settings(max_examples=3000, deadline=None)
@given(response_bodies)
def test_whatever_the_fast_answer_check_accepts_the_serializer_accepts_alike(body):
    fast = plainly_valid_response(body)
    if fast is not None:
        assert fast == response_serializer_values(body)
