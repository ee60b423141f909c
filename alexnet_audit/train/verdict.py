"""`converges` or `fails to converge`, from evidence a reader can check, and a likely cause.

A run converges when all four checks pass: the loss stays finite; it falls at least
LOSS_FACTOR-fold from the first to the last tenth of the run and ends below the loss of a
uniform guess among the data's classes (ln K); held-out accuracy beats always guessing the most
frequent class by a margin an exact binomial test calls significant (p < ALPHA); and a fresh
copy of the network memorises one small batch. A failure is explained by the first matching
cause: a NaN, exploding activations, dead ReLUs, vanishing activations, then what the failed
checks show (too few steps to see a trend, a flat or rising loss, a loss still falling when the
run stopped, no generalisation, no memorisation within its steps).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from ..build import SpecNet
from .loop import Evaluation

LOSS_FACTOR = 2.0
ALPHA = 1e-3
EXPLODING_RMS = 1e3  # inputs are normalised to unit scale; a thousandfold growth is not learning
VANISHING_RMS = 1e-4
DEAD_FRACTION = 0.9
FLAT_FACTOR = 1.1
MIN_STEPS = 20  # fewer steps say nothing about a trend


@dataclass(frozen=True)
class LayerProbe:
    name: str
    rms: float  # root mean square of the layer's output on the probe batch
    dead: float | None  # ReLU layers: share of channels/features that never fire on the batch


@torch.no_grad()
def probe(model: SpecNet, x: torch.Tensor) -> tuple[LayerProbe, ...]:
    """Every layer's output scale, and dead ReLUs, on one batch in fp32 and eval mode."""
    model.eval()
    outputs: dict[str, torch.Tensor] = {}
    hooks = [module.register_forward_hook(lambda _m, _i, out, name=name: outputs.__setitem__(name, out))
             for name, module in model.named_layers()]
    try:
        model(x.float())
    finally:
        for hook in hooks:
            hook.remove()
    probes = []
    for name, module in model.named_layers():
        out = outputs[name]
        dead = None
        if isinstance(module, nn.ReLU):
            fired = (out > 0).flatten(2).any(2) if out.dim() > 2 else out > 0  # (N, channels or features)
            dead = 1 - fired.any(0).float().mean().item()
        probes.append(LayerProbe(name, out.float().pow(2).mean().sqrt().item(), dead))
    return tuple(probes)


@dataclass(frozen=True)
class Evidence:
    losses: tuple[float, ...]
    stopped_by: str
    held_out: Evaluation
    chance: float  # the most frequent held-out class's share: what always guessing it scores
    classes: int  # in the data; ln(classes) is the loss of a uniform guess
    memorise_images: int
    memorised_at: int | None  # the step at which one batch was memorised; None: never
    memorise_steps: int
    memorise_stopped_by: str
    probe_images: int
    at_init: tuple[LayerProbe, ...]
    at_end: tuple[LayerProbe, ...]


@dataclass(frozen=True)
class Check:
    name: str
    passed: bool
    detail: str


@dataclass(frozen=True)
class Judgement:
    converges: bool
    checks: tuple[Check, ...]
    cause: str | None

    @property
    def verdict(self) -> str:
        return "converges" if self.converges else "fails to converge"


def binomial_tail(k: int, n: int, p: float) -> float:
    """P(X >= k) for X ~ Binomial(n, p): the chance of k or more right answers by guessing.

    The exact sum of the tail's terms, each in log space so that n in the thousands neither
    overflows the binomial coefficients nor underflows the powers before they are scaled.
    """
    if k <= 0 or p >= 1:
        return 1.0
    if k > n or p <= 0:
        return 0.0
    logs = [math.lgamma(n + 1) - math.lgamma(i + 1) - math.lgamma(n - i + 1) + i * math.log(p) + (n - i) * math.log1p(-p)
            for i in range(k, n + 1)]
    top = max(logs)
    return min(1.0, math.exp(top) * sum(math.exp(v - top) for v in logs))


def first_non_finite(losses: tuple[float, ...]) -> int | None:
    return next((i for i, v in enumerate(losses) if not math.isfinite(v)), None)


def loss_ends(losses: tuple[float, ...]) -> tuple[float, float]:
    """Mean loss over the first and the last tenth of the run (at least one step each)."""
    k = max(1, len(losses) // 10)
    return sum(losses[:k]) / k, sum(losses[-k:]) / k


def checks(ev: Evidence) -> tuple[Check, ...]:
    n = len(ev.losses)
    bad = first_non_finite(ev.losses)
    finite = Check("finite", bad is None, f"the loss stays finite for all {n} steps" if bad is None
                   else f"the loss is {ev.losses[bad]} at step {bad + 1}")
    if bad is None:
        start, end = loss_ends(ev.losses)
        factor = start / end if end > 0 else math.inf
        guess = math.log(ev.classes)
        falls = Check("loss falls", factor >= LOSS_FACTOR and end < guess,
                      f"mean loss {start:.4g} over the first tenth of {n} steps, {end:.4g} over the last: "
                      f"{factor:.3g}-fold (at least {LOSS_FACTOR:g}-fold needed), ending "
                      f"{'below' if end < guess else 'above'} a uniform guess among {ev.classes} classes (ln {ev.classes} = {guess:.3g})")
    else:
        falls = Check("loss falls", False, "not measured: the loss is not finite")
    h = ev.held_out
    p = binomial_tail(h.correct, h.n, ev.chance)
    held = Check("held-out above chance", p < ALPHA,
                 f"held-out accuracy {h.correct}/{h.n} = {h.accuracy:.1%} against {ev.chance:.1%} for always guessing "
                 f"the most frequent class; exact binomial P(>= {h.correct} right by chance) = {p:.3g} "
                 f"(significant below {ALPHA:g})")
    memorise = Check("memorises one batch", ev.memorised_at is not None,
                     f"a fresh copy fits one batch of {ev.memorise_images} images (every image right on consecutive "
                     f"steps) by step {ev.memorised_at}" if ev.memorised_at is not None else
                     f"a fresh copy does not fit one batch of {ev.memorise_images} images in {ev.memorise_steps} steps "
                     f"(stopped by {ev.memorise_stopped_by})")
    return finite, falls, held, memorise


def likely_cause(ev: Evidence, results: tuple[Check, ...]) -> str:
    bad = first_non_finite(ev.losses)
    if bad is not None:
        what = "NaN" if math.isnan(ev.losses[bad]) else "inf"
        return f"{what} loss at step {bad + 1}"
    for when, probes in (("at initialisation", ev.at_init), ("after training", ev.at_end)):
        big = next((p for p in probes if not math.isfinite(p.rms) or p.rms > EXPLODING_RMS), None)
        if big:
            return f"exploding activations at layer {big.name} (output RMS {big.rms:.3g} {when}, inputs of RMS about 1)"
    dead = next((p for p in ev.at_end if p.dead is not None and p.dead >= DEAD_FRACTION), None)
    if dead:
        return f"most ReLUs dead: {dead.dead:.0%} of the units after {dead.name} never fire on a batch of {ev.probe_images}"
    small = next((p for p in ev.at_init if p.rms < VANISHING_RMS), None)
    if small:
        return f"vanishing activations: by layer {small.name} the output RMS is {small.rms:.3g} at initialisation"
    start, end = loss_ends(ev.losses)
    factor = start / end if end > 0 else math.inf
    n = len(ev.losses)
    more = "a longer run (--steps, --budget, or a GPU) would tell"
    falls, held = results[1].passed, results[2].passed
    if not falls or not held:
        if n < MIN_STEPS:
            return f"too few steps to tell: only {n} ran (stopped by {ev.stopped_by}); {more}"
        if 1 / FLAT_FACTOR <= factor < FLAT_FACTOR:
            return f"loss flat from the start ({start:.4g} to {end:.4g} over {n} steps)"
        if factor < 1:
            return f"loss rises from the start ({start:.4g} to {end:.4g} over {n} steps)"
        if falls:
            return "fits its training batches but held-out accuracy stays at chance: it does not generalise"
        return f"still learning when stopped: {n} steps (stopped by {ev.stopped_by}) lowered the loss {factor:.3g}-fold; {more}"
    return (f"does not fit one batch of {ev.memorise_images} images in {ev.memorise_steps} steps (stopped by "
            f"{ev.memorise_stopped_by})" + (f"; {more}" if ev.memorise_stopped_by == "budget" else ""))


def judge(ev: Evidence) -> Judgement:
    results = checks(ev)
    converges = all(c.passed for c in results)
    return Judgement(converges, results, None if converges else likely_cause(ev, results))
