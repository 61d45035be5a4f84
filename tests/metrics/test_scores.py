"""metrics.scores: DESIGN.md §7's worked examples to two decimals, and properties."""

from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from metrics.scores import ces, compare_nps, compare_share, csat, merge, nps, wilson_interval
from surveys.contacts.models import Contact
from surveys.design.scales import nps_category, nps_category_sql
from tests.factories import ContactFactory


def test_nps_30_50_20_is_plus_10():
    result = nps({10: 30, 8: 50, 3: 20})
    assert (result.promoters, result.passives, result.detractors, result.n) == (30, 50, 20, 100)
    assert result.score == pytest.approx(10.0)


def test_nps_300_100_100_is_40_with_wald_se_and_interval():
    result = nps({9: 300, 7: 100, 0: 100})
    assert result.score == pytest.approx(40.0)
    assert round(result.se, 3) == 3.578
    assert [round(v, 2) for v in result.wald_ci] == [32.99, 47.01]
    # Adjusted Wald (the interval the API shows): n'=503, p'=300.75/503, d'=100.75/503.
    assert (round(result.ci_low, 2), round(result.ci_high, 2)) == (32.77, 46.75)
    assert result.to_dict() == {
        "n": 500,
        "score": 40.0,
        "ci_low": 32.77,
        "ci_high": 46.75,
        "promoters": 300,
        "passives": 100,
        "detractors": 100,
        "promoters_share": 60.0,
        "promoters_share_ci_low": 55.65,
        "promoters_share_ci_high": 64.2,
        "promoters_share_n": 500,
        "passives_share": 20.0,
        "passives_share_ci_low": 16.73,
        "passives_share_ci_high": 23.73,
        "passives_share_n": 500,
        "detractors_share": 20.0,
        "detractors_share_ci_low": 16.73,
        "detractors_share_ci_high": 23.73,
        "detractors_share_n": 500,
        "low_sample": False,
    }


def test_csat_worked_example_60_percent_wilson():
    result = csat({5: 10, 4: 20, 3: 10, 2: 5, 1: 5})
    assert result.score == pytest.approx(60.0)
    assert (round(result.ci_low, 2), round(result.ci_high, 2)) == (46.18, 72.39)
    assert result.to_dict()["satisfied"] == 30
    assert result.mean == pytest.approx(3.5)


@pytest.mark.parametrize(
    ("scale", "hist", "positive"),
    [(3, {3: 4, 2: 3, 1: 3}, 4), (5, {5: 1, 4: 1, 3: 1}, 2), (7, {7: 2, 6: 1, 5: 5}, 3)],
)
def test_csat_scales(scale, hist, positive):
    assert csat(hist, scale).positive == positive


@pytest.mark.parametrize(
    ("scale", "hist", "agree"), [(7, {7: 1, 5: 1, 4: 1}, 2), (5, {5: 1, 4: 1, 3: 1}, 2)]
)
def test_ces_scales(scale, hist, agree):
    result = ces(hist, scale)
    assert result.positive == agree
    assert result.to_dict()["agree"] == agree


def test_empty_histograms_have_no_score():
    assert nps({}).score is None
    assert nps({}).to_dict()["low_sample"] is True
    assert csat({}).score is None
    assert wilson_interval(0, 0) is None
    assert compare_nps({}, {9: 5}).significant is False


def test_low_sample_flag_boundary():
    assert nps({9: 29}).low_sample is True
    assert nps({9: 30}).low_sample is False


def test_invalid_histograms_are_refused():
    with pytest.raises(ValueError):
        nps({11: 1})
    with pytest.raises(ValueError):
        csat({6: 1}, 5)
    with pytest.raises(ValueError):
        csat({4: -1})
    with pytest.raises(ValueError):
        csat({4: 1}, 4)


def test_comparison_flags_significance_only_beyond_1_96():
    before = {9: 300, 7: 100, 0: 100}  # NPS 40
    after = {9: 250, 7: 100, 0: 150}  # NPS 20
    result = compare_nps(before, after)
    assert result.diff == pytest.approx(-20.0)
    assert result.significant is True
    assert result.z < -1.96
    small = compare_nps({9: 6, 0: 4}, {9: 5, 0: 5})
    assert small.significant is False


def test_comparison_with_a_low_sample_side_is_never_significant():
    # One detractor before, 100 promoters after: z is huge, but n=1 proves nothing.
    result = compare_nps({0: 1}, {9: 100})
    assert result.diff == pytest.approx(200.0)
    assert result.significant is False
    assert result.low_sample is True
    share = compare_share(csat({1: 29}), csat({5: 100}))
    assert share.significant is False and share.low_sample is True
    enough = compare_share(csat({1: 30}), csat({5: 30}))
    assert enough.significant is True and enough.low_sample is False


def test_share_comparison_two_proportion_z():
    a, b = csat({5: 60, 1: 40}), csat({5: 75, 1: 25})
    result = compare_share(a, b)
    # pooled p = 0.675, se = 100·√(0.675·0.325·(2/100)) = 6.6238; z = 15 / 6.6238
    assert round(result.z, 2) == 2.26
    assert result.significant is True


nps_hist = st.dictionaries(st.integers(0, 10), st.integers(0, 200), max_size=11)
answers = st.lists(st.integers(0, 10), max_size=300)


@given(answers, answers)
def test_scoring_merged_histograms_equals_scoring_the_union(a, b):
    merged = merge(Counter(a), Counter(b))
    assert nps(merged) == nps(Counter(a + b))
    scaled = [1 + v % 5 for v in a], [1 + v % 5 for v in b]
    assert csat(merge(Counter(scaled[0]), Counter(scaled[1]))) == csat(
        Counter(scaled[0] + scaled[1])
    )


@given(nps_hist)
def test_nps_bounds_and_interval_contains_estimate(hist):
    result = nps(hist)
    if result.n == 0:
        return
    assert -100 <= result.score <= 100
    assert -100 <= result.ci_low <= result.score <= result.ci_high <= 100
    assert result.wald_ci[0] <= result.score <= result.wald_ci[1]


@given(st.dictionaries(st.integers(1, 5), st.integers(0, 200), max_size=5))
def test_share_interval_contains_estimate(hist):
    result = csat(hist)
    if result.n:
        assert 0 <= result.ci_low <= result.score <= result.ci_high <= 100


@given(nps_hist, nps_hist)
def test_comparison_is_antisymmetric(a, b):
    forward, backward = compare_nps(a, b), compare_nps(b, a)
    assert forward.significant == backward.significant
    if forward.z is not None:
        assert forward.z == pytest.approx(-backward.z)


@given(nps_hist, st.integers(1, 50))
def test_adding_promoters_never_lowers_nps(hist, extra):
    before = nps(hist)
    after = nps(merge(hist, {10: extra}))
    assert before.score is None or after.score >= before.score


def test_nps_near_the_ceiling_is_not_called_different_by_a_collapsed_standard_error():
    """30 tens against 26 promoters and 4 passives: plain Wald gave z = −2.15 ("significant")
    where an exact permutation test gives p = 0.112. Adjusted-Wald standard errors do not
    collapse at +100."""
    result = compare_nps({10: 30}, {10: 26, 8: 4})
    assert round(result.diff, 2) == -13.33
    assert round(result.z, 2) == -1.31
    assert round(result.p_value, 3) == 0.189
    assert result.significant is False
    assert "adjusted-Wald" in result.method


def test_comparisons_report_a_two_sided_p_value_beside_z():
    from statsmodels.stats.proportion import proportions_ztest

    result = compare_share(csat({5: 60, 1: 40}), csat({5: 80, 1: 20}))
    z, p = proportions_ztest([80, 60], [100, 100])  # recomputed independently
    assert round(result.z, 6) == round(float(z), 6) == 3.086067
    assert round(result.p_value, 6) == round(float(p), 6) == 0.002028
    assert result.significant is True
    assert result.to_dict()["method"].startswith("two-proportion z-test")


def test_mean_interval_is_a_t_interval():
    from metrics.scores import mean_interval

    low, high = mean_interval({5: 3, 4: 1, 1: 1})  # 5, 5, 5, 4, 1: mean 4, sd √3
    assert (round(low, 4), round(high, 4)) == (1.8494, 6.1506)
    assert mean_interval({5: 1}) is None
    share = csat({5: 3, 4: 1, 1: 1})
    assert (round(share.mean_ci_low, 2), round(share.mean_ci_high, 2)) == (1.85, 6.15)


def test_benjamini_hochberg_controls_many_comparisons_at_once():
    from metrics.scores import control_false_discoveries

    pairs = [
        ({10: 40, 0: 20}, {10: 54, 0: 11}),  # p = 0.028 alone
        ({10: 40, 0: 40}, {10: 41, 0: 39}),
        ({10: 40, 0: 40}, {10: 42, 0: 38}),
        ({10: 40, 0: 40}, {10: 40, 0: 40}),
        ({}, {10: 3}),  # no comparison possible: not a test
    ]
    single = [compare_nps(a, b) for a, b in pairs]
    assert single[0].significant is True
    controlled = control_false_discoveries(single)
    assert [c.p_adjusted is None for c in controlled] == [False, False, False, False, True]
    # BH: the smallest p of four tests is multiplied by 4 / 1.
    assert round(controlled[0].p_adjusted, 4) == round(min(1, single[0].p_value * 4), 4)
    assert controlled[0].significant is False
    assert "Benjamini–Hochberg" in controlled[0].to_dict()["method"]


def test_a_proportion_carries_its_wilson_interval_and_n():
    from metrics.scores import proportion

    assert proportion(30, 50).to_dict("response_rate") == {
        "response_rate": 60.0,
        "response_rate_ci_low": 46.18,
        "response_rate_ci_high": 72.39,
        "response_rate_n": 50,
    }
    assert proportion(0, 0).to_dict("rate") == {
        "rate": None,
        "rate_ci_low": None,
        "rate_ci_high": None,
        "rate_n": 0,
    }


def test_nps_buckets_are_one_rule_in_python_in_sql_and_in_the_score():
    """Promoters 9–10, passives 7–8, detractors 0–6 (surveys.design.scales), wherever read."""
    assert [nps_category(score) for score in range(11)] == ["detractor"] * 7 + ["passive"] * 2 + [
        "promoter"
    ] * 2
    result = nps({score: 1 for score in range(11)})
    assert (result.detractors, result.passives, result.promoters) == (7, 2, 2)


@pytest.mark.django_db
def test_the_sql_nps_bucket_matches_the_python_one(project):
    for score in range(11):
        ContactFactory(project=project, user_id=f"c{score}", last_nps=score)
    rows = (
        Contact.objects.filter(project=project)
        .annotate(category=nps_category_sql("last_nps"))
        .values_list("last_nps", "category")
    )
    assert sorted(rows) == [(score, nps_category(score)) for score in range(11)]
