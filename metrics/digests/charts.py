"""The digest's charts as PNG images (matplotlib, Agg backend; no Django): e-mail clients show
no scripts, so the dashboards' Chart.js charts are drawn here as pictures instead.

Texts come in already translated. Chinese names (topics, touchpoints) need a CJK font: the
first installed of `CJK_FONTS` backs up DejaVu Sans, glyph by glyph.

matplotlib is imported on the first chart, not with the module: a web process that never
draws one does not pay for it."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

CJK_FONTS = ("Noto Sans CJK SC", "WenQuanYi Micro Hei", "Source Han Sans SC", "SimHei")
UP, DOWN, NEUTRAL, MUTED = "#198754", "#dc3545", "#4f46e5", "#adb5bd"
WIDTH_INCHES, DPI = 6.0, 150  # 900 pixels wide, shown at 600 in the e-mail


@dataclass(frozen=True)
class Estimate:
    """A score with its 95 % interval (None: no answers)."""

    score: float | None
    low: float | None
    high: float | None


@dataclass(frozen=True)
class Headline:
    label: str  # "NPS", "CSAT (%)"…
    previous: Estimate
    current: Estimate


@cache
def _figure_class():
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import font_manager
    from matplotlib.figure import Figure

    installed = {font.name for font in font_manager.fontManager.ttflist}
    matplotlib.rcParams["font.family"] = ["DejaVu Sans"] + [
        name for name in CJK_FONTS if name in installed
    ]
    matplotlib.rcParams["font.size"] = 9
    matplotlib.rcParams["axes.spines.top"] = False
    matplotlib.rcParams["axes.spines.right"] = False
    return Figure


def _png(figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    return buffer.getvalue()


def _height(rows: int) -> float:
    return 0.9 + 0.35 * max(rows, 1)


def headline_chart(headlines: Sequence[Headline], week_labels: tuple[str, str]) -> bytes:
    """One panel per metric: the week before and this week, each score with its interval."""
    figure = _figure_class()(figsize=(WIDTH_INCHES, 2.2))
    axes = figure.subplots(1, len(headlines), squeeze=False)[0]
    for ax, headline in zip(axes, headlines, strict=True):
        for x, (estimate, colour) in enumerate(
            ((headline.previous, MUTED), (headline.current, NEUTRAL))
        ):
            if estimate.score is None:
                continue
            below = estimate.score - (estimate.low if estimate.low is not None else estimate.score)
            above = (
                estimate.high if estimate.high is not None else estimate.score
            ) - estimate.score
            ax.errorbar(
                [x], [estimate.score], yerr=[[below], [above]], fmt="o", color=colour, capsize=4
            )
            ax.annotate(
                f"{estimate.score:g}",
                (x, estimate.score),
                xytext=(8, 0),
                textcoords="offset points",
                va="center",
            )
        ax.set_title(headline.label)
        ax.set_xticks([0, 1], list(week_labels))
        ax.set_xlim(-0.6, 1.9)
        ax.margins(y=0.25)
    figure.tight_layout()
    return _png(figure)


def change_bars(
    labels: Sequence[str], values: Sequence[float], title: str, *, highlight: Sequence[bool]
) -> bytes:
    """Horizontal bars of signed changes (green up, red down; faded: not significant)."""
    figure = _figure_class()(figsize=(WIDTH_INCHES, _height(len(labels))))
    ax = figure.subplots()
    positions = list(range(len(labels)))[::-1]
    colours = [
        (UP if value >= 0 else DOWN) if strong else MUTED
        for value, strong in zip(values, highlight, strict=True)
    ]
    ax.barh(positions, values, color=colours)
    ax.set_yticks(positions, list(labels))
    ax.axvline(0, color="#6c757d", linewidth=0.8)
    for y, value in zip(positions, values, strict=True):
        ax.annotate(
            f"{value:+g}",
            (value, y),
            xytext=(4 if value >= 0 else -4, 0),
            textcoords="offset points",
            va="center",
            ha="left" if value >= 0 else "right",
        )
    ax.set_title(title)
    ax.margins(x=0.2)
    figure.tight_layout()
    return _png(figure)


def interval_bars(labels: Sequence[str], estimates: Sequence[Estimate], title: str) -> bytes:
    """Horizontal bars of signed estimates with their intervals (red below zero)."""
    figure = _figure_class()(figsize=(WIDTH_INCHES, _height(len(labels))))
    ax = figure.subplots()
    positions = list(range(len(labels)))[::-1]
    values = [e.score or 0 for e in estimates]
    errors = [
        [v - (e.low if e.low is not None else v) for v, e in zip(values, estimates, strict=True)],
        [(e.high if e.high is not None else v) - v for v, e in zip(values, estimates, strict=True)],
    ]
    ax.barh(
        positions,
        values,
        xerr=errors,
        capsize=3,
        color=[DOWN if v < 0 else UP for v in values],
        ecolor="#343a40",
    )
    ax.set_yticks(positions, list(labels))
    ax.axvline(0, color="#6c757d", linewidth=0.8)
    ax.set_title(title)
    figure.tight_layout()
    return _png(figure)


def count_bars(labels: Sequence[str], counts: Sequence[int], title: str) -> bytes:
    """Vertical bars of counts, each labelled with its number."""
    figure = _figure_class()(figsize=(WIDTH_INCHES, 2.2))
    ax = figure.subplots()
    bars = ax.bar(range(len(labels)), counts, color=NEUTRAL)
    ax.bar_label(bars, labels=[str(c) for c in counts], padding=2)
    ax.set_xticks(range(len(labels)), list(labels))
    ax.set_title(title)
    ax.margins(y=0.2)
    figure.tight_layout()
    return _png(figure)
