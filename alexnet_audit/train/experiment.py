"""ReLU against tanh (or sigmoid): the same network, the same initial weights and batches, one
activation swapped; how many steps each needs to bring the training error down to a target.

This is the experiment behind the 2012 paper's figure 1 ("six times faster" on CIFAR-10): there
a four-layer net, here the spec's own network on whatever data the run was given.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable, Literal

from torch import nn

from ..build import SpecNet
from .data import DeviceData
from .loop import LoopConfig, LoopResult, Progress, Runtime, train_loop

Activation = Literal["relu", "tanh", "sigmoid"]
_MODULES: dict[str, type[nn.Module]] = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid}
_WEIGHTED = (nn.Conv2d, nn.Linear)


def with_activation(model: SpecNet, activation: Activation) -> SpecNet:
    """Swap every hidden ReLU/tanh/sigmoid (one with a conv or linear layer after it) in place."""
    children = model.named_layers()
    weighted = [i for i, (_, m) in enumerate(children) if any(isinstance(s, _WEIGHTED) for s in m.modules())]
    last = weighted[-1] if weighted else -1
    for i, (name, module) in enumerate(children):
        if i < last and isinstance(module, tuple(_MODULES.values())):
            model.replace_layer(name, _MODULES[activation]())
    return model


@dataclass(frozen=True)
class Race:
    relu: LoopResult
    baseline: LoopResult

    @staticmethod
    def reached(result: LoopResult) -> int | None:
        return result.steps if result.stopped_by == "target" else None

    @property
    def ratio(self) -> float | None:
        relu, base = self.reached(self.relu), self.reached(self.baseline)
        return base / relu if relu and base else None

    @property
    def ratio_at_least(self) -> float | None:
        relu, base = self.reached(self.relu), self.reached(self.baseline)
        return self.baseline.steps / relu if relu and base is None else None


def race(build: Callable[[], nn.Sequential], baseline: Activation, data: DeviceData, cfg: LoopConfig, rt: Runtime,
         budget_each: float, on_progress: Callable[[str, Progress], None] | None = None) -> Race:
    """Train the network twice from the same weights, stopping each at `cfg.stop_error`."""
    results = []
    for activation in ("relu", baseline):
        model = with_activation(build(), activation)  # type: ignore[arg-type]
        report = (lambda p, a=activation: on_progress(a, p)) if on_progress else None
        results.append(train_loop(model, data, replace(cfg, budget_s=budget_each), rt, report))
    return Race(results[0], results[1])
