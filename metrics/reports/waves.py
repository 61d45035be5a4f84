"""Waves of a recurring survey and how each contact moved between them — plain functions over
plain data (no database): `metrics.reports.wave_selectors` reads the answers and calls these.

A wave is a period of N days (N = the survey's `recurrence_days`) counted from the project-local
day of the survey's first publish: wave 1 is its first N days, wave 2 the next N, and so on. An
answer belongs to the wave in which its contact was asked (the display's claim).

Why periods rather than "the contact's n-th answer": a wave should picture the customer base at
one time, as a quarterly relationship NPS does. Numbering each contact's answers would put
answers years apart into one wave, and leave the later waves to long-standing customers only, so
wave 3 against wave 2 would mix a change over time with a change in who answers. Waves of equal
length, cut at the same moments for everyone, compare like consecutive quarters (and their
scores with the same test as two periods). The throttle asks a contact again only N days after
their last display of the survey (`surveys.delivery.throttle`), so two answers of one contact —
each in its own round — are never asked in one wave (except with the `always` display option,
where the contact's latest answer in a wave speaks for them); the per-contact change between
waves k and k+1 is therefore between consecutive asks. A contact whose next ask slipped past a
whole wave is left out of that pair.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from itertools import pairwise

from surveys.design.scales import nps_category

CATEGORIES = ("detractor", "passive", "promoter")
_RANK = {category: rank for rank, category in enumerate(CATEGORIES)}


def wave_of(day: date, *, first_day: date, days: int) -> int:
    """The wave (1, 2, …) a local day falls in; 1 for a day before the first publish (an
    answer imported from before it)."""
    return max(1, (day - first_day).days // days + 1)


def wave_days(wave: int, *, first_day: date, days: int) -> tuple[date, date]:
    """The first and the last local day of a wave."""
    start = first_day + timedelta(days=(wave - 1) * days)
    return start, start + timedelta(days=days - 1)


@dataclass
class Movement:
    """How the contacts who answered NPS in both `from_wave` and `to_wave` moved between the
    detractor, passive and promoter groups."""

    from_wave: int
    to_wave: int
    matrix: dict[str, dict[str, int]] = field(
        default_factory=lambda: {a: dict.fromkeys(CATEGORIES, 0) for a in CATEGORIES}
    )
    detractors_to_promoters: list[int] = field(default_factory=list)  # contact ids

    @property
    def contacts(self) -> int:
        return sum(sum(row.values()) for row in self.matrix.values())

    def _count(self, keep) -> int:
        return sum(
            n
            for before, row in self.matrix.items()
            for after, n in row.items()
            if keep(_RANK[after] - _RANK[before])
        )

    @property
    def improved(self) -> int:
        return self._count(lambda step: step > 0)

    @property
    def declined(self) -> int:
        return self._count(lambda step: step < 0)

    @property
    def unchanged(self) -> int:
        return self._count(lambda step: step == 0)


def nps_movements(latest: Mapping[int, Mapping[int, int]], waves: Iterable[int]) -> list[Movement]:
    """For each pair of consecutive waves in `waves`, how contacts moved: `latest` is
    {contact id: {wave: the contact's (latest) NPS score in it}}; movers come in contact id
    order."""
    movements = []
    for before, after in pairwise(sorted(waves)):
        movement = Movement(from_wave=before, to_wave=after)
        for contact_id in sorted(latest):
            scores = latest[contact_id]
            if before not in scores or after not in scores:
                continue
            was, now = nps_category(scores[before]), nps_category(scores[after])
            movement.matrix[was][now] += 1
            if (was, now) == ("detractor", "promoter"):
                movement.detractors_to_promoters.append(contact_id)
        movements.append(movement)
    return movements
