"""Readings that reproduce a claimed output shape, and the padding a claimed size needs."""

from __future__ import annotations

from typing import Sequence

from ..errors import AuditError
from ..figures import rows_from_plan
from ..layers import AvgPool, Conv, MaxPool, Shape, axis_pads, pair, shape_hwc
from ..plan import plan
from ..spec import Spec
from .core import Diagnosis, Reading, dedupe, figure_or_none, input_flattened, path_nearness, path_steps, shape_slip
from .readings import input_size_readings, padding_readings


def shape_diagnoses(
    *,
    claimed: Shape,
    measured: Shape,
    target: str,
    reading: Reading,
    counterpart: Reading | None,
    earlier: Sequence[tuple[str, str, Shape]],
) -> list[Diagnosis]:
    """Readings that reproduce a claimed (C, H, W) output shape."""
    out: list[Diagnosis] = []
    spec = reading.spec

    def reading_gives(code: str, label: str, value: int | Shape | None) -> None:
        if isinstance(value, tuple) and value != measured and value == claimed:
            out.append(Diagnosis(code, f"{label} gives {shape_hwc(value)}"))

    if len(claimed) == 1 and (flat := input_flattened(spec, claimed[0], target, shape_hwc(measured))):
        out.append(flat)
    if len(measured) == 3 and measured[0] % 2 == 0:
        reading_gives("half_channels", "one GPU's share (half the channels of the two-GPU net)", (measured[0] // 2,) + measured[1:])
    for code, readings in (("input_size", input_size_readings(reading)), ("padding", padding_readings(reading, target))):
        for label, alt_rows in readings:
            reading_gives(code, label, figure_or_none(alt_rows, spec, target, "shape"))
    if counterpart is not None:
        other = figure_or_none(counterpart.as_measured(), counterpart.spec, target, "shape")
        label = f"the post's other reading ({counterpart.spec.doc.source.variant}, spec {counterpart.spec.id}), a different network,"
        reading_gives("code_vs_prose", label, other)
        if isinstance(other, tuple) and other != measured and (slip := shape_slip(claimed, other)):
            out.append(Diagnosis("code_vs_prose", f"{label} gives {shape_hwc(other)}, and {slip}"))
    members = spec.stages.get(target, (target,))
    last = [layer.name for layer in spec.layers].index(members[-1])
    steps = path_steps(spec, members[-1])
    others = [(*path_nearness(steps, r.name, abs(last - i)), i, r)
              for i, r in enumerate(reading.rows) if r.output_shape == claimed and r.name not in members]
    if others:
        _, _, i, r = min(others, key=lambda t: (t[0], t[1], t[2]))
        if r.name in steps:
            k = steps[r.name]
            where = f"{abs(k)} layer{'s' if abs(k) > 1 else ''} {'before' if k < 0 else 'after'}"
        else:
            where = "on another branch"
        out.append(Diagnosis("other_layer", f"the shape belongs to another layer: {r.name}'s output ({where})"))
    for name, weights in weight_shapes(reading).items():
        if weights == tuple(claimed):
            out.append(Diagnosis("weight_shape", f"the figure is {name}'s weight tensor (out, in, kh, kw) = "
                                 f"{list(weights)}, not a feature map; {target} outputs {shape_hwc(measured)}"))
    for claim_id, earlier_target, earlier_shape in earlier:
        carried = carry_forward(spec, earlier_target, earlier_shape, target)
        if carried is not None and carried == claimed:
            out.append(Diagnosis("carried_forward", f"an error carried forward: starting from claim {claim_id}'s "
                                 f"{shape_hwc(earlier_shape)} after {earlier_target}, the layers up to {target} give {shape_hwc(carried)}"))
    # Another padding is a computed reading too, though less specific than an error carried forward.
    if len(claimed) == len(measured) == 3 and claimed[0] == measured[0]:
        for axis in (1, 2):
            if claimed[axis] != measured[axis]:
                out += padding_needed(spec, target, claimed[axis], measured[axis], axis=axis)
                break
    if slip := shape_slip(claimed, measured):
        out.append(Diagnosis("digit_slip", slip))
    if not out:
        out.append(Diagnosis("unexplained", f"no reading tried reproduces {shape_hwc(claimed)} (input size, padding, one GPU's "
                             "half, the other reading, another layer, an earlier error carried forward, a digit slip)"))
    return dedupe(out)


def weight_shapes(reading: Reading) -> dict[str, tuple[int, ...]]:
    """Each conv layer's weight tensor (out, in / groups, kh, kw) and each linear layer's (out, in)."""
    out: dict[str, tuple[int, ...]] = {}
    by_name = {layer.name: layer for layer in reading.spec.layers}
    for r in reading.rows:
        layer = by_name.get(r.name)
        if layer is not None and isinstance(layer.spec, Conv):
            kh, kw = pair(layer.spec.kernel)
            out[r.name] = (r.output_shape[0], r.input_shape[0] // layer.spec.groups, kh, kw)
        elif r.kind == "linear":
            out[r.name] = (r.output_shape[0], (r.params - r.bias_params) // r.output_shape[0])
    return out


def padding_needed(spec: Spec, target: str, claimed: int, measured: int, *, axis: int, written: bool = False) -> list[Diagnosis]:
    """The padding that would give the claimed size, against the target layer's own. An odd total
    (half a pixel per side) is offered only for a formula the source wrote out (its P = 1.5)."""
    name = spec.stages.get(target, (target,))[-1]
    layers = list(spec.layers)
    i = next((j for j, layer in enumerate(layers) if layer.name == name), None)
    layer = layers[i].spec if i is not None else None
    if i is None or not isinstance(layer, (Conv, MaxPool, AvgPool)):
        return []
    planned = rows_from_plan(plan(spec, prefix_only=True))
    if i >= len(planned):
        return []
    size_in = planned[i].input_shape
    if len(size_in) != 3:
        return []
    k = pair(layer.kernel)[axis - 1]
    st = layer.strides()[axis - 1]
    n = size_in[axis]
    total = (claimed - 1) * st - n + k
    if total < 0 or (total % 2 and not written):
        return []
    have = sum(axis_pads(layer.padding, axis - 1, n, k, st))
    per_side = f"{total // 2} per side" if total % 2 == 0 else f"{total / 2:g} per side, which no layer can pad symmetrically"
    return [Diagnosis("padding_needed", f"a total padding of {total} gives {claimed} (({n} - {k} + {total}) / {st} + 1 = "
                      f"{claimed}), i.e. {per_side}; {name} pads {have} in all ({layer.padding!r}), which gives {measured}")]


def carry_forward(spec: Spec, start: str, start_shape: Shape, target: str) -> Shape | None:
    """The shape `target` would output if `start` had output `start_shape`: along the data path
    (each layer's inputs), so a layer on another branch is never fed the earlier figure; None when
    `start` does not feed `target` through single-input layers (a merge needs every branch)."""
    by_name = {layer.name: layer for layer in spec.layers}
    first, last = spec.stages.get(start, (start,))[-1], spec.stages.get(target, (target,))[-1]
    chain = []
    node = last
    while node != first:
        layer = by_name.get(node)
        if layer is None or layer.is_merge or len(layer.inputs) != 1:
            return None  # the network input, a merge, or no path from `start`
        chain.append(layer)
        node = layer.inputs[0]
    if not chain:
        return None
    shape = start_shape
    try:
        for layer in reversed(chain):
            shape = layer.spec.out_shape(shape)
    except AuditError:
        return None
    return shape

