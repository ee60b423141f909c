"""ReLU against tanh (or sigmoid), over several seeds: the same network, one activation swapped;
how many steps each needs to bring the training error down to a target.

This is the experiment behind the 2012 paper's figure 1 ("six times faster" on CIFAR-10): there
a four-layer net, here the spec's own network on whatever data the run was given. Each seed has
its own initial weights and batch order, and the two activations of one seed share them; the
seeds' ratios, their median and spread, and whether they agree are speedup.py's arithmetic.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Callable, Literal, Sequence

from torch import nn

from ..arith import parse_figure
from ..build import SpecNet
from ..claim_schema import SpeedupClaim
from ..spec import Spec
from .device_data import DeviceData
from .loop import LoopConfig, LoopResult, Progress, Runtime, train_loop
from .record import SEED_LIMIT, ExperimentRecord, SeedRace, SpeedupBand

Activation = Literal["relu", "tanh", "sigmoid"]
Baseline = Literal["tanh", "sigmoid"]
Groups = dict[tuple[Baseline, float], list[SpeedupClaim]]  # the claims each (baseline, target error) serves
_MODULES: dict[str, type[nn.Module]] = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid}
_WEIGHTED = (nn.Conv2d, nn.Linear)
# Seeds per experiment: on two CPU cores three fit the default budget for the small networks; a
# GPU affords five.
SEEDS = {"cpu": 3, "cuda": 5}
MAX_SEEDS = 100
WINDOW = 10  # training error = the mean error of the last WINDOW batches
OVERRUN = 2  # a race that took more than twice its share of the budget overran it

PhaseProgress = Callable[[str, Progress], None]


def with_activation(model: SpecNet, activation: Activation) -> SpecNet:
    """Swap every hidden ReLU/tanh/sigmoid (one with a conv or linear layer after it) in place."""
    children = model.named_layers()
    weighted = [i for i, (_, m) in enumerate(children) if any(isinstance(s, _WEIGHTED) for s in m.modules())]
    last = weighted[-1] if weighted else -1
    for i, (name, module) in enumerate(children):
        if i < last and isinstance(module, tuple(_MODULES.values())):
            model.replace_layer(name, _MODULES[activation]())
    return model


def steps_to_target(result: LoopResult, target: float, window: int) -> int | None:
    """The first step after which the mean error of the last `window` batches was at most `target`.

    Read off the per-step accuracies rather than where the loop stopped: the loop checks only when
    it reads the loss back (every 25 steps on CUDA), so its stop can come up to 24 steps late.
    """
    acc = result.accuracies
    return next((i for i in range(window, len(acc) + 1) if 1 - sum(acc[i - window:i]) / window <= target), None)


def race(build: Callable[[int], SpecNet], baseline: Baseline, data: DeviceData, cfg: LoopConfig, rt: Runtime,
         budget_s: float, on_progress: PhaseProgress | None = None) -> SeedRace:
    """Train the network of seed `cfg.seed` with ReLU, then from the same weights with `baseline`,
    stopping each at `cfg.stop_error`. ReLU gets half of `budget_s`; the baseline the rest."""
    assert cfg.stop_error is not None
    results: list[LoopResult] = []
    began = time.perf_counter()
    activations: tuple[Activation, Activation] = ("relu", baseline)
    for activation in activations:
        model = with_activation(build(cfg.seed), activation)
        report = (lambda p, a=activation: on_progress(f"{a} seed {cfg.seed}", p)) if on_progress else None
        share = budget_s / 2 if not results else max(budget_s - (time.perf_counter() - began), budget_s / 2)
        results.append(train_loop(model, data, replace(cfg, budget_s=share), rt, report))
    relu, base = results
    return SeedRace(seed=cfg.seed, relu_steps=steps_to_target(relu, cfg.stop_error, cfg.window),
                    baseline_steps=steps_to_target(base, cfg.stop_error, cfg.window),
                    relu_steps_run=relu.steps, baseline_steps_run=base.steps)


def speedup_claims(spec: Spec) -> Groups:
    """The spec's speedup claims, grouped by the experiment each needs (baseline, target error)."""
    groups: Groups = {}
    for claim in spec.doc.claims:
        if isinstance(claim, SpeedupClaim):
            groups.setdefault((claim.baseline, claim.target_error), []).append(claim)
    return groups


def experiment_seeds(first: int, rt: Runtime, count: int | None = None) -> list[int]:
    """`count` seeds from `first` (the main run's), SEEDS of them by default for the device."""
    return [(first + i) % SEED_LIMIT for i in range(count or SEEDS[rt.device.type])]


def band(claim: SpeedupClaim, data: str) -> SpeedupBand:
    fig = parse_figure(claim.claimed)
    return SpeedupBand(claim=claim.id, claimed=float(fig.value), tolerance=float(fig.half_unit), dataset=claim.dataset,
                       judges_claim=claim.dataset == data)


def run_experiments(claims: Groups, build: Callable[[int], SpecNet],
                    data: DeviceData, data_name: str, cfg: LoopConfig, rt: Runtime, seeds: Sequence[int],
                    deadline: float, on_progress: PhaseProgress | None = None) -> list[ExperimentRecord]:
    """One experiment per (baseline, target error), each over `seeds`, sharing out what is left
    until `deadline` (a `time.perf_counter()` instant) evenly among the races still to run; each
    activation runs at most `cfg.steps` steps.

    Every activation trains at least one step, whatever its share: on a network whose step takes
    longer than the share (a full-size AlexNet on a CPU), each further seed would overrun the
    budget by two steps. So once the deadline has passed and a race has taken more than OVERRUN
    times its share, the experiment's remaining seeds are not run, and the record says which.
    """
    records = []
    races_left = len(claims) * len(seeds)
    for (baseline, target), group in claims.items():
        races: list[SeedRace] = []
        overran = False
        for seed in seeds:
            began = time.perf_counter()
            if overran and began >= deadline:
                break
            budget = max(deadline - began, 1.0) / races_left
            seeded = replace(cfg, seed=seed, stop_error=target, window=WINDOW)
            races.append(race(build, baseline, data, seeded, rt, budget, on_progress))
            overran = time.perf_counter() - began > OVERRUN * budget
            races_left -= 1
        races_left -= len(seeds) - len(races)
        records.append(ExperimentRecord(baseline=baseline, target_error=target, data=data_name, window=WINDOW,
                                        seeds=races, seeds_not_run=list(seeds[len(races):]),
                                        claims=[band(c, data_name) for c in group]))
    return records
