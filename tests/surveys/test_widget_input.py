"""Decide's fast input check agrees with DecideApi.InputSerializer, which defines the input."""

from hypothesis import given, settings
from hypothesis import strategies as st

from surveys.widget_api import DecideApi, plainly_valid_decide

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
