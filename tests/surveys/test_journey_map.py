"""The journey map: stages and touchpoints in order, each with its scores and n from rollups."""

import uuid

import pytest
from django.test import Client
from django.utils import timezone

from metrics.reports.selectors import touchpoint_scores
from metrics.rollups.models import Rollup
from tests.factories import (
    MembershipFactory,
    StageFactory,
    TouchpointFactory,
    UserFactory,
    published_survey,
)

pytestmark = pytest.mark.django_db


def cell(project, survey, touchpoint, question_type, scale_max, score, count, days_ago=0):
    Rollup.objects.create(
        project=project,
        survey=survey,
        question_uid=uuid.UUID(int=1),
        question_type=question_type,
        scale_max=scale_max,
        touchpoint_key=touchpoint.key,
        stage_key=touchpoint.stage.key,
        channel="widget",
        day=timezone.now().date() - timezone.timedelta(days=days_ago),
        score=score,
        count=count,
    )


@pytest.fixture
def journey(project):
    discover = StageFactory(project=project, key="discover", name="Discover", position=0)
    buy = StageFactory(project=project, key="buy", name="Buy", position=1)
    landing = TouchpointFactory(project=project, key="landing", name="Landing", stage=discover)
    checkout = TouchpointFactory(
        project=project, key="checkout", name="Checkout", stage=buy, position=1
    )
    cart = TouchpointFactory(project=project, key="cart", name="Cart", stage=buy, position=0)
    survey = published_survey(project, touchpoints=[landing, checkout])
    # landing: 20 promoters, 5 passives, 15 detractors → NPS 12.5, n 40
    cell(project, survey, landing, "nps", 10, 10, 20)
    cell(project, survey, landing, "nps", 10, 7, 5)
    cell(project, survey, landing, "nps", 10, 3, 15)
    cell(project, survey, landing, "nps", 10, 0, 50, days_ago=200)  # outside 90 days
    # checkout: CSAT 4 of 10 satisfied (scale 5) → 40 %, n 10 (low sample)
    cell(project, survey, checkout, "csat", 5, 5, 4)
    cell(project, survey, checkout, "csat", 5, 2, 6)
    return project, survey, (landing, cart, checkout)


def test_scores_per_touchpoint_from_rollups(journey, django_assert_num_queries):
    project, _, _ = journey
    today = timezone.now().date()
    with django_assert_num_queries(1):
        scores = touchpoint_scores(project, since=today - timezone.timedelta(days=89), until=today)
    assert scores["landing"]["nps"]["score"] == 12.5
    assert scores["landing"]["nps"]["n"] == 40
    assert scores["checkout"]["csat"]["score"] == 40.0
    assert scores["checkout"]["csat"]["low_sample"] is True
    assert "cart" not in scores


def test_the_page_lists_stages_and_touchpoints_in_order_with_scores(journey):
    project, _, _ = journey
    viewer = UserFactory()
    MembershipFactory(user=viewer, project=project, role="viewer")
    client = Client()
    client.force_login(viewer)
    html = client.get("/app/journey/").content.decode()
    assert html.index("1. Discover") < html.index("2. Buy")
    assert html.index('data-touchpoint="cart"') < html.index('data-touchpoint="checkout"')
    landing = html[html.index('data-touchpoint="landing"') :]
    assert '<div class="metric-value fs-5">13</div><div class="metric-n">n=40</div>' in landing
    checkout = html[html.index('data-touchpoint="checkout"') :]
    assert 'class="journey-score low-sample"' in checkout.split("</section>")[0]
    assert "No answers yet" in html[html.index('data-touchpoint="cart"') :]
    year = client.get("/app/journey/?days=365").content.decode()
    assert '<div class="metric-value fs-5">-50</div><div class="metric-n">n=90</div>' in year
