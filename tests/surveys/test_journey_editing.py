"""The journey edited where it is shown and through the API: stages and touchpoints created,
renamed, reordered, retired, restored and deleted; bad input changes nothing; another
project's are a 404; a retired touchpoint, or any touchpoint of a retired stage, is refused by
decide with its reason while its history stays; a stage that holds touchpoints is not deleted."""

from __future__ import annotations

import pytest
from django.test import Client

from metrics.reports.selectors import touchpoint_scores
from surveys.delivery.models import DecisionCount, DecisionReason
from surveys.journey.models import JourneyStage, Touchpoint
from surveys.journey.services import stage_update, touchpoint_update
from tests.factories import (
    MembershipFactory,
    ProjectFactory,
    StageFactory,
    TouchpointFactory,
    UserFactory,
    published_survey,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def journey(project):
    """Two stages; Buy holds cart, checkout, receipt in that order."""
    discover = StageFactory(project=project, key="discover", name="Discover", position=0)
    buy = StageFactory(project=project, key="buy", name="Buy", position=1)
    for position, key in enumerate(["cart", "checkout", "receipt"]):
        TouchpointFactory(project=project, key=key, name=key.title(), stage=buy, position=position)
    return discover, buy


def order(project, stage_key: str) -> list[str]:
    return list(
        Touchpoint.objects.filter(project=project, stage__key=stage_key)
        .order_by("position")
        .values_list("key", flat=True)
    )


def tp(project, key: str) -> Touchpoint:
    return Touchpoint.objects.get(project=project, key=key)


def journey_state(project) -> list[tuple]:
    touchpoints = Touchpoint.objects.filter(project=project)
    stages = JourneyStage.objects.filter(project=project)
    return sorted(touchpoints.values_list("key", "name", "stage_id", "position")) + sorted(
        stages.values_list("key", "name", "position")
    )


def staff(project, role: str) -> Client:
    user = UserFactory(username=f"{role}-{project.pk}")
    MembershipFactory(user=user, project=project, role=role)
    client = Client()
    client.force_login(user)
    client.defaults["HTTP_X_PROJECT"] = str(project.pk)
    return client


# ---------------------------------------------------------------- API


def test_stages_are_created_listed_renamed_and_reordered(server_client, project, journey):
    created = server_client.post("/api/v1/stages", {"key": "renew", "name": "Renew"}, format="json")
    assert created.status_code == 201
    assert created.json() | {"id": 0} == {
        "id": 0,
        "key": "renew",
        "name": "Renew",
        "description": "",
        "position": 2,
        "retired": False,
        "retired_at": None,
    }
    renew_id = created.json()["id"]
    moved = server_client.patch(
        f"/api/v1/stages/{renew_id}", {"name": "Renewal", "position": 0}, format="json"
    )
    assert moved.status_code == 200
    assert (moved.json()["name"], moved.json()["position"]) == ("Renewal", 0)
    listed = server_client.get("/api/v1/stages").json()
    assert [(s["key"], s["position"]) for s in listed] == [
        ("renew", 0),
        ("discover", 1),
        ("buy", 2),
    ]
    again = server_client.post("/api/v1/stages", {"key": "buy", "name": "X"}, format="json")
    assert again.status_code == 409
    assert JourneyStage.objects.filter(project=project).count() == 3


def test_a_touchpoint_is_renamed_moved_and_reordered(server_client, project, journey):
    receipt = tp(project, "receipt")
    reply = server_client.patch(
        f"/api/v1/touchpoints/{receipt.pk}", {"name": "Order receipt", "position": 0}, format="json"
    )
    assert reply.status_code == 200
    assert reply.json() | {"id": 0} == {
        "id": 0,
        "key": "receipt",
        "name": "Order receipt",
        "stage": "buy",
        "channel": "web",
        "description": "",
        "position": 0,
        "retired": False,
        "retired_at": None,
    }
    assert order(project, "buy") == ["receipt", "cart", "checkout"]
    assert [t.position for t in Touchpoint.objects.filter(stage__key="buy")] == [0, 1, 2]

    cart = tp(project, "cart")
    reply = server_client.patch(
        f"/api/v1/touchpoints/{cart.pk}", {"stage": "discover"}, format="json"
    )
    assert (reply.status_code, reply.json()["stage"], reply.json()["position"]) == (
        200,
        "discover",
        0,
    )
    assert order(project, "buy") == ["receipt", "checkout"]
    assert order(project, "discover") == ["cart"]
    # A new touchpoint goes last in its stage.
    created = server_client.post(
        "/api/v1/touchpoints", {"key": "refund", "name": "Refund", "stage": "buy"}, format="json"
    )
    assert created.json()["position"] == 2
    assert order(project, "buy") == ["receipt", "checkout", "refund"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"key": "renamed_key"}, "key"),
        ({"stage": "nowhere"}, "stage"),
        ({"channel": "pigeon"}, "channel"),
        ({"position": -1}, "position"),
        ({"position": "first"}, "position"),
        ({"retired": "maybe"}, "retired"),
    ],
)
def test_bad_input_is_a_400_and_changes_nothing(server_client, project, journey, body, field):
    checkout = tp(project, "checkout")
    before = Touchpoint.objects.filter(project=project).values_list(
        "key", "name", "stage_id", "channel", "position", "retired_at"
    )
    before = sorted(before)
    reply = server_client.patch(f"/api/v1/touchpoints/{checkout.pk}", body, format="json")
    assert reply.status_code == 400
    assert list(reply.json()["error"]["fields"]) == [field]
    after = Touchpoint.objects.filter(project=project).values_list(
        "key", "name", "stage_id", "channel", "position", "retired_at"
    )
    assert sorted(after) == before


def test_delete_removes_an_unused_touchpoint_and_refuses_one_with_history(
    server_client, project, survey, touchpoint
):
    unused = TouchpointFactory(project=project, key="unused")
    assert server_client.delete(f"/api/v1/touchpoints/{unused.pk}").status_code == 204
    assert not Touchpoint.objects.filter(pk=unused.pk).exists()

    reply = server_client.delete(f"/api/v1/touchpoints/{touchpoint.pk}")
    assert reply.status_code == 409
    assert reply.json()["error"]["code"] == "touchpoint_has_history"
    assert reply.json()["error"]["message"] == (
        "The touchpoint checkout_completed has history (surveys, displays or answers) and "
        "cannot be deleted. Retire it instead: it stops being offered and its history stays "
        "in the metrics."
    )
    assert Touchpoint.objects.filter(pk=touchpoint.pk, retired_at=None).exists()


def test_another_projects_stages_and_touchpoints_are_404_and_unchanged(server_client, journey):
    other = ProjectFactory()
    stage = StageFactory(project=other, key="theirs", name="Theirs")
    theirs = TouchpointFactory(project=other, key="their_tp", name="Theirs", stage=stage)
    calls = [
        ("get", f"/api/v1/touchpoints/{theirs.pk}", None),
        ("patch", f"/api/v1/touchpoints/{theirs.pk}", {"name": "Mine now"}),
        ("patch", f"/api/v1/touchpoints/{theirs.pk}", {"retired": True}),
        ("delete", f"/api/v1/touchpoints/{theirs.pk}", None),
        ("get", f"/api/v1/stages/{stage.pk}", None),
        ("patch", f"/api/v1/stages/{stage.pk}", {"name": "Mine now"}),
        ("patch", f"/api/v1/stages/{stage.pk}", {"retired": True}),
        ("patch", f"/api/v1/stages/{stage.pk}", {"position": 0}),
        ("delete", f"/api/v1/stages/{stage.pk}", None),
    ]
    for method, url, body in calls:
        assert getattr(server_client, method)(url, body, format="json").status_code == 404, url
    assert "their_tp" not in server_client.get("/api/v1/touchpoints").content.decode()
    assert "theirs" not in server_client.get("/api/v1/stages").content.decode()
    # Moving one's own touchpoint into another project's stage is an unknown stage.
    mine = Touchpoint.objects.exclude(project=other).first()
    reply = server_client.patch(
        f"/api/v1/touchpoints/{mine.pk}", {"stage": "theirs"}, format="json"
    )
    assert reply.status_code == 400
    theirs.refresh_from_db()
    stage.refresh_from_db()
    assert (theirs.name, theirs.retired_at, stage.name) == ("Theirs", None, "Theirs")
    assert stage.retired_at is None


def test_viewers_read_the_journey_but_do_not_edit_it(project, journey):
    viewer = staff(project, "viewer")
    cart = tp(project, "cart")
    assert viewer.get("/api/v1/touchpoints").status_code == 200
    reply = viewer.patch(
        f"/api/v1/touchpoints/{cart.pk}", {"name": "X"}, content_type="application/json"
    )
    assert reply.status_code == 403
    assert (
        viewer.post(f"/app/journey/touchpoints/{cart.pk}/", {"action": "retire"}).status_code == 403
    )
    assert viewer.post("/app/journey/stages/", {"key": "x", "name": "X"}).status_code == 403
    page = viewer.get("/app/journey/").content.decode()
    assert "Add a touchpoint" not in page and 'name="action"' not in page
    cart.refresh_from_db()
    assert (cart.name, cart.retired_at) == ("Cart", None)


# ---------------------------------------------------------------- retiring


def test_decide_refuses_a_retired_touchpoint_with_its_reason_and_history_stays(
    project, survey, touchpoint, respond, widget
):
    respond(9)
    body = {"key": project.public_key, "visitor_id": "v-9", "touchpoint": touchpoint.key}

    touchpoint_update(touchpoint=touchpoint, retired=True)
    reply = widget.post("/api/widget/v1/decide", body, format="json")
    assert reply.json() == {"show": False, "reason": "touchpoint_retired"}
    counted = DecisionCount.objects.filter(
        touchpoint_key=touchpoint.key, reason="touchpoint_retired"
    )
    assert list(counted.values_list("count", flat=True)) == [1]
    # The answer given before it was retired still counts where it was given.
    assert touchpoint_scores(project)[touchpoint.key]["nps"]["n"] == 1

    touchpoint_update(touchpoint=touchpoint, retired=False)
    assert widget.post("/api/widget/v1/decide", body, format="json").json()["show"] is True


def test_a_retired_touchpoint_is_not_offered_in_the_designer(project, journey):
    designer = staff(project, "designer")
    survey = published_survey(project, touchpoints=[tp(project, "checkout")])
    touchpoint_update(touchpoint=tp(project, "checkout"), retired=True)
    touchpoint_update(touchpoint=tp(project, "receipt"), retired=True)
    page = designer.get(f"/app/surveys/{survey.pk}/").content.decode()
    assert 'value="cart"' in page
    assert 'value="receipt"' not in page  # retired: not offered
    assert "Checkout (retired)" in page  # retired, but this survey has it: still listed


def test_a_retired_stages_touchpoints_are_not_offered_in_the_designer(project, journey):
    _discover, buy = journey
    TouchpointFactory(project=project, key="browse", name="Browse", stage=_discover)
    designer = staff(project, "designer")
    survey = published_survey(project, touchpoints=[tp(project, "checkout")])
    stage_update(stage=buy, retired=True)
    page = designer.get(f"/app/surveys/{survey.pk}/").content.decode()
    assert 'value="browse"' in page
    assert 'value="cart"' not in page and 'value="receipt"' not in page
    assert "Checkout (retired)" in page  # its stage retired, but this survey has it


# ---------------------------------------------------------------- retiring and deleting stages


def test_decide_refuses_at_a_retired_stages_touchpoints_in_words_until_it_is_restored(
    server_client, project, survey, touchpoint, respond, widget, caches_on
):
    respond(9)
    body = {"key": project.public_key, "visitor_id": "v-9", "touchpoint": touchpoint.key}
    assert widget.post("/api/widget/v1/decide", body, format="json").json()["show"] is True

    stage = touchpoint.stage
    reply = server_client.patch(f"/api/v1/stages/{stage.pk}", {"retired": True}, format="json")
    assert reply.status_code == 200
    assert (reply.json()["retired"], reply.json()["retired_at"] is not None) == (True, True)
    # Decide reads the touchpoint from memory: the retirement reaches it at once.
    reply = widget.post("/api/widget/v1/decide", body, format="json")
    assert reply.json() == {"show": False, "reason": "stage_retired"}
    counted = DecisionCount.objects.filter(touchpoint_key=touchpoint.key, reason="stage_retired")
    assert list(counted.values_list("count", flat=True)) == [1]
    assert DecisionReason(counted.get().reason).label == "Journey stage retired"
    # The touchpoint itself is untouched, and its answers still count where they were given.
    touchpoint.refresh_from_db()
    assert touchpoint.retired_at is None
    assert touchpoint_scores(project)[touchpoint.key]["nps"]["n"] == 1

    reply = server_client.patch(f"/api/v1/stages/{stage.pk}", {"retired": False}, format="json")
    assert (reply.json()["retired"], reply.json()["retired_at"]) == (False, None)
    assert widget.post("/api/widget/v1/decide", body, format="json").json()["show"] is True


def test_a_retired_touchpoint_in_a_retired_stage_names_its_own_retirement(
    project, survey, touchpoint, widget
):
    stage_update(stage=touchpoint.stage, retired=True)
    touchpoint_update(touchpoint=touchpoint, retired=True)
    body = {"key": project.public_key, "visitor_id": "v-1", "touchpoint": touchpoint.key}
    reply = widget.post("/api/widget/v1/decide", body, format="json")
    assert reply.json() == {"show": False, "reason": "touchpoint_retired"}


def test_a_stage_is_deleted_only_when_it_holds_no_touchpoint(server_client, project, journey):
    discover, buy = journey
    renew = StageFactory(project=project, key="renew", name="Renew", position=2)
    retired = tp(project, "receipt")
    touchpoint_update(touchpoint=retired, retired=True)

    reply = server_client.delete(f"/api/v1/stages/{buy.pk}")
    assert reply.status_code == 409
    assert reply.json()["error"] == {
        "code": "stage_has_touchpoints",
        "message": "The stage buy holds 3 touchpoints and cannot be deleted. Move them to "
        "another stage first, or retire the stage instead.",
        "fields": {},
    }
    assert order(project, "buy") == ["cart", "checkout", "receipt"]

    # Two moved out, one (retired) left: still refused, in the singular.
    for key in ("cart", "checkout"):
        touchpoint_update(touchpoint=tp(project, key), stage=discover)
    reply = server_client.delete(f"/api/v1/stages/{buy.pk}")
    assert reply.json()["error"]["message"] == (
        "The stage buy holds 1 touchpoint and cannot be deleted. Move it to another stage "
        "first, or retire the stage instead."
    )

    touchpoint_update(touchpoint=retired, stage=renew)
    assert server_client.delete(f"/api/v1/stages/{buy.pk}").status_code == 204
    stages = JourneyStage.objects.filter(project=project)
    assert list(stages.values_list("key", "position")) == [("discover", 0), ("renew", 1)]
    assert server_client.delete(f"/api/v1/stages/{buy.pk}").status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"retired": "maybe"}, "retired"),
        ({"key": "renamed"}, "key"),
        ({"name": ""}, "name"),
        ({"position": -1}, "position"),
    ],
)
def test_bad_stage_input_is_a_400_and_changes_nothing(server_client, project, journey, body, field):
    _, buy = journey
    before = [*journey_state(project), buy.retired_at]
    reply = server_client.patch(f"/api/v1/stages/{buy.pk}", body, format="json")
    assert reply.status_code == 400
    assert list(reply.json()["error"]["fields"]) == [field]
    buy.refresh_from_db()
    assert [*journey_state(project), buy.retired_at] == before


def test_viewers_neither_retire_nor_delete_a_stage(project, journey):
    _, buy = journey
    viewer = staff(project, "viewer")
    reply = viewer.patch(
        f"/api/v1/stages/{buy.pk}", {"retired": True}, content_type="application/json"
    )
    assert reply.status_code == 403
    assert viewer.delete(f"/api/v1/stages/{buy.pk}").status_code == 403
    for action in ("retire", "delete"):
        assert viewer.post(f"/app/journey/stages/{buy.pk}/", {"action": action}).status_code == 403
    buy.refresh_from_db()
    assert buy.retired_at is None


def test_the_page_retires_restores_and_deletes_a_stage(project, journey):
    discover, buy = journey
    designer = staff(project, "designer")
    edit = f"/app/journey/stages/{buy.pk}/"
    reply = designer.post(edit, {"action": "retire"})
    assert (reply.status_code, reply["Location"]) == (302, f"/app/journey/#stage-{buy.pk}")
    buy.refresh_from_db()
    assert buy.retired_at is not None

    page = designer.get("/app/journey/").content.decode()
    # In its place (second), greyed, its touchpoints behind a collapsed summary, with Restore.
    column = page[page.rindex("<section", 0, page.index(f'id="stage-{buy.pk}"')) :]
    column = column.split("</section>")[0]
    assert 'class="journey-stage journey-stage-retired journey-retired"' in column
    assert "2. Buy" in column and "Retired" in column
    assert '<details class="journey-retired-touchpoints"><summary class="small">3 touchpoints' in (
        column
    )
    assert 'aria-label="Restore stage Buy"' in column
    assert page.index("1. Discover") < page.index(f'id="stage-{buy.pk}"')

    # Deleting it while it holds touchpoints is refused in words, and changes nothing.
    before = journey_state(project)
    reply = designer.post(edit, {"action": "delete"})
    assert reply.status_code == 409
    assert (
        "The stage buy holds 3 touchpoints and cannot be deleted. Move them to another stage "
        "first, or retire the stage instead." in reply.content.decode()
    )
    assert journey_state(project) == before

    assert designer.post(edit, {"action": "restore"}).status_code == 302
    buy.refresh_from_db()
    assert buy.retired_at is None
    page = designer.get("/app/journey/").content.decode()
    assert "journey-stage-retired" not in page and 'data-stage="buy"' in page

    # Reordered with its arrows; an empty stage is deleted and the others close up.
    assert designer.post(edit, {"action": "up"}).status_code == 302
    assert list(JourneyStage.objects.filter(project=project).values_list("key", flat=True)) == [
        "buy",
        "discover",
    ]
    reply = designer.post(f"/app/journey/stages/{discover.pk}/", {"action": "delete"})
    assert (reply.status_code, reply["Location"]) == (302, "/app/journey/")
    stages = JourneyStage.objects.filter(project=project)
    assert list(stages.values_list("key", "position")) == [("buy", 0)]


# ---------------------------------------------------------------- the page


def test_the_page_adds_renames_reorders_and_retires(project, journey):
    designer = staff(project, "designer")
    reply = designer.post("/app/journey/stages/", {"key": "renew", "name": "Renew"})
    assert reply.status_code == 302
    reply = designer.post(
        "/app/journey/touchpoints/",
        {"key": "renewal_due", "name": "Renewal due", "stage": "renew", "channel": "email"},
    )
    assert reply.status_code == 302
    new = tp(project, "renewal_due")
    assert reply["Location"] == f"/app/journey/#touchpoint-{new.pk}"
    assert (new.stage.key, new.channel, new.position) == ("renew", "email", 0)

    checkout = tp(project, "checkout")
    edit = f"/app/journey/touchpoints/{checkout.pk}/"
    assert designer.post(edit, {"action": "rename", "name": "Pay"}).status_code == 302
    assert designer.post(edit, {"action": "up"}).status_code == 302
    assert order(project, "buy") == ["checkout", "cart", "receipt"]
    assert designer.post(edit, {"action": "down"}).status_code == 302
    assert designer.post(edit, {"action": "down"}).status_code == 302
    assert order(project, "buy") == ["cart", "receipt", "checkout"]
    # A drop (the drag's POST): into Discover, first.
    reply = designer.post(edit, {"action": "move", "stage": "discover", "position": "0"})
    assert reply.status_code == 302
    assert (order(project, "discover"), order(project, "buy")) == (
        ["checkout"],
        ["cart", "receipt"],
    )
    buy = JourneyStage.objects.get(project=project, key="buy")
    assert designer.post(f"/app/journey/stages/{buy.pk}/", {"action": "up"}).status_code == 302
    assert (
        designer.post(
            f"/app/journey/stages/{buy.pk}/", {"action": "rename", "name": "Purchase"}
        ).status_code
        == 302
    )
    assert list(JourneyStage.objects.filter(project=project).values_list("name", flat=True)) == [
        "Purchase",
        "Discover",
        "Renew",
    ]
    assert designer.post(edit, {"action": "retire"}).status_code == 302
    page = designer.get("/app/journey/").content.decode()
    assert page.index("1. Purchase") < page.index("2. Discover") < page.index("3. Renew")
    retired = page[page.index('id="retired-touchpoints"') :]
    assert 'data-touchpoint="checkout"' in retired and ">Pay</div>" in retired
    assert designer.post(edit, {"action": "restore"}).status_code == 302
    checkout.refresh_from_db()
    assert (checkout.name, checkout.retired_at, checkout.stage.key) == ("Pay", None, "discover")


@pytest.mark.parametrize(
    ("url", "data", "message"),
    [
        (
            "/app/journey/stages/",
            {"key": "buy", "name": "Again"},
            "A stage with this key already exists.",
        ),
        (
            "/app/journey/stages/",
            {"key": "no spaces", "name": "X"},
            "Enter a valid “slug” consisting of letters, numbers, underscores or hyphens.",
        ),
        (
            "/app/journey/touchpoints/",
            {"key": "cart", "name": "Cart 2", "channel": "web"},
            "A touchpoint with this key already exists.",
        ),
        (
            "/app/journey/touchpoints/",
            {"key": "x", "name": "X", "channel": "pigeon"},
            "Select a valid choice. pigeon is not one of the available choices.",
        ),
        ("TP", {"action": "rename", "name": ""}, "This field is required."),
        ("TP", {"action": "move", "stage": "nowhere", "position": "0"}, "Unknown stage."),
        (
            "TP",
            {"action": "move", "stage": "buy", "position": "-3"},
            "Ensure this value is greater than or equal to 0.",
        ),
        ("TP", {"action": "explode"}, "Unknown change."),
    ],
)
def test_bad_input_on_the_page_is_a_4xx_with_words_and_changes_nothing(
    project, journey, url, data, message
):
    designer = staff(project, "designer")
    cart = tp(project, "cart")
    url = f"/app/journey/touchpoints/{cart.pk}/" if url == "TP" else url
    before = journey_state(project)
    reply = designer.post(url, data)
    assert reply.status_code in (400, 409)
    assert message in reply.content.decode()
    assert journey_state(project) == before


def test_the_page_does_not_reach_another_project(project, journey):
    designer = staff(project, "designer")
    other = ProjectFactory()
    theirs = TouchpointFactory(project=other, key="theirs", name="Theirs")
    for action in ("rename", "retire", "delete", "up"):
        reply = designer.post(
            f"/app/journey/touchpoints/{theirs.pk}/", {"action": action, "name": "Mine"}
        )
        assert reply.status_code == 404
    for action in ("rename", "retire", "delete", "up"):
        reply = designer.post(
            f"/app/journey/stages/{theirs.stage.pk}/", {"action": action, "name": "Mine"}
        )
        assert reply.status_code == 404
    theirs.refresh_from_db()
    assert theirs.stage.retired_at is None
    assert (theirs.name, theirs.retired_at, theirs.stage.name) == (
        "Theirs",
        None,
        theirs.stage.name,
    )
    assert "theirs" not in designer.get("/app/journey/").content.decode()


def test_each_card_links_to_its_dashboard_and_verbatims_which_honour_the_filter(
    project, survey, touchpoint, respond
):
    other = TouchpointFactory(project=project, key="onboarding", name="Onboarding")
    respond(3, "The checkout page froze")
    agent = staff(project, "designer")
    page = agent.get("/app/journey/").content.decode()
    card = page[page.index('data-touchpoint="checkout_completed"') :].split("</details>")[0]
    assert 'href="/app/dashboards/?touchpoint=checkout_completed"' in card
    assert 'href="/app/verbatims/?touchpoint=checkout_completed"' in card
    assert "95 % CI" in card
    assert (
        "The checkout page froze"
        in agent.get("/app/verbatims/?touchpoint=checkout_completed").content.decode()
    )
    assert (
        "The checkout page froze"
        not in agent.get(f"/app/verbatims/?touchpoint={other.key}").content.decode()
    )
    dashboard = agent.get(f"/app/dashboards/?touchpoint={other.key}")
    assert dashboard.status_code == 200
    assert dashboard.context["query"].filters.touchpoint == "onboarding"
