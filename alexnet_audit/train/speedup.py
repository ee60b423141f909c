"""The arithmetic of the speed-up experiment, with no torch: each seed's ratio (or the bound a run
that stopped short of the target gives), their median and spread, and the agreement rule that
decides whether the seeds settle a claim.

A seed's ratio is the baseline's steps to the target over ReLU's. A run that did not reach the
target within its share still says something: ReLU reached it in r steps and the baseline did not
in b, so the ratio is above b / r; the baseline reached it in b and ReLU did not in r, so the ratio
is below b / r. Each seed is therefore an interval [low, high], a point when both reached the
target, and `None` for a high end that nothing bounds.

The spread is the minimum to the maximum over the seeds (with three to five seeds an
interquartile range would be two of the seeds themselves). The median of intervals is the
interval from the median of their low ends to the median of their high ends: whatever the true
ratios inside them, their median lies there.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import median
from typing import Iterable, Literal, Sequence

# One race cannot show agreement: the two specs each ran one, and they contradicted
# each other (ReLU never reaching the target on one, 14 times faster on the other). Three seeds
# all on one side of the band is the least this tool calls agreement.
MIN_SEEDS = 3
SPREAD = "min-max"

Side = Literal["above", "below", "within", "straddles"]
Outcome = Literal["holds", "fails", "inconclusive"]


@dataclass(frozen=True)
class Bounds:
    low: float
    high: float | None  # None: no upper bound

    @property
    def point(self) -> float | None:
        return self.low if self.high is not None and self.low == self.high else None


def ratio_bounds(relu: int | None, baseline: int | None, relu_run: int, baseline_run: int) -> Bounds:
    """What one seed's race says about the ratio; `relu`/`baseline` are the steps to the target (None:
    not reached in the `*_run` steps each ran)."""
    if relu is not None and baseline is not None:
        return Bounds(baseline / relu, baseline / relu)
    if relu is not None:
        return Bounds(baseline_run / relu, None)
    if baseline is not None:
        return Bounds(0.0, baseline / relu_run)
    return Bounds(0.0, None)


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def median_of(seeds: Sequence[Bounds]) -> Bounds:
    highs = [math.inf if b.high is None else b.high for b in seeds]
    return Bounds(median(b.low for b in seeds), _finite(median(highs)))


def spread_of(seeds: Sequence[Bounds]) -> Bounds:
    highs = [math.inf if b.high is None else b.high for b in seeds]
    return Bounds(min(b.low for b in seeds), _finite(max(highs)))


def side(bounds: Bounds, low: float, high: float) -> Side:
    """Where a seed's interval lies against the claim's band [low, high]. A one-sided bound is open:
    a baseline that did not reach the target in b steps needs more than b, so "above b / r" at the
    band's top edge is above it."""
    if bounds.low > high or (bounds.high is None and bounds.low >= high):
        return "above"
    if bounds.high is not None and (bounds.high < low or (bounds.low == 0 and bounds.high <= low)):
        return "below"
    if bounds.high is not None and low <= bounds.low and bounds.high <= high:
        return "within"
    return "straddles"


@dataclass(frozen=True)
class Agreement:
    outcome: Outcome
    why: str


def _count(sides: Iterable[Side]) -> str:
    listed = list(sides)
    return ", ".join(f"{listed.count(s)} {s}" for s in ("below", "within", "above", "straddles") if s in listed)


def agreement(seeds: Sequence[Bounds], claimed: float, tolerance: float, min_seeds: int = MIN_SEEDS) -> Agreement:
    """holds when every seed's ratio lies within claimed ± tolerance, fails when every seed's ratio or
    bound lies on the same side outside it, otherwise inconclusive; fewer than `min_seeds` seeds are
    inconclusive whatever they show."""
    low, high = claimed - tolerance, claimed + tolerance
    sides = [side(b, low, high) for b in seeds]
    band = f"{low:g} to {high:g}"
    if len(seeds) < min_seeds:
        return Agreement("inconclusive", f"{len(seeds)} seed{'s' if len(seeds) != 1 else ''} against the band "
                         f"{band} ({_count(sides)}); agreement needs at least {min_seeds}")
    if all(s == "within" for s in sides):
        return Agreement("holds", f"every one of {len(seeds)} seeds within {band}")
    for where in ("above", "below"):
        if all(s == where for s in sides):
            return Agreement("fails", f"every one of {len(seeds)} seeds {where} {band}")
    return Agreement("inconclusive", f"the seeds disagree against the band {band}: {_count(sides)}")


def describe_bounds(b: Bounds) -> str:
    if b.point is not None:
        return f"{b.point:.3g}"
    if b.high is None:
        return f"above {b.low:.3g}" if b.low > 0 else "unknown"
    return f"below {b.high:.3g}" if b.low == 0 else f"{b.low:.3g} to {b.high:.3g}"


def describe_spread(b: Bounds) -> str:
    high = "unbounded" if b.high is None else f"{b.high:.3g}"
    return f"{b.low:.3g}–{high} ({SPREAD})"
