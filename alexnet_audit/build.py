"""Spec → shape plan (closed form) → real `nn.Module` whose submodules carry the spec's names."""

from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import dataclass

import torch
from torch import nn

from .errors import AuditError
from .init import FRAMEWORK_DEFAULTS, InitSpec, LayerInit, apply_init, describe
from .layers import Conv, Linear, ParamCount, Shape
from .spec import Layer, Spec

# Refuse before allocating: the analysis runs one fp32 sample; these keep it within ~3 GB.
MAX_PARAMS = 400_000_000
MAX_ACTIVATIONS = 300_000_000
MAX_MACS = 20_000_000_000  # two forward passes of this on two CPU cores already take about a minute


@dataclass(frozen=True)
class PlannedLayer:
    layer: Layer
    in_shape: Shape
    out_shape: Shape
    params: ParamCount
    macs: int  # closed form, in the MAC convention (see analysis.CONVENTION)

    @property
    def name(self) -> str:
        return self.layer.name

    @property
    def kind(self) -> str:
        return self.layer.spec.kind


def plan(spec: Spec, *, prefix_only: bool = False) -> tuple[PlannedLayer, ...]:
    """Every layer's shapes and closed-form counts, without building anything.

    Raises AuditError at the first impossible layer (kernel larger than its input, a size that
    reaches zero, a linear layer that does not match what flatten gives, too large to analyse).
    With `prefix_only`, returns the layers before the first impossible one instead: diagnoses
    use it to read what a variant reading of a spec gives up to a claim's target.
    """
    shape: Shape = tuple(spec.doc.input)
    out: list[PlannedLayer] = []
    activations = math.prod(shape)
    total_params = total_macs = 0
    for layer in spec.layers:
        path = spec.layer_path(layer)
        try:
            nxt = layer.spec.out_shape(shape)
            if min(nxt) < 1:
                raise AuditError(f"output size reaches {list(nxt)}")
            params = layer.spec.params(shape)
        except AuditError as exc:
            if prefix_only:
                return tuple(out)
            raise spec.error(f"layer {layer.name!r} ({layer.spec.kind}) with input {list(shape)}: {exc.message}", *path) from None
        macs = layer.spec.macs(shape, nxt)
        activations += math.prod(nxt)
        total_params += params.trainable + params.non_trainable
        total_macs += macs
        if activations > MAX_ACTIVATIONS or total_params > MAX_PARAMS or total_macs > MAX_MACS:
            raise spec.error(
                f"too large to analyse here: by layer {layer.name!r} it holds {total_params:,} parameters, "
                f"{activations:,} activation values and {total_macs:,} MACs per sample "
                f"(limits {MAX_PARAMS:,}, {MAX_ACTIVATIONS:,} and {MAX_MACS:,})",
                *path,
            )
        out.append(PlannedLayer(layer, shape, nxt, params, macs))
        shape = nxt
    if shape != (spec.doc.num_classes,) and not prefix_only:
        raise spec.error(
            f"the network ends with shape {list(shape)} but num_classes is {spec.doc.num_classes}", "num_classes"
        )
    return tuple(out)


class SpecNet(nn.Sequential):
    """The built network: an ordered chain of named layers (model.conv1, model.fc6, ...)."""

    def __init__(self, spec_id: str, layers: "OrderedDict[str, nn.Module]") -> None:
        super().__init__(layers)
        self.spec_id = spec_id


def _init_for(layer: Layer, spec: Spec) -> LayerInit:
    own = getattr(layer.spec, "init", None)
    return own or spec.doc.init or FRAMEWORK_DEFAULTS[spec.doc.source.framework]


def _weighted(module: nn.Module) -> list[nn.Module]:
    """The conv/linear modules inside a layer (a padded conv wraps one; a partially connected conv holds several)."""
    return [m for m in module.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]


def build_model(spec: Spec, seed: int | None = 0) -> SpecNet:
    """The real network: runs forward and backward. `seed` makes the initial weights repeatable."""
    planned = plan(spec)
    with torch.random.fork_rng(devices=[]):
        if seed is not None:
            torch.manual_seed(seed)
        modules: OrderedDict[str, nn.Module] = OrderedDict()
        for p in planned:
            module = p.layer.spec.module(p.in_shape)
            if isinstance(p.layer.spec, (Conv, Linear)):
                init = _init_for(p.layer, spec)
                for target in _weighted(module):
                    _init_tensor(spec, p.layer, "weight", target.weight, init.weight)
                    if target.bias is not None:
                        _init_tensor(spec, p.layer, "bias", target.bias, init.bias)
            modules[p.name] = module
    return SpecNet(spec.id, modules)


def _init_tensor(spec: Spec, layer: Layer, which: str, tensor: torch.Tensor, init: InitSpec) -> None:
    """Apply one initialiser; one PyTorch refuses (uniform with low > high, a fan-based one on a
    bias vector, non-finite bounds) is the spec's mistake, reported as such."""
    try:
        apply_init(tensor, init)
    except (RuntimeError, ValueError) as exc:
        where = (*spec.layer_path(layer), "init") if getattr(layer.spec, "init", None) else ("init",)
        raise spec.error(f"layer {layer.name!r}: cannot initialise its {which} with {describe(init)}: {exc}", *where) from None
