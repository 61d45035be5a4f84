"""NPS, CSAT and CES from score histograms, with their 95 % intervals and z-tests (DESIGN.md §7).

Pure: no Django. Every input is a histogram — score value → count — which is exactly what the
rollup tables store, so a dashboard, the metrics API and a test all score the same way.
Scores are percentages (NPS −100…100, CSAT/CES 0…100), rounded to two decimals on output only.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

Z95 = 1.96
LOW_SAMPLE_BELOW = 30

# The top of each allowed scale → the lowest score counted as satisfied / agree.
CSAT_SATISFIED_FROM = {3: 3, 5: 4, 7: 6}
CES_AGREE_FROM = {5: 4, 7: 5}
# What the frontline and the topic suggestions treat as an unhappy answer: detractors (NPS
# 0–6), CSAT 1–2, CES 1–3 — the thresholds of the default alert rules.
UNHAPPY_AT_MOST = {"nps": 6, "csat": 2, "ces": 3}

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
class NpsResult:
    n: int
    promoters: int
    passives: int
    detractors: int
    score: float | None
    ci_low: float | None  # adjusted Wald (DESIGN.md §7)
    ci_high: float | None
    se: float | None  # plain Wald standard error, in NPS points; used by comparisons
    wald_ci: tuple[float, float] | None

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
            "low_sample": self.low_sample,
        }


def nps(hist: Histogram) -> NpsResult:
    """Promoters 9–10, passives 7–8, detractors 0–6; 100 × (P − D) / n."""
    _validate(hist, 0, 10)
    promoters = sum(c for s, c in hist.items() if s >= 9)
    passives = sum(c for s, c in hist.items() if 7 <= s <= 8)
    detractors = sum(c for s, c in hist.items() if s <= 6)
    n = promoters + passives + detractors
    if n == 0:
        return NpsResult(0, 0, 0, 0, None, None, None, None, None)
    p, d = promoters / n, detractors / n
    score = 100 * (p - d)
    se = 100 * math.sqrt(max(p + d - (p - d) ** 2, 0.0) / n)
    wald = (max(-100.0, score - Z95 * se), min(100.0, score + Z95 * se))
    # Adjusted Wald: add ¾ of a promoter and of a detractor (and 3 answers in all).
    n_adj = n + 3
    p_adj, d_adj = (promoters + 0.75) / n_adj, (detractors + 0.75) / n_adj
    s = p_adj - d_adj
    half = Z95 * math.sqrt(max(p_adj + d_adj - s * s, 0.0) / n_adj)
    low, high = max(-100.0, 100 * (s - half)), min(100.0, 100 * (s + half))
    # The interval is centred on the adjusted estimate; widen it to hold the plain score.
    low, high = min(low, score), max(high, score)
    return NpsResult(n, promoters, passives, detractors, score, low, high, se, wald)


@dataclass(frozen=True)
class ShareResult:
    """CSAT (% satisfied) or CES (% agree): a share of top-box answers, with the mean beside."""

    kind: str  # "csat" | "ces"
    n: int
    positive: int
    scale_max: int
    score: float | None
    ci_low: float | None  # Wilson
    ci_high: float | None
    mean: float | None

    @property
    def low_sample(self) -> bool:
        return self.n < LOW_SAMPLE_BELOW

    def to_dict(self) -> dict:
        return {
            "n": self.n,
            "score": _r(self.score),
            "ci_low": _r(self.ci_low),
            "ci_high": _r(self.ci_high),
            "satisfied" if self.kind == "csat" else "agree": self.positive,
            "mean": _r(self.mean),
            "scale_max": self.scale_max,
            "low_sample": self.low_sample,
        }


def _share(
    kind: str, hist: Histogram, scale_max: int, positive_from: Mapping[int, int]
) -> ShareResult:
    if scale_max not in positive_from:
        raise ValueError(f"{kind} has no 1..{scale_max} scale")
    _validate(hist, 1, scale_max)
    n = sum(hist.values())
    positive = sum(c for s, c in hist.items() if s >= positive_from[scale_max])
    if n == 0:
        return ShareResult(kind, 0, 0, scale_max, None, None, None, None)
    low, high = wilson_interval(positive, n)
    return ShareResult(
        kind, n, positive, scale_max, 100 * positive / n, 100 * low, 100 * high, mean(hist)
    )


def csat(hist: Histogram, scale_max: int = 5) -> ShareResult:
    """% satisfied: 4–5 of 5, 3 of 3, 6–7 of 7."""
    return _share("csat", hist, scale_max, CSAT_SATISFIED_FROM)


def ces(hist: Histogram, scale_max: int = 7) -> ShareResult:
    """% agree that it was easy: 5–7 of 7, 4–5 of 5."""
    return _share("ces", hist, scale_max, CES_AGREE_FROM)


@dataclass(frozen=True)
class Comparison:
    diff: float | None  # b − a, in score points
    z: float | None
    significant: bool
    low_sample: bool = False  # either side under 30 answers: z shown, never called significant

    def to_dict(self) -> dict:
        return {
            "diff": _r(self.diff),
            "z": _r(self.z),
            "significant": self.significant,
            "low_sample": self.low_sample,
        }


def _comparison(diff: float, se: float, n_a: int, n_b: int) -> Comparison:
    """z = diff / se; "significant" needs |z| ≥ 1.96 *and* both samples of a usable size, since
    the normal approximation behind z means nothing for a handful of answers (one detractor
    last period against a hundred answers now would otherwise read as z = 80)."""
    low = min(n_a, n_b) < LOW_SAMPLE_BELOW
    if se <= 0:
        return Comparison(diff, None, False, low)
    z = diff / se
    return Comparison(diff, z, abs(z) >= Z95 and not low, low)


def compare_nps(a: Histogram, b: Histogram) -> Comparison:
    """Period b against period a: (NPS_b − NPS_a) / √(se_a² + se_b²), Wald standard errors."""
    first, second = nps(a), nps(b)
    if first.score is None or second.score is None:
        return Comparison(None, None, False)
    return _comparison(
        second.score - first.score, math.sqrt(first.se**2 + second.se**2), first.n, second.n
    )


def compare_share(a: ShareResult, b: ShareResult) -> Comparison:
    """Two-proportion z-test with the pooled proportion (CSAT or CES, b against a)."""
    if a.n == 0 or b.n == 0:
        return Comparison(None, None, False)
    pooled = (a.positive + b.positive) / (a.n + b.n)
    se = 100 * math.sqrt(pooled * (1 - pooled) * (1 / a.n + 1 / b.n))
    return _comparison(b.score - a.score, se, a.n, b.n)


def score_histogram(
    metric: str, hist: Histogram, scale_max: int | None = None
) -> NpsResult | ShareResult:
    """One entry point for callers that hold the metric's name."""
    if metric == "nps":
        return nps(hist)
    if metric == "csat":
        return csat(hist, scale_max or 5)
    if metric == "ces":
        return ces(hist, scale_max or 7)
    raise ValueError(f"unknown metric {metric!r}")
