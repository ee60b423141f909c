"""One way to read a figure (shape, params, MACs, ...) for a target, from a measured analysis
or from a closed-form plan of a variant spec (used by diagnoses that try other readings)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal, Sequence

from .layers import Conv, Linear, Shape
from .plan import PlannedLayer
from .results import Analysis

Quantity = Literal["shape", "params", "params_no_bias", "params_with_stats", "macs", "flops", "neurons", "connections",
                   "connections_with_bias"]


@dataclass(frozen=True)
class Row:
    """What every figure is computed from: one layer's shapes and counts."""

    name: str
    kind: str
    stage: str | None
    output_shape: Shape
    params: int
    non_trainable_params: int
    bias_params: int
    macs: int
    input_shape: Shape  # what feeds it (a merge: its first input); on a graph not the row before


def select(rows: Sequence[Row], stages: dict[str, tuple[str, ...]], target: str | None) -> list[Row]:
    if target is None:
        return list(rows)
    names = stages.get(target, (target,))
    return [r for r in rows if r.name in names]


def figure(rows: Sequence[Row], stages: dict[str, tuple[str, ...]], target: str | None, quantity: Quantity) -> int | Shape:
    chosen = select(rows, stages, target)
    weighted = [r for r in chosen if r.kind in ("conv", "linear", "subsample")]
    if quantity == "shape":
        return chosen[-1].output_shape
    if quantity == "params":
        return sum(r.params for r in chosen)
    if quantity == "params_no_bias":
        return sum(r.params - r.bias_params for r in chosen)
    if quantity == "params_with_stats":
        return sum(r.params + r.non_trainable_params for r in chosen)
    if quantity == "macs":
        return sum(r.macs for r in chosen)
    if quantity == "flops":
        return 2 * sum(r.macs for r in chosen)
    if quantity == "connections":
        return sum(r.macs for r in weighted)
    if quantity == "connections_with_bias":
        # LeCun et al. (1998): a bias is a weight on a constant input, one more connection of each
        # unit (a subsampling map's too); an RBF unit is connected to each of its inputs.
        return (sum(r.macs + (math.prod(r.output_shape) if r.bias_params or r.kind == "subsample" else 0) for r in weighted)
                + sum(math.prod(r.input_shape) * math.prod(r.output_shape) for r in chosen if r.kind == "rbf"))
    if quantity == "neurons":
        return sum(math.prod(r.output_shape) for r in weighted) if weighted else math.prod(chosen[-1].output_shape)
    raise ValueError(quantity)


def rows_from_plan(planned: Sequence[PlannedLayer]) -> list[Row]:
    rows = []
    for p in planned:
        has_bias = isinstance(p.layer.spec, (Conv, Linear)) and p.layer.spec.bias
        bias = (p.out_shape[0] if has_bias else 0)
        rows.append(Row(p.name, p.kind, p.layer.stage, p.out_shape, p.params.trainable, p.params.non_trainable, bias, p.macs, p.in_shape))
    return rows


def rows_from_analysis(analysis: Analysis) -> list[Row]:
    return [
        Row(lr.name, lr.kind, lr.stage, lr.output_shape, lr.params, lr.non_trainable_params, lr.bias_params, lr.macs, lr.input_shape)
        for lr in analysis.layers
    ]
