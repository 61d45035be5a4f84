"""A held-out check of the figures the metrics API returns: random score vectors are put in the
rollups, read back through `GET /api/v1/metrics`, and every number is recomputed here with
scipy and statsmodels — not with vocsite's own code — to two decimals (DESIGN.md §7)."""

from __future__ import annotations

import math
import random
import uuid
from datetime import date, timedelta

import numpy as np
import pytest
from scipy import stats
from statsmodels.stats.proportion import proportion_confint, proportions_ztest

from metrics.rollups.models import Rollup

pytestmark = pytest.mark.django_db

SEEDS = range(12)


def _put(project, survey, metric: str, scale: int, day: date, answers: list[int]) -> None:
    uid = uuid.uuid5(uuid.NAMESPACE_URL, f"{survey.pk}/{metric}/{scale}")
    for score in sorted(set(answers)):
        Rollup.objects.create(
            project=project,
            survey=survey,
            question_uid=uid,
            question_type=metric,
            scale_max=scale,
            touchpoint_key="checkout_completed",
            channel="web",
            day=day,
            score=score,
            count=answers.count(score),
        )


def _vector(rng: random.Random, low: int, high: int) -> list[int]:
    weights = [rng.random() ** 2 for _ in range(low, high + 1)]
    return rng.choices(range(low, high + 1), weights=weights, k=rng.randint(5, 400))


def _get(client, **params) -> dict:
    reply = client.get("/api/v1/metrics", params)
    assert reply.status_code == 200, reply.content
    return reply.json()


def _adjusted_wald(answers: list[int]) -> tuple[float, float, float]:
    """NPS and its adjusted-Wald interval, written from DESIGN.md §7 with numpy."""
    a = np.array(answers)
    n = a.size
    promoters, detractors = int((a >= 9).sum()), int((a <= 6).sum())
    score = 100 * (promoters - detractors) / n
    n_adj = n + 3
    p, d = (promoters + 0.75) / n_adj, (detractors + 0.75) / n_adj
    s = p - d
    half = 1.959964 * math.sqrt((p + d - s * s) / n_adj)
    low, high = max(-100, 100 * (s - half)), min(100, 100 * (s + half))
    return score, min(low, score), max(high, score)


@pytest.mark.parametrize("seed", SEEDS)
def test_nps_matches_an_independent_computation(server_client, project, survey, seed):
    rng = random.Random(seed)
    answers = _vector(rng, 0, 10)
    _put(project, survey, "nps", 10, date(2026, 10, 1), answers)
    total = _get(server_client, metric="nps", survey=survey.pk)["total"]
    score, low, high = _adjusted_wald(answers)
    assert total["n"] == len(answers)
    assert total["score"] == pytest.approx(round(score, 2), abs=0.011)
    assert total["ci_low"] == pytest.approx(low, abs=0.011)
    assert total["ci_high"] == pytest.approx(high, abs=0.011)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("metric, scale, top_from", [("csat", 5, 4), ("ces", 7, 5)])
def test_shares_and_means_match_statsmodels_and_scipy(
    server_client, project, survey, seed, metric, scale, top_from
):
    rng = random.Random(seed * 31 + scale)
    answers = _vector(rng, 1, scale)
    _put(project, survey, metric, scale, date(2026, 10, 1), answers)
    total = _get(server_client, metric=metric, survey=survey.pk)["total"]
    top = sum(1 for a in answers if a >= top_from)
    low, high = proportion_confint(top, len(answers), alpha=0.05, method="wilson")
    assert total["n"] == len(answers)
    assert total["score"] == pytest.approx(100 * top / len(answers), abs=0.006)
    assert total["ci_low"] == pytest.approx(100 * low, abs=0.006)
    assert total["ci_high"] == pytest.approx(100 * high, abs=0.006)
    assert total["mean"] == pytest.approx(float(np.mean(answers)), abs=0.006)
    if len(set(answers)) > 1:
        m_low, m_high = stats.t.interval(
            0.95, len(answers) - 1, loc=np.mean(answers), scale=stats.sem(answers)
        )
        assert total["mean_ci_low"] == pytest.approx(m_low, abs=0.006)
        assert total["mean_ci_high"] == pytest.approx(m_high, abs=0.006)


@pytest.mark.parametrize("seed", SEEDS)
def test_period_comparisons_match_statsmodels(server_client, project, survey, seed):
    """CSAT this fortnight against the one before: the pooled two-proportion z-test."""
    rng = random.Random(1000 + seed)
    before, now = _vector(rng, 1, 5), _vector(rng, 1, 5)
    start = date(2026, 10, 15)
    _put(project, survey, "csat", 5, start - timedelta(days=3), before)
    _put(project, survey, "csat", 5, start + timedelta(days=3), now)
    body = _get(
        server_client,
        metric="csat",
        survey=survey.pk,
        since=start.isoformat(),
        until=(start + timedelta(days=13)).isoformat(),
        compare="previous",
    )
    comparison = body["comparison"]
    top_now, top_before = sum(a >= 4 for a in now), sum(a >= 4 for a in before)
    if top_now + top_before in (0, len(now) + len(before)):
        assert comparison["z"] is None
        return
    z, p = proportions_ztest([top_now, top_before], [len(now), len(before)])
    assert comparison["z"] == pytest.approx(float(z), abs=0.006)
    assert comparison["p_value"] == pytest.approx(float(p), abs=0.0001)
    assert comparison["significant"] is (float(p) < 0.05 and min(len(now), len(before)) >= 30)


@pytest.mark.parametrize("seed", SEEDS)
def test_nps_comparisons_use_adjusted_wald_standard_errors(server_client, project, survey, seed):
    rng = random.Random(2000 + seed)
    before, now = _vector(rng, 0, 10), _vector(rng, 0, 10)
    start = date(2026, 10, 15)
    _put(project, survey, "nps", 10, start - timedelta(days=3), before)
    _put(project, survey, "nps", 10, start + timedelta(days=3), now)
    comparison = _get(
        server_client,
        metric="nps",
        survey=survey.pk,
        since=start.isoformat(),
        until=(start + timedelta(days=13)).isoformat(),
        compare="previous",
    )["comparison"]

    def score_and_se(answers):
        a = np.array(answers)
        n_adj = a.size + 3
        p, d = ((a >= 9).sum() + 0.75) / n_adj, ((a <= 6).sum() + 0.75) / n_adj
        return 100 * ((a >= 9).mean() - (a <= 6).mean()), 100 * math.sqrt(
            (p + d - (p - d) ** 2) / n_adj
        )

    (s_before, se_before), (s_now, se_now) = score_and_se(before), score_and_se(now)
    z = (s_now - s_before) / math.hypot(se_before, se_now)
    assert comparison["z"] == pytest.approx(z, abs=0.006)
    assert comparison["p_value"] == pytest.approx(2 * stats.norm.sf(abs(z)), abs=0.0001)
