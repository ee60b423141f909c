"""Spec → shape plan over its graph: every node's shapes and closed-form counts, without building
anything. Needs no torch: diagnoses re-plan variant readings of a spec with it, and judging an
analysis read from the cache imports no torch."""

from __future__ import annotations

import math
from dataclasses import dataclass

from .errors import AuditError
from .graph import NETWORK_INPUT, Layer, Merge, input_names
from .layers import ParamCount, Shape
from .spec import Spec

# Refuse before allocating: the analysis runs one fp32 sample; these keep it within ~3 GB.
MAX_PARAMS = 400_000_000
MAX_ACTIVATIONS = 300_000_000
MAX_MACS = 20_000_000_000  # two forward passes of this on two CPU cores already take about a minute


@dataclass(frozen=True)
class PlannedLayer:
    layer: Layer
    in_shape: Shape  # a merge: its first input's shape
    out_shape: Shape
    params: ParamCount
    macs: int  # closed form, in the MAC convention (see results.CONVENTION)

    @property
    def name(self) -> str:
        return self.layer.name

    @property
    def kind(self) -> str:
        return self.layer.spec.kind


def _label(name: str) -> str:
    return "the network input" if name == NETWORK_INPUT else f"the branch ending at {name!r}"


def _out_shape(layer: Layer, ins: tuple[Shape, ...]) -> Shape:
    if isinstance(layer.spec, Merge):
        return layer.spec.merged_shape(ins, tuple(_label(n) for n in input_names(layer)))
    return layer.spec.out_shape(ins[0])


def plan(spec: Spec, *, prefix_only: bool = False) -> tuple[PlannedLayer, ...]:
    """Every node's shapes and closed-form counts, without building anything.

    Raises AuditError at the first impossible node (kernel larger than its input, a size that
    reaches zero, a linear layer that does not match what flatten gives, branches that do not
    fit where they merge, too large to analyse). With `prefix_only`, returns the nodes before
    the first impossible one instead: diagnoses use it to read what a variant reading of a spec
    gives up to a claim's target.
    """
    shapes: dict[str, Shape] = {NETWORK_INPUT: tuple(spec.doc.input)}
    out: list[PlannedLayer] = []
    activations = math.prod(spec.doc.input)
    total_params = total_macs = 0
    for layer in spec.layers:
        path = layer.path
        ins = tuple(shapes[n] for n in input_names(layer))
        try:
            nxt = _out_shape(layer, ins)
            if min(nxt) < 1:
                raise AuditError(f"output size reaches {list(nxt)}")
            params = layer.spec.params(ins[0])
        except AuditError as exc:
            if prefix_only:
                return tuple(out)
            what = f"merge {layer.name!r} ({layer.spec.kind})" if layer.is_merge else \
                f"layer {layer.name!r} ({layer.spec.kind}) with input {list(ins[0])}"
            raise spec.error(f"{what}: {exc.message}", *path) from None
        macs = layer.spec.macs(ins[0], nxt)
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
        out.append(PlannedLayer(layer, ins[0], nxt, params, macs))
        shapes[layer.name] = nxt
    end = out[-1].out_shape if out else tuple(spec.doc.input)
    if end != (spec.doc.num_classes,) and not prefix_only:
        raise spec.error(
            f"the network ends with shape {list(end)} but num_classes is {spec.doc.num_classes}", "num_classes"
        )
    return tuple(out)
