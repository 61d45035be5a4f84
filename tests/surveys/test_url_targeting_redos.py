"""URL targeting cannot be turned into a denial of service (issue 24).

A designer's URL regex runs on a URL the visitor sends. With a backtracking engine a pattern
like `(x+x+)+y` took seconds for a 25-character path, four times longer for every two
characters more; patterns now run on RE2 (linear time), patterns RE2 cannot run are refused
when the survey is saved, and the widget refuses URLs over 2000 characters, changing nothing."""

from __future__ import annotations

import uuid

import pytest
from django.test import Client

from feedback.answering.models import Feedback
from surveys.delivery.models import Display
from surveys.design.models import Survey
from tests.factories import MembershipFactory, UserFactory, decisions_counted, published_survey
from tests.surveys.test_designer_pages import post_data

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures("fresh_rate_counters"),
]

DECIDE = "/api/widget/v1/decide"
SHOP = "https://shop.example/"


def targeted(project, touchpoint, *rules: tuple[str, str]) -> Survey:
    return published_survey(
        project,
        touchpoints=[touchpoint],
        display_option="always",
        targeting={"urls": [{"op": op, "value": value} for op, value in rules]},
    )


def decide(widget, project, url: str, *, visitor: str = "v-1"):
    return widget.post(
        DECIDE,
        {
            "key": project.public_key,
            "visitor_id": visitor,
            "touchpoint": "checkout_completed",
            "url": url,
        },
        format="json",
    )


@pytest.mark.timeout(10, func_only=True)  # on a backtracking engine: hours
@pytest.mark.parametrize(
    ("pattern", "path_text"),
    [
        (r"(x+x+)+y", "x" * 1900),
        (r"/(a+)+$", "a" * 1900 + "!"),
        (r"^https://shop\.example/(\w+\s?)*$", "word" * 470 + "!"),
    ],
)
def test_catastrophic_patterns_on_long_urls_are_refused_at_once(
    widget, project, touchpoint, pattern, path_text
):
    targeted(project, touchpoint, ("regex", pattern))
    url = SHOP + path_text
    assert len(url) <= 2000
    reply = decide(widget, project, url)
    assert (reply.status_code, reply.json()) == (200, {"show": False, "reason": "targeting"})


@pytest.mark.timeout(10, func_only=True)
def test_a_catastrophic_pattern_still_matches_what_it_should(widget, project, touchpoint):
    targeted(project, touchpoint, ("regex", r"/(x+x+)+y"))
    shown = decide(widget, project, SHOP + "x" * 1500 + "y")
    assert shown.status_code == 200
    assert shown.json()["show"] is True
    refused = decide(widget, project, SHOP + "x" * 1500, visitor="v-2")
    assert refused.json() == {"show": False, "reason": "targeting"}


def test_a_pattern_saved_before_re2_never_matches_and_never_fails(widget, project, touchpoint):
    survey = targeted(project, touchpoint, ("contains", "/cart"))
    Survey.objects.filter(pk=survey.pk).update(
        targeting={"urls": [{"op": "regex", "value": r"/(?=cart)"}]}
    )
    reply = decide(widget, project, SHOP + "cart")
    assert (reply.status_code, reply.json()) == (200, {"show": False, "reason": "targeting"})


UNSUPPORTED = [
    (r"/(?=checkout)", "invalid perl operator: (?="),
    (r"/(?<!admin)/cart", "invalid perl operator: (?<!"),
    (r"(a)\1", r"invalid escape sequence: \1"),
    (r"/cart(", "missing ): /cart("),
]


@pytest.mark.parametrize(("pattern", "problem"), UNSUPPORTED)
def test_the_api_refuses_a_pattern_re2_cannot_run(server_client, touchpoint, pattern, problem):
    body = {
        "name": "Cart NPS",
        "touchpoints": ["checkout_completed"],
        "questions": [{"type": "nps", "text": {"en": "How likely…?"}}],
        "targeting": {
            "urls": [{"op": "contains", "value": "/"}, {"op": "regex", "value": pattern}]
        },
    }
    reply = server_client.post("/api/v1/surveys", body, format="json")
    assert reply.status_code == 400
    error = reply.json()["error"]
    assert error["fields"] == {
        "targeting.urls.1.value": [
            f"Not a regular expression vocsite can run: {problem}. "
            "(RE2 syntax: no look-ahead, look-behind or back-references.)"
        ]
    }
    assert Survey.objects.count() == 0


def test_the_api_accepts_patterns_re2_runs(server_client, touchpoint):
    body = {
        "name": "Cart NPS",
        "touchpoints": ["checkout_completed"],
        "questions": [{"type": "nps", "text": {"en": "How likely…?"}}],
        "targeting": {"urls": [{"op": "regex", "value": r"(?i)/CART/\d+$"}]},
    }
    reply = server_client.post("/api/v1/surveys", body, format="json")
    assert reply.status_code == 201, reply.json()
    assert Survey.objects.get().targeting == body["targeting"]


def test_the_designer_form_shows_the_refusal_beside_the_url_rules(project, touchpoint):
    user = UserFactory(username="designer")
    MembershipFactory(user=user, project=project, role="designer")
    designer = Client()
    designer.force_login(user)
    survey = targeted(project, touchpoint, ("contains", "/cart"))
    data = post_data(survey, target_urls="regex /(?=checkout)")
    page = designer.post(f"/app/surveys/{survey.pk}/", data)
    assert page.status_code == 422
    html = page.content.decode()
    assert "Not a regular expression vocsite can run: invalid perl operator: (?=." in html
    # Said in the summary at the top and again beside the field.
    assert html.count("Not a regular expression") == 2
    assert html.rindex("Not a regular expression") > html.index('name="target_urls"')
    survey.refresh_from_db()
    assert survey.targeting == {"urls": [{"op": "contains", "value": "/cart"}]}


def test_decide_caps_the_url_at_2000_characters(widget, project, touchpoint):
    targeted(project, touchpoint, ("contains", "/"))
    longest = SHOP + "a" * (2000 - len(SHOP))
    assert decide(widget, project, longest, visitor="v-ok").json()["show"] is True
    displays = Display.objects.count()
    decisions = decisions_counted().total()
    reply = decide(widget, project, longest + "a", visitor="v-long")
    assert reply.status_code == 400
    error = reply.json()["error"]
    assert (error["code"], error["fields"]) == (
        "invalid",
        {"url": ["Ensure this field has no more than 2000 characters."]},
    )
    assert (Display.objects.count(), decisions_counted().total()) == (displays, decisions)


def test_feedback_caps_the_url_at_2000_characters(widget, project):
    def send(url: str):
        return widget.post(
            "/api/widget/v1/feedback",
            {
                "key": project.public_key,
                "visitor_id": "v-1",
                "submission_id": str(uuid.uuid4()),
                "text": "The cart is slow",
                "url": url,
            },
            format="json",
        )

    assert send(SHOP + "a" * (2000 - len(SHOP))).status_code == 201
    reply = send(SHOP + "a" * 2000)
    assert reply.status_code == 400
    assert reply.json()["error"]["fields"] == {
        "url": ["Ensure this field has no more than 2000 characters."]
    }
    assert Feedback.objects.count() == 1
