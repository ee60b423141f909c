"""The same spec read otherwise: another input size, other padding semantics, convolutions
without their two-GPU grouping. Each yields a label and the variant's rows (closed form)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from functools import partial

from ..errors import AuditError
from ..figures import Row, rows_from_plan
from ..layer_base import Padding
from ..layers import AvgPool, Conv, LayerSpec, MaxPool
from ..plan import plan
from ..spec import Spec
from .core import Reading, Variant


def variant_rows(spec: Spec, *, input_shape: tuple[int, int, int] | None = None, overrides: Mapping[str, LayerSpec] | None = None) -> list[Row]:
    """Closed-form rows of the spec read differently; stops before a layer the reading breaks."""
    doc = spec.doc.model_copy(update={"input": input_shape}) if input_shape else spec.doc
    layers = tuple(replace(layer, spec=overrides[layer.name]) if overrides and layer.name in overrides else layer for layer in spec.layers)
    try:
        return rows_from_plan(plan(replace(spec, doc=doc, layers=layers), prefix_only=True))
    except AuditError:
        return []


INPUT_ALTERNATIVES = {224: 227, 227: 224, 28: 32, 32: 28}


def input_size_readings(reading: Reading) -> Iterable[tuple[str, Variant]]:
    spec = reading.spec
    c, h, w = spec.doc.input
    if h == w and h in INPUT_ALTERNATIVES:
        alt = INPUT_ALTERNATIVES[h]
        rows = reading.variant(("input", alt), lambda: variant_rows(spec, input_shape=(c, alt, alt)))
        yield f"a {alt}x{alt} input instead of the {h}x{h} this spec has", rows


_Padded = Conv | MaxPool | AvgPool


def _padding_swaps(layer_spec: object) -> list[tuple[str, Padding, _Padded]]:
    """Each other padding a padded layer could have been read with: its name, the padding as written, the layer so padded."""
    if not isinstance(layer_spec, _Padded):
        return []
    pad = layer_spec.padding
    options: list[str] = {"same": ["valid"], "valid": ["same"]}.get(pad, ["valid", "same"]) if isinstance(pad, str) else (["same", "valid"] if pad else ["same"])
    return [(o, pad, layer_spec.model_copy(update={"padding": o})) for o in options]


def _same_output(swapped: _Padded, reading: Reading, i: int) -> bool:
    """Whether layer i, read with other padding, still gives the shape it gives as written (then
    parameters and MACs are unchanged as well, and so is every later layer). Its input is its
    row's: on a graph the row before may end another branch."""
    row = reading.rows[i]
    try:
        return swapped.out_shape(row.input_shape) == row.output_shape
    except AuditError:
        return False


@dataclass(frozen=True)
class _Swap:
    index: int  # the layer's position in spec.layers
    name: str
    option: str
    was: Padding  # as written
    swapped: _Padded


def _shape_changing_swaps(reading: Reading) -> list[_Swap]:
    """Every other padding a layer could have been read with, where it changes the layer's
    output: found once per spec (its claims share them)."""
    aligned = len(reading.rows) == len(reading.spec.layers)
    return [_Swap(i, layer.name, option, was, swapped)
            for i, layer in enumerate(reading.spec.layers) for option, was, swapped in _padding_swaps(layer.spec)
            if not (aligned and _same_output(swapped, reading, i))]  # the same network: it reproduces nothing new


def padding_readings(reading: Reading, target: str | None) -> Iterable[tuple[str, Variant]]:
    spec = reading.spec
    names = [layer.name for layer in spec.layers]
    last = names.index(spec.stages.get(target, (target,))[-1]) if target else len(names) - 1
    if ("padding swaps",) not in reading.memo:
        reading.memo[("padding swaps",)] = _shape_changing_swaps(reading)
    for swap in reading.memo[("padding swaps",)]:
        if swap.index > last:
            break
        rows = reading.variant(("padding", swap.name, swap.option),
                               partial(variant_rows, spec, overrides={swap.name: swap.swapped}))
        yield f"{swap.name} padded {swap.option!r} instead of {swap.was!r} (TensorFlow SAME/VALID vs an explicit pad)", rows


def groups_reading(reading: Reading, target: str | None) -> Iterable[tuple[str, Variant]]:
    spec = reading.spec
    names = spec.stages.get(target, (target,)) if target else tuple(layer.name for layer in spec.layers)
    grouped = {layer.name: layer.spec.model_copy(update={"groups": 1}) for layer in spec.layers
               if layer.name in names and isinstance(layer.spec, Conv) and layer.spec.groups > 1}
    if grouped:
        yield (f"{', '.join(grouped)} counted without its two-GPU grouping (every kernel sees all input channels)",
               reading.variant(("groups", *grouped), lambda: variant_rows(spec, overrides=grouped)))
