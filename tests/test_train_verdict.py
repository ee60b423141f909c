"""The convergence verdict: its statistics by hand, its causes on built evidence, and real runs of
tiny networks on the built-in digits (8x8, so each run takes a second or two on a CPU)."""

from __future__ import annotations

import math
import re

import pytest
import torch
from scipy.stats import binom
from torch import nn

from alexnet_audit.spec import spec_from_text
from alexnet_audit.train.experiment import with_activation
from alexnet_audit.train.loop import Evaluation
from alexnet_audit.train.run import TrainOptions, train_spec
from alexnet_audit.build import SpecNet
from alexnet_audit.train.verdict import Evidence, LayerProbe, binomial_tail, judge, loss_ends, probe

# ---------------------------------------------------------------- statistics


pytestmark = pytest.mark.usefixtures("one_thread")



def test_binomial_tail_by_hand() -> None:
    assert binomial_tail(8, 10, 0.5) == pytest.approx((45 + 10 + 1) / 1024)  # C(10,8) + C(10,9) + C(10,10)
    assert binomial_tail(3, 3, 0.1) == pytest.approx(0.001)
    assert binomial_tail(0, 7, 0.3) == pytest.approx(1.0)


@pytest.mark.parametrize(("k", "n", "p"), [(36, 364, 0.102), (322, 364, 0.102), (41, 256, 0.113), (5200, 10000, 0.5)])
def test_binomial_tail_agrees_with_scipy(k: int, n: int, p: float) -> None:
    assert binomial_tail(k, n, p) == pytest.approx(float(binom.sf(k - 1, n, p)), rel=1e-9, abs=1e-300)


def test_loss_ends_average_the_first_and_last_tenth() -> None:
    assert loss_ends(tuple(float(i) for i in range(1, 21))) == (1.5, 19.5)
    assert loss_ends((4.0, 2.0)) == (4.0, 2.0)


# ---------------------------------------------------------------- causes, from evidence built by hand

HEALTHY = (LayerProbe("fc1", 1.3, None), LayerProbe("relu1", 0.8, 0.1), LayerProbe("fc2", 2.0, None))


def _evidence(losses: tuple[float, ...] = tuple(2.3 * 0.97 ** i for i in range(100)), correct: int = 80,
              memorised_at: int | None = 30, at_init: tuple[LayerProbe, ...] = HEALTHY,
              at_end: tuple[LayerProbe, ...] = HEALTHY) -> Evidence:
    return Evidence(losses, "steps", Evaluation(correct, correct, 100), 0.1, 10, 8, memorised_at, 30,
                    "target" if memorised_at else "budget", 32, at_init, at_end)


def test_healthy_evidence_converges() -> None:
    # 2.3 * 0.97^i: first tenth averages 2.07, last tenth 0.11, about 19-fold and below ln 10.
    result = judge(_evidence())
    assert result.converges and result.cause is None and result.verdict == "converges"
    assert [c.name for c in result.checks] == ["finite", "loss falls", "held-out above chance", "memorises one batch"]


def test_nan_names_its_step() -> None:
    losses = (2.3, 2.0, 1.5, math.nan, math.nan)
    result = judge(_evidence(losses))
    assert not result.converges and result.cause == "NaN loss at step 4"
    assert not result.checks[0].passed and "step 4" in result.checks[0].detail


def test_exploding_activations_name_the_first_layer() -> None:
    at_init = (LayerProbe("conv1", 3.0, None), LayerProbe("fc6", 8e4, None), LayerProbe("fc8", 1e8, None))
    result = judge(_evidence(correct=12, at_init=at_init))
    assert result.cause is not None and result.cause.startswith("exploding activations at layer fc6")


def test_dead_relus_are_named() -> None:
    at_end = (LayerProbe("fc1", 0.5, None), LayerProbe("relu1", 0.0, 0.97), LayerProbe("fc2", 0.1, None))
    result = judge(_evidence(losses=(2.3,) * 100, correct=10, at_end=at_end))
    assert result.cause == "most ReLUs dead: 97% of the units after relu1 never fire on a batch of 32"


def test_flat_loss_and_chance_accuracy() -> None:
    # 10 right of 100 against 10% chance: P(X >= 10) is about 0.55, not significant.
    result = judge(_evidence(losses=(2.3,) * 100, correct=10))
    assert [c.passed for c in result.checks] == [True, False, False, True]
    assert result.cause == "loss flat from the start (2.3 to 2.3 over 100 steps)"


def test_loss_that_stays_above_a_uniform_guess_fails() -> None:
    # Falls 10-fold, from 1e8 to 1e7, but ends far above ln 10: the exploded network of seed 004.
    result = judge(_evidence(losses=(1e8,) * 10 + (1e7,) * 90, correct=95))
    assert not result.checks[1].passed and "above a uniform guess among 10 classes" in result.checks[1].detail


def test_too_few_steps_to_tell() -> None:
    result = judge(_evidence(losses=(7.4, 8.7, 13.7), correct=9))
    assert result.cause == "too few steps to tell: only 3 ran (stopped by steps); a longer run (--steps, --budget, or a GPU) would tell"


def test_failing_only_memorisation_says_so() -> None:
    result = judge(_evidence(memorised_at=None))
    assert [c.passed for c in result.checks] == [True, True, True, False]
    assert result.cause is not None and result.cause.startswith("does not fit one batch of 8 images in 30 steps (stopped by budget)")


def _chain(*modules: nn.Module, names: tuple[str, ...] | None = None) -> SpecNet:
    """A line of modules as build_model gives them: each node fed by the one before."""
    names = names or tuple(f"m{i}" for i in range(len(modules)))
    return SpecNet("t", names, list(modules), tuple((i - 1,) for i in range(len(modules))))


def test_probe_measures_scale_and_dead_units() -> None:
    model = _chain(nn.Linear(2, 3), nn.ReLU(), names=("fc", "relu"))
    with torch.no_grad():
        model.layer("fc").weight.copy_(torch.tensor([[1.0, 0.0], [0.0, 1.0], [-1.0, -1.0]]))
        model.layer("fc").bias.zero_()
    x = torch.tensor([[3.0, 4.0], [1.0, 0.0]])
    fc, relu = probe(model, x)
    # fc outputs [3, 4, -7] and [1, 0, -1]: mean square (9+16+49+1+0+1)/6; the third unit never fires.
    assert fc.rms == pytest.approx(math.sqrt(76 / 6)) and fc.dead is None
    assert relu.dead == pytest.approx(1 / 3)


# ---------------------------------------------------------------- the ReLU-vs-tanh race


def test_with_activation_swaps_hidden_activations_only() -> None:
    model = _chain(nn.Linear(4, 4), nn.ReLU(), nn.Linear(4, 4), nn.Tanh(), nn.Linear(4, 2), nn.Sigmoid())
    swapped = with_activation(model, "tanh")
    assert [type(m).__name__ for _, m in swapped.named_layers()] == ["Linear", "Tanh", "Linear", "Tanh", "Linear", "Sigmoid"]


# ---------------------------------------------------------------- real runs on tiny networks

TINY = """id: {id}
title: tiny
source: {{seed: test, section: tests, framework: pytorch}}
input: [1, 8, 8]
num_classes: 10
{init}training: {{dataset: none, optimizer: {optimizer}, lr: {lr}, batch_size: 32}}
layers:
  - {{kind: flatten}}
  - {{kind: linear, name: fc1, out_features: 32}}
  - {{kind: relu, name: relu1}}
  - {{kind: linear, name: fc2, out_features: 10}}
"""


def _train(optimizer: str = "adam", lr: float = 0.01, init: str = "") -> object:
    spec = spec_from_text(TINY.format(id="tiny", init=init, optimizer=optimizer, lr=lr))
    return train_spec(spec, TrainOptions(steps=150, budget_s=30, device="cpu"))


def test_a_small_network_converges_on_digits() -> None:
    record = _train()
    assert record.verdict == "converges" and record.cause is None  # type: ignore[attr-defined]
    assert record.schedule.steps == 150 and record.data.name == "digits"  # type: ignore[attr-defined]


def test_all_zero_weights_cannot_converge() -> None:
    # Zero weights and biases: the ReLU sees 0, never fires, and passes no gradient back;
    # only fc2's bias learns, which is the class prior: loss about ln 10 from first to last.
    zero = "init: {weight: {dist: constant, value: 0}, bias: {dist: constant, value: 0}}\n"
    record = _train(init=zero)
    assert record.verdict == "fails to converge"  # type: ignore[attr-defined]
    assert record.cause.startswith("most ReLUs dead: 100% of the units after relu1")  # type: ignore[attr-defined]


def test_a_huge_learning_rate_gives_a_nan_at_a_named_step() -> None:
    record = _train(optimizer="sgd", lr=1e12)
    match = re.fullmatch(r"(NaN|inf) loss at step (\d+)", record.cause)  # type: ignore[attr-defined]
    assert record.verdict == "fails to converge" and match  # type: ignore[attr-defined]
    curve = record.curves.loss  # type: ignore[attr-defined]
    first_bad = next(i for i, v in enumerate(curve) if not math.isfinite(v)) + 1
    assert int(match.group(2)) == first_bad
    assert not record.checks[0].passed  # type: ignore[attr-defined]
