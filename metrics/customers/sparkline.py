"""The NPS-over-time sparkline as plain SVG coordinates (no chart library for a dozen points):
x spreads the answers evenly in their order, y is the score on 0–10."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

WIDTH, HEIGHT, PAD = 240, 60, 6


class Scored(Protocol):
    score: int


@dataclass(frozen=True)
class SparkPoint:
    x: float
    y: float
    point: Scored


@dataclass(frozen=True)
class Sparkline:
    width: int
    height: int
    points: list[SparkPoint]
    polyline: str
    # the y of the detractor (≤ 6) and promoter (≥ 9) boundaries, drawn as guides
    detractor_y: float
    promoter_y: float


def _y(score: float) -> float:
    return round(PAD + (10 - score) / 10 * (HEIGHT - 2 * PAD), 1)


def nps_sparkline(series: Sequence[Scored]) -> Sparkline | None:
    """None for no answers; one answer is a single dot in the middle."""
    if not series:
        return None
    step = (WIDTH - 2 * PAD) / (len(series) - 1) if len(series) > 1 else 0
    points = [
        SparkPoint(round(PAD + i * step if step else WIDTH / 2, 1), _y(p.score), p)
        for i, p in enumerate(series)
    ]
    return Sparkline(
        WIDTH,
        HEIGHT,
        points,
        " ".join(f"{p.x},{p.y}" for p in points),
        detractor_y=_y(6.5),
        promoter_y=_y(8.5),
    )
