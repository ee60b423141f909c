"""Spec → shape plan (plan.py) → `nn.Module` (initialised for training, or on the meta device for
counting), whose nodes map back to the spec's qualified names."""

from __future__ import annotations

import torch
from torch import nn

from .graph import NETWORK_INPUT, Layer, Merge, input_names
from .init import FRAMEWORK_DEFAULTS, InitSpec, LayerInit, apply_init, describe
from .layers import Conv, Linear
from .plan import PlannedLayer, plan
from .spec import Spec


class Concat(nn.Module):
    def forward(self, *xs: torch.Tensor) -> torch.Tensor:
        return torch.cat(xs, dim=1)


class Add(nn.Module):
    def forward(self, *xs: torch.Tensor) -> torch.Tensor:
        out = xs[0]
        for x in xs[1:]:
            out = out + x
        return out


class SpecNet(nn.Module):
    """The built network: one module per node, run in the spec's order along its edges.

    Spec names never become Python attributes (a layer may be called `forward`, `training` or
    `_modules`): the nodes sit in a ModuleList under their position, and `names` maps positions
    back to qualified names.
    """

    def __init__(self, spec_id: str, names: tuple[str, ...], modules: list[nn.Module], feeds: tuple[tuple[int, ...], ...]) -> None:
        super().__init__()
        self.spec_id = spec_id
        self.names = names
        self.feeds = feeds  # for each node, the positions of its inputs; -1: the network input
        self.nodes = nn.ModuleList(modules)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        values: list[torch.Tensor] = []
        for module, feeds in zip(self.nodes, self.feeds):
            values.append(module(*(x if i < 0 else values[i] for i in feeds)))
        return values[-1]

    def layer(self, name: str) -> nn.Module:
        return self.nodes[self.names.index(name)]

    def named_layers(self) -> list[tuple[str, nn.Module]]:
        return list(zip(self.names, self.nodes))

    def replace_layer(self, name: str, module: nn.Module) -> None:
        self.nodes[self.names.index(name)] = module


def _init_for(layer: Layer, spec: Spec) -> LayerInit:
    own = getattr(layer.spec, "init", None)
    return own or spec.doc.init or FRAMEWORK_DEFAULTS[spec.doc.source.framework]


def _weighted(module: nn.Module) -> list[nn.Conv2d | nn.Linear]:
    """The conv/linear modules inside a layer (a padded conv wraps one; a partially connected conv holds several)."""
    return [m for m in module.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]


def _module(p: PlannedLayer) -> nn.Module:
    if isinstance(p.layer.spec, Merge):
        return Concat() if p.kind == "concat" else Add()
    return p.layer.spec.module(p.in_shape)


def _net(spec: Spec, planned: tuple[PlannedLayer, ...], modules: list[nn.Module]) -> SpecNet:
    position = {p.name: i for i, p in enumerate(planned)} | {NETWORK_INPUT: -1}
    feeds = tuple(tuple(position[n] for n in input_names(p.layer)) for p in planned)
    return SpecNet(spec.id, tuple(p.name for p in planned), modules, feeds)


def _initialised(spec: Spec, planned: tuple[PlannedLayer, ...], *, try_only: bool = False) -> list[nn.Module]:
    """Every node's module with the spec's initialisers applied; with `try_only`, each initialiser
    is only tried on a one-element tensor of the same rank (what PyTorch refuses depends on the
    rank alone), so nothing is drawn and meta tensors never reach PyTorch's slow reference kernels."""
    modules: list[nn.Module] = []
    for p in planned:
        module = _module(p)
        if isinstance(p.layer.spec, (Conv, Linear)):
            init = _init_for(p.layer, spec)
            for target in _weighted(module):
                tensors = [("weight", target.weight, init.weight)] + ([("bias", target.bias, init.bias)] if target.bias is not None else [])
                for which, tensor, how in tensors:
                    probe = torch.empty((1,) * tensor.dim(), device="cpu") if try_only else tensor
                    _init_tensor(spec, p.layer, which, probe, how)
        modules.append(module)
    return modules


def build_model(spec: Spec, seed: int | None = 0) -> SpecNet:
    """The real network, initialised as the spec says: runs forward and backward (for `train`).
    `seed` makes the initial weights repeatable."""
    planned = plan(spec)
    with torch.random.fork_rng(devices=[]):
        if seed is not None:
            torch.manual_seed(seed)
        return _net(spec, planned, _initialised(spec, planned))


def build_meta(spec: Spec, planned: tuple[PlannedLayer, ...] | None = None) -> SpecNet:
    """The same network on PyTorch's meta device, for counting: shapes and sizes, no storage.

    The spec's initialisers are tried too, so one that PyTorch refuses is bad input here exactly
    as in `train`. `model.to_empty(device="cpu")` then gives real, uninitialised storage.
    """
    planned = planned or plan(spec)
    with torch.device("meta"):
        return _net(spec, planned, _initialised(spec, planned, try_only=True))


def _init_tensor(spec: Spec, layer: Layer, which: str, tensor: torch.Tensor, init: InitSpec) -> None:
    """Apply one initialiser; one PyTorch refuses (uniform with low > high, a fan-based one on a
    bias vector, non-finite bounds) is the spec's mistake, reported as such."""
    try:
        apply_init(tensor, init)
    except (RuntimeError, ValueError) as exc:
        where = (*layer.path, "init") if getattr(layer.spec, "init", None) else ("init",)
        raise spec.error(f"layer {layer.name!r}: cannot initialise its {which} with {describe(init)}: {exc}", *where) from None
