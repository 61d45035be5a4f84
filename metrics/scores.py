"""NPS, CSAT and CES from score histograms, with their 95 % intervals and z-tests (DESIGN.md §7).

Pure: no Django. Every input is a histogram — score value → count — which is exactly what the
rollup tables store, so a dashboard, the metrics API and a test all score the same way.
Scores are percentages (NPS −100…100, CSAT/CES 0…100), rounded to two decimals on output only.
Every figure carries its interval: adjusted Wald for NPS, Wilson for every proportion, a t
interval for means; comparisons carry z, a two-sided p-value and the method, and views that
compare many things at once control the false discovery rate (Benjamini–Hochberg).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from scipy import stats

from surveys.design.scales import (
    AGREE,
    CES_AGREE_FROM,
    CES_EASY_EFFORT_AT_MOST,
    CSAT_SATISFIED_FROM,
    EFFORT,
    NPS_DETRACTOR_AT_MOST,
    NPS_PROMOTER_FROM,
    default_scale_max,
)

Z95 = 1.96
LOW_SAMPLE_BELOW = 30

Histogram = Mapping[int, int]


def _validate(hist: Histogram, low: int, high: int) -> None:
    for score, count in hist.items():
        if not isinstance(score, int) or not low <= score <= high:
            raise ValueError(f"score {score!r} is outside {low}..{high}")
        if not isinstance(count, int) or count < 0:
            raise ValueError(f"count {count!r} for score {score} is not a non-negative integer")


def merge(*hists: Histogram) -> dict[int, int]:
    """Histograms are additive: merging two equals counting the union of their answers."""
    out: dict[int, int] = {}
    for hist in hists:
        for score, count in hist.items():
            out[score] = out.get(score, 0) + count
    return out


def mean(hist: Histogram) -> float | None:
    n = sum(hist.values())
    return sum(score * count for score, count in hist.items()) / n if n else None


def mean_interval(hist: Histogram) -> tuple[float, float] | None:
    """95 % t interval of the mean score (n − 1 degrees of freedom); None below 2 answers."""
    n = sum(hist.values())
    if n < 2:
        return None
    centre = mean(hist)
    variance = sum(count * (score - centre) ** 2 for score, count in hist.items()) / (n - 1)
    half = float(stats.t.ppf(0.975, n - 1)) * math.sqrt(variance / n)
    return centre - half, centre + half


def wilson_interval(successes: int, n: int, z: float = Z95) -> tuple[float, float] | None:
    """Wilson score interval for a proportion, as fractions in [0, 1]."""
    if n == 0:
        return None
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    # min/max guard against rounding when p is 0 or 1, where a bound equals p exactly.
    return max(0.0, min(centre - half, p)), min(1.0, max(centre + half, p))


def _r(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


@dataclass(frozen=True)
class Proportion:
    """A share shown as a percentage (response rate, recovery rate, churn rate, a category's
    share), with its 95 % Wilson interval and n."""

    successes: int
    n: int

    @property
    def value(self) -> float | None:
        return 100 * self.successes / self.n if self.n else None

    @property
    def interval(self) -> tuple[float, float] | None:
        bounds = wilson_interval(self.successes, self.n)
        return None if bounds is None else (100 * bounds[0], 100 * bounds[1])

    def to_dict(self, name: str) -> dict:
        """`{name, name_ci_low, name_ci_high, name_n}` — the API's naming for a proportion."""
        low, high = self.interval or (None, None)
        return {
            name: _r(self.value),
            f"{name}_ci_low": _r(low),
            f"{name}_ci_high": _r(high),
            f"{name}_n": self.n,
        }


def proportion(successes: int, n: int) -> Proportion:
    return Proportion(successes, n)


@dataclass(frozen=True)
class NpsResult:
    n: int
    promoters: int
    passives: int
    detractors: int
    score: float | None
    ci_low: float | None  # adjusted Wald (DESIGN.md §7)
    ci_high: float | None
    se: float | None  # plain Wald standard error, in NPS points
    wald_ci: tuple[float, float] | None
    # Adjusted-Wald standard error √(var′/n′), in NPS points: what comparisons use, since the
    # plain one collapses to 0 near ±100 and makes any difference look significant.
    se_adjusted: float | None = None

    @property
    def low_sample(self) -> bool:
        return self.n < LOW_SAMPLE_BELOW

    def to_dict(self) -> dict:
        return {
            "n": self.n,
            "score": _r(self.score),
            "ci_low": _r(self.ci_low),
            "ci_high": _r(self.ci_high),
            "promoters": self.promoters,
            "passives": self.passives,
            "detractors": self.detractors,
            # Each category's share of the answers, with its Wilson interval.
            **proportion(self.promoters, self.n).to_dict("promoters_share"),
            **proportion(self.passives, self.n).to_dict("passives_share"),
            **proportion(self.detractors, self.n).to_dict("detractors_share"),
            "low_sample": self.low_sample,
        }


def nps(hist: Histogram) -> NpsResult:
    """Promoters 9–10, passives 7–8, detractors 0–6; 100 × (P − D) / n."""
    _validate(hist, 0, 10)
    promoters = sum(c for s, c in hist.items() if s >= NPS_PROMOTER_FROM)
    passives = sum(c for s, c in hist.items() if NPS_DETRACTOR_AT_MOST < s < NPS_PROMOTER_FROM)
    detractors = sum(c for s, c in hist.items() if s <= NPS_DETRACTOR_AT_MOST)
    n = promoters + passives + detractors
    if n == 0:
        return NpsResult(0, 0, 0, 0, None, None, None, None, None, None)
    p, d = promoters / n, detractors / n
    score = 100 * (p - d)
    se = 100 * math.sqrt(max(p + d - (p - d) ** 2, 0.0) / n)
    wald = (max(-100.0, score - Z95 * se), min(100.0, score + Z95 * se))
    # Adjusted Wald: add ¾ of a promoter and of a detractor (and 3 answers in all).
    n_adj = n + 3
    p_adj, d_adj = (promoters + 0.75) / n_adj, (detractors + 0.75) / n_adj
    s = p_adj - d_adj
    se_adjusted = math.sqrt(max(p_adj + d_adj - s * s, 0.0) / n_adj)
    half = Z95 * se_adjusted
    low, high = max(-100.0, 100 * (s - half)), min(100.0, 100 * (s + half))
    # The interval is centred on the adjusted estimate; widen it to hold the plain score.
    low, high = min(low, score), max(high, score)
    return NpsResult(
        n, promoters, passives, detractors, score, low, high, se, wald, 100 * se_adjusted
    )


def positive_scores(kind: str, scale_max: int, wording: str = AGREE) -> tuple[int, int]:
    """The scores (lowest, highest, inclusive) counted as satisfied (CSAT) or as easy (CES) on
    a 1..scale_max scale worded this way: the one home of every threshold (DESIGN.md §7)."""
    if kind == "ces" and wording == EFFORT:
        if scale_max not in CES_EASY_EFFORT_AT_MOST:
            raise ValueError(f"an effort-worded ces has no 1..{scale_max} scale")
        return 1, CES_EASY_EFFORT_AT_MOST[scale_max]
    if wording != AGREE:
        raise ValueError(f"{kind} cannot be worded {wording!r}")
    positive_from = {"csat": CSAT_SATISFIED_FROM, "ces": CES_AGREE_FROM}.get(kind)
    if positive_from is None:
        raise ValueError(f"{kind!r} is not a share metric")
    if scale_max not in positive_from:
        raise ValueError(f"{kind} has no 1..{scale_max} scale")
    return positive_from[scale_max], scale_max


def scale_label(kind: str, scale_max: int, wording: str = AGREE) -> str:
    """What counts, in words, for `method`: "4–5 on 1–5", "1–2 on 1–5 worded as effort"."""
    low, high = positive_scores(kind, scale_max, wording)
    counted = f"{low}" if low == high else f"{low}–{high}"
    return f"{counted} on 1–{scale_max}" + (" worded as effort" if wording == EFFORT else "")


@dataclass(frozen=True)
class ShareResult:
    """CSAT (% satisfied) or CES (% agree): a share of top-box answers, with the mean beside.

    A result over answers on several scales (a question moved from 1–5 to 1–7) counts each
    answer on its own scale and adds the counts; it has no scale, no mean (a mean across
    scales means nothing) and lists each scale's own result in `by_scale`."""

    kind: str  # "csat" | "ces"
    n: int
    positive: int
    scale_max: int | None  # None: the answers span several scales (see by_scale)
    score: float | None
    ci_low: float | None  # Wilson
    ci_high: float | None
    mean: float | None
    mean_ci_low: float | None = None  # t interval
    mean_ci_high: float | None = None
    wording: str | None = AGREE
    by_scale: tuple[ShareResult, ...] = ()

    @property
    def low_sample(self) -> bool:
        return self.n < LOW_SAMPLE_BELOW

    def to_dict(self) -> dict:
        data = {
            "n": self.n,
            "score": _r(self.score),
            "ci_low": _r(self.ci_low),
            "ci_high": _r(self.ci_high),
            "satisfied" if self.kind == "csat" else "agree": self.positive,
            "mean": _r(self.mean),
            "mean_ci_low": _r(self.mean_ci_low),
            "mean_ci_high": _r(self.mean_ci_high),
            "scale_max": self.scale_max,
            "wording": self.wording,
            "low_sample": self.low_sample,
        }
        if self.by_scale:
            data["by_scale"] = [part.to_dict() for part in self.by_scale]
        return data


def _share(kind: str, hist: Histogram, scale_max: int, wording: str = AGREE) -> ShareResult:
    low_score, high_score = positive_scores(kind, scale_max, wording)
    _validate(hist, 1, scale_max)
    n = sum(hist.values())
    positive = sum(c for s, c in hist.items() if low_score <= s <= high_score)
    if n == 0:
        return ShareResult(kind, 0, 0, scale_max, None, None, None, None, wording=wording)
    low, high = wilson_interval(positive, n)
    mean_low, mean_high = mean_interval(hist) or (None, None)
    return ShareResult(
        kind,
        n,
        positive,
        scale_max,
        100 * positive / n,
        100 * low,
        100 * high,
        mean(hist),
        mean_low,
        mean_high,
        wording=wording,
    )


def csat(hist: Histogram, scale_max: int = default_scale_max("csat")) -> ShareResult:
    """% satisfied: 4–5 of 5, 3 of 3, 6–7 of 7."""
    return _share("csat", hist, scale_max)


def ces(
    hist: Histogram, scale_max: int = default_scale_max("ces"), wording: str = AGREE
) -> ShareResult:
    """% agree that it was easy: 5–7 of 7, 4–5 of 5; worded as effort, 1–2 of 5."""
    return _share("ces", hist, scale_max, wording)


Scale = tuple[int, str]  # (scale_max, wording)


def share_by_scale(kind: str, hists: Mapping[Scale, Histogram]) -> ShareResult:
    """CSAT or CES over answers that may sit on several scales: each scale scored on its own
    threshold, then the satisfied (agree) counts and the answers added into one share with its
    Wilson interval. Means stay per scale. One scale gives exactly that scale's result."""
    parts = tuple(
        _share(kind, hist, scale_max, wording)
        for (scale_max, wording), hist in sorted(hists.items())
        if sum(hist.values())
    )
    if not parts:
        scale_max, wording = min(hists, default=(default_scale_max(kind), AGREE))
        return _share(kind, {}, scale_max, wording)
    if len(parts) == 1:
        return replace(parts[0], by_scale=parts)
    n = sum(part.n for part in parts)
    positive = sum(part.positive for part in parts)
    low, high = wilson_interval(positive, n)
    return ShareResult(
        kind,
        n,
        positive,
        scale_max=None,
        score=100 * positive / n,
        ci_low=100 * low,
        ci_high=100 * high,
        mean=None,
        wording=None,
        by_scale=parts,
    )


SHARE_NAMES = {"csat": "CSAT = % satisfied", "ces": "CES = % agree it was easy"}


def share_method(kind: str, scales: Sequence[Scale]) -> str:
    """How a CSAT/CES figure over these scales was made, in words (the API's `method`)."""
    counted = "; ".join(scale_label(kind, m, w) for m, w in sorted(set(scales)))
    if len(set(scales)) > 1:
        return (
            f"{SHARE_NAMES[kind]}, each answer counted on its own scale ({counted}) and the "
            "counts added; 95 % Wilson interval; means are given per scale only (by_scale), "
            "never across scales"
        )
    scope = f" ({counted})" if counted else ""
    return f"{SHARE_NAMES[kind]}{scope}; 95 % Wilson interval; mean with a 95 % t interval"


NPS_DIFFERENCE_METHOD = (
    "z-test of the NPS difference with adjusted-Wald standard errors (√(var′/n′) per side); "
    "two-sided p-value"
)
SHARE_DIFFERENCE_METHOD = "two-proportion z-test with the pooled proportion; two-sided p-value"
FDR_METHOD = "Benjamini–Hochberg false discovery rate control at 5 % across the comparisons shown"


@dataclass(frozen=True)
class Comparison:
    diff: float | None  # b − a, in score points
    z: float | None
    significant: bool
    low_sample: bool = False  # either side under 30 answers: z shown, never called significant
    p_value: float | None = None  # two-sided, normal approximation
    method: str = ""
    p_adjusted: float | None = None  # Benjamini–Hochberg, when one of many comparisons

    def to_dict(self) -> dict:
        data = {
            "diff": _r(self.diff),
            "z": _r(self.z),
            "p_value": None if self.p_value is None else round(self.p_value, 4),
            "significant": self.significant,
            "low_sample": self.low_sample,
            "method": self.method,
        }
        if self.p_adjusted is not None:
            data["p_adjusted"] = round(self.p_adjusted, 4)
        return data


def _comparison(diff: float, se: float, n_a: int, n_b: int, method: str) -> Comparison:
    """z = diff / se; "significant" needs p < 0.05 *and* both samples of a usable size, since
    the normal approximation behind z means nothing for a handful of answers (one detractor
    last period against a hundred answers now would otherwise read as z = 80)."""
    low = min(n_a, n_b) < LOW_SAMPLE_BELOW
    if se <= 0:
        return Comparison(diff, None, False, low, None, method)
    z = diff / se
    p_value = float(2 * stats.norm.sf(abs(z)))
    return Comparison(diff, z, p_value < 0.05 and not low, low, p_value, method)


def compare_nps(a: Histogram, b: Histogram) -> Comparison:
    """Period b against period a: (NPS_b − NPS_a) / √(se′_a² + se′_b²) with the adjusted-Wald
    standard errors (DESIGN.md §7)."""
    first, second = nps(a), nps(b)
    if first.score is None or second.score is None:
        return Comparison(None, None, False, method=NPS_DIFFERENCE_METHOD)
    se = math.sqrt(first.se_adjusted**2 + second.se_adjusted**2)
    return _comparison(second.score - first.score, se, first.n, second.n, NPS_DIFFERENCE_METHOD)


@dataclass(frozen=True)
class Impact:
    """NPS of the answers with something (a topic) minus NPS of those without, in points,
    with its 95 % interval from the two adjusted-Wald standard errors (as `compare_nps`)."""

    n_with: int
    n_without: int
    nps_with: float | None
    nps_without: float | None
    impact: float | None
    low: float | None
    high: float | None

    @property
    def low_sample(self) -> bool:
        return min(self.n_with, self.n_without) < LOW_SAMPLE_BELOW

    @property
    def significant(self) -> bool:
        """The interval leaves out 0, on samples large enough to mean it."""
        if self.low is None or self.low_sample:
            return False
        return self.low > 0 or self.high < 0

    def to_dict(self) -> dict:
        return {
            "n_with": self.n_with,
            "n_without": self.n_without,
            "nps_with": _r(self.nps_with),
            "nps_without": _r(self.nps_without),
            "impact": _r(self.impact),
            "impact_ci_low": _r(self.low),
            "impact_ci_high": _r(self.high),
            "significant": self.significant,
            "low_sample": self.low_sample,
        }


def nps_impact(with_it: Histogram, without: Histogram) -> Impact:
    a, b = nps(with_it), nps(without)
    if a.score is None or b.score is None:
        return Impact(a.n, b.n, a.score, b.score, None, None, None)
    diff = a.score - b.score
    half = Z95 * math.sqrt(a.se_adjusted**2 + b.se_adjusted**2)
    return Impact(
        a.n, b.n, a.score, b.score, diff, max(-200.0, diff - half), min(200.0, diff + half)
    )


def compare_share(a: ShareResult, b: ShareResult) -> Comparison:
    """Two-proportion z-test with the pooled proportion (CSAT or CES, b against a)."""
    if a.n == 0 or b.n == 0:
        return Comparison(None, None, False, method=SHARE_DIFFERENCE_METHOD)
    pooled = (a.positive + b.positive) / (a.n + b.n)
    se = 100 * math.sqrt(pooled * (1 - pooled) * (1 / a.n + 1 / b.n))
    return _comparison(b.score - a.score, se, a.n, b.n, SHARE_DIFFERENCE_METHOD)


def control_false_discoveries(comparisons: Sequence[Comparison]) -> list[Comparison]:
    """The same comparisons with Benjamini–Hochberg adjusted p-values; "significant" then
    needs an adjusted p under 0.05 (and usable samples). Comparisons without a p-value (no
    data) are left as they are and do not count as tests."""
    tested = [i for i, c in enumerate(comparisons) if c.p_value is not None]
    out = list(comparisons)
    if not tested:
        return out
    adjusted = stats.false_discovery_control([comparisons[i].p_value for i in tested], method="bh")
    for i, p in zip(tested, adjusted, strict=True):
        c = comparisons[i]
        out[i] = replace(
            c,
            p_adjusted=float(p),
            significant=float(p) < 0.05 and not c.low_sample,
            method=f"{c.method}; {FDR_METHOD}",
        )
    return out


def score_histogram(
    metric: str, hist: Histogram, scale_max: int | None = None, wording: str = AGREE
) -> NpsResult | ShareResult:
    """One entry point for callers that hold the metric's name."""
    if metric == "nps":
        return nps(hist)
    if metric == "csat":
        return csat(hist, scale_max or default_scale_max("csat"))
    if metric == "ces":
        return ces(hist, scale_max or default_scale_max("ces"), wording)
    raise ValueError(f"unknown metric {metric!r}")


def score_by_scale(metric: str, hists: Mapping[Scale, Histogram]) -> NpsResult | ShareResult:
    """`score_histogram` for histograms kept apart by scale: NPS has one scale (0–10), so its
    histograms add; CSAT/CES are counted scale by scale (`share_by_scale`)."""
    if metric == "nps":
        return nps(merge(*hists.values()))
    if metric in SHARE_NAMES:
        return share_by_scale(metric, hists)
    raise ValueError(f"unknown metric {metric!r}")
