"""Every dashboard panel honours every filter on the page, or says on the page that it doesn't
(issue: "every figure right under every filter"). A test matrix: each filter × each panel, each
figure compared with the metrics API's figure for the same filter, or with the raw rows."""

from __future__ import annotations

import itertools
import uuid

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from feedback.answering.services import AnswerIn, response_submit
from feedback.cases.models import Case
from feedback.cases.services import CaseChange, alert_rules_install_defaults, case_change
from metrics.reports.dashboards import PANEL_FILTERS
from surveys.delivery.ledger import contact_resolve, display_claim, display_mark_shown
from surveys.delivery.models import Display, DisplayStatus
from tests.factories import (
    MembershipFactory,
    RootCauseFactory,
    StageFactory,
    TouchpointFactory,
    UserFactory,
    answered,
    published_survey,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(project, server_client, django_capture_on_commit_callbacks):
    """Two stages, a web and an app touchpoint, two surveys, customers on two plans; answers
    through the real services (rollups, displays, decisions and cases as in production)."""
    project.breakdown_attributes = ["plan"]
    project.recontact_days = 0
    project.frequency_cap = 10_000
    project.save()
    alert_rules_install_defaults(project=project)
    discover = StageFactory(project=project, key="discover", name="Discover", position=0)
    buy = StageFactory(project=project, key="buy", name="Buy", position=1)
    web = TouchpointFactory(project=project, key="landing", stage=discover, channel="web")
    app = TouchpointFactory(project=project, key="checkout", stage=buy, channel="app")
    nps = published_survey(
        project, touchpoints=[web, app], name="NPS", display_option="always", recontact_days=0
    )
    survey_ids = [nps.pk]
    scores = itertools.cycle([10, 9, 8, 3, 0, 10, 6, 9, 2, 10, 7])
    for i in range(66):
        plan = ("pro", "free", "team")[i % 3]
        touchpoint = (web, app)[(i // 3) % 2]
        contact = contact_resolve(
            project=project, visitor_id=f"v{i}", user_id=None, attributes={"plan": plan}
        )
        display = display_claim(
            project=project, contact=contact, touchpoint_key=touchpoint.key
        ).display
        if i % 11 == 5:  # some are shown and never answered
            display_mark_shown(display=display)
            continue
        question = nps.current_version.snapshot["questions"][0]["id"]
        with django_capture_on_commit_callbacks(execute=True):
            response_submit(
                project=project,
                display=display,
                submission_id=uuid.uuid4(),
                answers=[AnswerIn(question, next(scores))],
                finished=True,
            )
    for case in Case.objects.filter(project=project)[:6]:
        case_change(
            case=case,
            actor=None,
            change=CaseChange(
                status="resolved",
                root_cause=RootCauseFactory(project=case.project, name="product"),
                resolution_note="ok",
            ),
        )
    viewer = UserFactory(username="viewer-filters")
    MembershipFactory(user=viewer, project=project, role="admin")
    client = Client()
    client.force_login(viewer)
    return {"client": client, "api": server_client, "survey_ids": survey_ids}


TODAY = timezone.now().date().isoformat()
FILTERS = [
    {},
    {"survey": "SURVEY"},
    {"touchpoint": "landing"},
    {"stage": "buy"},
    {"channel": "app"},
    {"channel": "web"},
    {"segment": "plan:pro"},
    {"segment": "plan:free", "channel": "web"},
    {"segment": "plan:team", "touchpoint": "checkout"},
]


def _params(world, filters):
    params = {k: (world["survey_ids"][0] if v == "SURVEY" else v) for k, v in filters.items()}
    return {"since": TODAY, "until": TODAY, **params}


def _api(world, **params):
    reply = world["api"].get("/api/v1/metrics", {"metric": "nps", **params})
    assert reply.status_code == 200, reply.content
    return reply.json()["total"]


def _figure(total):
    return (total["n"], total["score"], total["ci_low"], total["ci_high"])


def test_every_panel_under_every_filter(world, subtests):
    """One world (building it is the slow part; the checks only read), three checks under
    each filter, each filter reported on its own."""
    for filters in FILTERS:
        with subtests.test(filters=",".join(filters) or "none"):
            _panels_agree_with_the_api(world, filters)
            _panels_that_cannot_apply_a_filter_say_so(world, filters)
            _response_rate_and_recovery_follow_the_filters(world, filters)


def _panels_agree_with_the_api(world, filters):
    params = _params(world, filters)
    executive = world["client"].get("/app/dashboards/", params)
    lead = world["client"].get("/app/dashboards/lead/", params)
    assert executive.status_code == lead.status_code == 200
    api_total = _api(world, **params)
    assert api_total["n"] > 0 or filters  # the world has answers for the unfiltered view

    # KPIs (both dashboards).
    for page in (executive, lead):
        assert _figure(page.context["reports"]["nps"]["total"]) == _figure(api_total)

    # The journey table: each touchpoint's cell is the API's figure for that touchpoint.
    for row in executive.context["journey"]:
        for item in row["touchpoints"]:
            cell = item["metrics"].get("nps")
            expected = _api(world, **{**params, "touchpoint": item["touchpoint"].key})
            if cell is None:
                assert expected["n"] == 0
            else:
                assert _figure(cell) == _figure(expected)

    # Breakdowns: by channel, and by plan (or a note when a segment filter rules it out).
    splits = {chart["label"]: chart for chart in lead.context["breakdown_charts"]}
    for row in splits["channel"]["rows"]:
        assert _figure(row) == _figure(_api(world, **{**params, "channel": row["value"]}))
    assert sum(r["n"] for r in splits["channel"]["rows"]) == api_total["n"]
    plan = splits["plan"]
    for row in plan["rows"]:
        assert _figure(row) == _figure(_api(world, **{**params, "segment": f"plan:{row['value']}"}))
    assert sum(r["n"] for r in plan["rows"]) == api_total["n"]
    assert plan["note"] == ""


def _panels_that_cannot_apply_a_filter_say_so(world, filters):
    params = _params(world, filters)
    executive = world["client"].get("/app/dashboards/", params)
    lead = world["client"].get("/app/dashboards/lead/", params)
    html = executive.content.decode() + lead.content.decode()
    active = {"dates", *filters}
    for panel, honoured in PANEL_FILTERS.items():
        note = executive.context["notes"][panel]
        left_out = active - honoured
        assert bool(note) == bool(left_out), panel
        for name in left_out:
            assert f"the {name}" in note
    # The notes are on the pages, beside their panels.
    assert 'data-panel="backlog"' in html
    assert executive.context["churn"]["has_data"] is False  # no customers: no churn panel
    if "segment" in filters:
        assert 'data-panel="response_rate"' in html
        assert "Not filtered by the segment." in lead.context["notes"]["response_rate"]


def _response_rate_and_recovery_follow_the_filters(world, filters):
    params = _params(world, filters)
    lead = world["client"].get("/app/dashboards/lead/", params).context
    executive = world["client"].get("/app/dashboards/", params).context
    displays = Display.objects.filter(
        status__in=[DisplayStatus.SHOWN, DisplayStatus.RESPONDED, DisplayStatus.DISMISSED]
    )
    if filters.get("touchpoint"):
        displays = displays.filter(touchpoint__key=filters["touchpoint"])
    if filters.get("stage"):
        displays = displays.filter(touchpoint__stage__key=filters["stage"])
    if filters.get("channel"):
        displays = displays.filter(touchpoint__channel=filters["channel"])
    assert lead["response_rate"]["shown"] == displays.count()
    assert lead["response_rate"]["finished"] == displays.filter(response__finished=True).count()
    cases = Case.objects.filter(status="resolved", response__isnull=False)
    if filters.get("touchpoint"):
        cases = cases.filter(response__touchpoint__key=filters["touchpoint"])
    if filters.get("stage"):
        cases = cases.filter(response__touchpoint__stage__key=filters["stage"])
    if filters.get("channel"):
        cases = cases.filter(response__touchpoint__channel=filters["channel"])
    if filters.get("segment"):
        attribute, value = filters["segment"].split(":")
        cases = cases.filter(**{f"response__segment__{attribute}": value})
    assert executive["recovery"]["closed"] == cases.count()
    if cases.count():
        assert executive["recovery"]["rate_ci_low"] <= executive["recovery"]["rate"]


def test_dashboards_cut_raw_rows_on_the_projects_days(project, touchpoint, respond_at):
    """An answer at 17:30 UTC on 1 March is on 2 March in Shanghai: the frontline's low scores
    for 2 March (raw rows) find it, as the rollups count it on that day."""
    project.timezone = "Asia/Shanghai"
    project.save()
    respond_at("2026-03-01T17:30:00+00:00", 2)
    viewer = UserFactory(username="viewer-tz")
    MembershipFactory(user=viewer, project=project, role="admin")
    client = Client()
    client.force_login(viewer)
    page = client.get("/app/dashboards/frontline/", {"since": "2026-03-02", "until": "2026-03-02"})
    assert len(page.context["low"]) == 1
    page = client.get("/app/dashboards/frontline/", {"since": "2026-03-01", "until": "2026-03-01"})
    assert len(page.context["low"]) == 0
    lead = client.get("/app/dashboards/lead/", {"since": "2026-03-02", "until": "2026-03-02"})
    assert lead.context["reports"]["nps"]["total"]["n"] == 1


@pytest.fixture
def respond_at(project, touchpoint):
    project.recontact_days = 0
    project.save()
    survey = published_survey(project, touchpoints=[touchpoint], display_option="always")

    def answer(moment: str, score: int):
        with time_machine.travel(moment, tick=False):
            answered(survey, score)

    return answer
