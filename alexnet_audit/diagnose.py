"""Why a figure is wrong: each diagnosis is a computed reading that reproduces the claimed figure.

A diagnosis is offered only when recomputing the network under that reading (bias left out,
one GPU's half, another input size, other padding semantics, the same post's other reading,
another tool's counting convention, a slip of one digit) gives the figure the source wrote.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from fractions import Fraction
from typing import Any, Callable, Iterable, Sequence

from .build import plan
from .errors import AuditError
from .figures import Quantity, Row, figure, rows_from_plan
from .layers import AvgPool, Conv, MaxPool, Shape, axis_pads, pair, shape_hwc
from .spec import Spec

Matches = Callable[[int], bool]


@dataclass(frozen=True)
class Diagnosis:
    code: str
    message: str


@dataclass(frozen=True)
class Reading:
    """The network and its measured rows, as one reading of a post (its code, or its prose)."""

    spec: Spec
    rows: list[Row]
    # A re-planned reading (a layer padded otherwise, another input size) is the same for every
    # claim of the spec: planned on first use and kept, so diagnosing stays linear in the claims.
    memo: dict[tuple[object, ...], Any] = field(default_factory=dict, compare=False, repr=False)

    def variant(self, key: tuple[object, ...], make: Callable[[], list[Row]]) -> "Variant":
        if key not in self.memo:
            self.memo[key] = Variant.of(make())
        return self.memo[key]


@dataclass(frozen=True)
class Variant:
    """The rows of one reading, indexed by layer name so a target's figure costs its own rows
    only; whole-network figures are kept once computed (they are asked for by many claims)."""

    rows: list[Row]
    position: dict[str, int]
    whole: dict[str, int | Shape] = field(default_factory=dict, compare=False, repr=False)

    @staticmethod
    def of(rows: list[Row]) -> "Variant":
        return Variant(rows, {r.name: i for i, r in enumerate(rows)})


# ---------------------------------------------------------------- digits


def digit_slip(claimed: int, true: int) -> str | None:
    """A single dropped, added, changed or swapped digit that turns `true` into `claimed`."""
    a, b = str(abs(true)), str(abs(claimed))
    if a == b:
        return None
    if len(b) == len(a) - 1 and any(a[:i] + a[i + 1:] == b for i in range(len(a))):
        i = next(i for i in range(len(a)) if a[:i] + a[i + 1:] == b)
        return f"a digit dropped: {true:,} written as {claimed:,} (the '{a[i]}' at position {i + 1} is missing)"
    if len(b) == len(a) + 1 and any(b[:i] + b[i + 1:] == a for i in range(len(b))):
        return f"a digit added: {true:,} written as {claimed:,}"
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        if len(diff) == 1:
            i = diff[0]
            return f"one digit wrong: {true:,} written as {claimed:,} ('{a[i]}' became '{b[i]}')"
        if len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]]:
            return f"two digits swapped: {true:,} written as {claimed:,}"
    return None


def shape_slip(claimed: Shape, true: Shape) -> str | None:
    if len(claimed) != len(true):
        return None
    slips = {(c, t) for c, t in zip(claimed, true) if c != t}
    # A square map written wrong in both height and width is one slip, not two.
    if len(slips) == 1:
        c, t = slips.pop()
        return digit_slip(c, t)
    return None


# ---------------------------------------------------------------- variant readings of a spec


def variant_rows(spec: Spec, *, input_shape: tuple[int, int, int] | None = None, overrides: dict[str, object] | None = None) -> list[Row]:
    """Closed-form rows of the spec read differently; stops before a layer the reading breaks."""
    doc = spec.doc.model_copy(update={"input": input_shape}) if input_shape else spec.doc
    layers = tuple(replace(layer, spec=overrides[layer.name]) if overrides and layer.name in overrides else layer for layer in spec.layers)
    try:
        return rows_from_plan(plan(replace(spec, doc=doc, layers=layers), prefix_only=True))
    except AuditError:
        return []


def _figure_or_none(variant: Variant, spec: Spec, target: str | None, quantity: Quantity) -> int | Shape | None:
    if not variant.rows:
        return None
    if target is None:
        if len(variant.rows) != len(spec.layers):
            return None
        if quantity not in variant.whole:
            variant.whole[quantity] = figure(variant.rows, spec.stages, None, quantity)
        return variant.whole[quantity]
    names = spec.stages.get(target, (target,))
    if any(n not in variant.position for n in names):
        return None
    return figure([variant.rows[variant.position[n]] for n in names], spec.stages, target, quantity)


INPUT_ALTERNATIVES = {224: 227, 227: 224, 28: 32, 32: 28}


def input_size_readings(reading: Reading) -> Iterable[tuple[str, Variant]]:
    spec = reading.spec
    c, h, w = spec.doc.input
    if h == w and h in INPUT_ALTERNATIVES:
        alt = INPUT_ALTERNATIVES[h]
        rows = reading.variant(("input", alt), lambda: variant_rows(spec, input_shape=(c, alt, alt)))
        yield f"a {alt}x{alt} input instead of the {h}x{h} this spec has", rows


def _padding_swaps(layer_spec: object) -> list[tuple[str, object]]:
    if not isinstance(layer_spec, (Conv, MaxPool, AvgPool)):
        return []
    pad = layer_spec.padding
    options: list[object] = {"same": ["valid"], "valid": ["same"]}.get(pad, ["valid", "same"]) if isinstance(pad, str) else (["same", "valid"] if pad else ["same"])
    return [(str(o), layer_spec.model_copy(update={"padding": o})) for o in options]


def _same_output(swapped: object, reading: Reading, i: int) -> bool:
    """Whether layer i, read with other padding, still gives the shape it gives as written (then
    parameters and MACs are unchanged as well, and so is every later layer)."""
    before = reading.rows[i - 1].output_shape if i else tuple(reading.spec.doc.input)
    try:
        return swapped.out_shape(before) == reading.rows[i].output_shape  # type: ignore[attr-defined]
    except AuditError:
        return False


@dataclass(frozen=True)
class _Swap:
    index: int  # the layer's position in spec.layers
    name: str
    option: str
    was: object
    swapped: object


def _shape_changing_swaps(reading: Reading) -> list[_Swap]:
    """Every other padding a layer could have been read with, where it changes the layer's
    output: found once per spec (its claims share them)."""
    aligned = len(reading.rows) == len(reading.spec.layers)
    return [_Swap(i, layer.name, option, layer.spec.padding, swapped)  # type: ignore[attr-defined]
            for i, layer in enumerate(reading.spec.layers) for option, swapped in _padding_swaps(layer.spec)
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
                               lambda swap=swap: variant_rows(spec, overrides={swap.name: swap.swapped}))
        yield f"{swap.name} padded {swap.option!r} instead of {swap.was!r} (TensorFlow SAME/VALID vs an explicit pad)", rows


def groups_reading(spec: Spec, target: str | None) -> Iterable[tuple[str, Variant]]:
    names = spec.stages.get(target, (target,)) if target else tuple(layer.name for layer in spec.layers)
    grouped = {layer.name: layer.spec.model_copy(update={"groups": 1}) for layer in spec.layers
               if layer.name in names and isinstance(layer.spec, Conv) and layer.spec.groups > 1}
    if grouped:
        yield (f"{', '.join(grouped)} counted without its two-GPU grouping (every kernel sees all input channels)",
               Variant.of(variant_rows(spec, overrides=grouped)))


# ---------------------------------------------------------------- peers' counting conventions


_POOLS = ("maxpool", "avgpool", "adaptive_avgpool", "global_avgpool", "global_maxpool")
# ptflops counts one op per output of these (it has no hook for hardswish, tanh or sigmoid).
_PTFLOPS_ACTIVATIONS = ("relu", "leaky_relu", "relu6", "elu", "gelu")


def peer_conventions(rows: Sequence[Row], spec: Spec, target: str | None) -> list[tuple[str, int, int]]:
    """What other tools report for the same layers, each by its own documented convention, with
    its departures from this tool's: how many of the counted parts (conv/linear MACs, bias adds,
    activations, pooling, BatchNorm, the rest) it counts otherwise on this network."""
    chosen = [r for r in rows if target is None or r.name in spec.stages.get(target, (target,))]
    weighted = [r for r in chosen if r.kind in ("conv", "linear")]
    core = sum(r.macs for r in weighted)
    bias_adds = sum(math.prod(r.output_shape) for r in weighted if r.bias_params)
    relu = sum(math.prod(r.output_shape) for r in chosen if r.kind in _PTFLOPS_ACTIVATIONS)
    pools = sum(math.prod(r.input_shape) for r in chosen if r.kind in _POOLS)
    bn = sum(r.macs for r in chosen if r.kind == "batchnorm")
    bn_params = sum(r.params for r in chosen if r.kind == "batchnorm")  # torchinfo: weight and bias, once
    own_pools = sum(r.macs for r in chosen if r.kind in _POOLS)
    rest = sum(r.macs for r in chosen) - core - bn - own_pools  # what only this tool has a rule for (subsampling)
    own = {"core": core, "bias": 0, "activations": 0, "pools": own_pools, "batchnorm": bn, "rest": rest}

    def departures(**parts: int) -> int:
        return sum(1 for k, v in own.items() if parts.get(k, 0) != v)

    return [
        ("torchinfo's Mult-Adds (conv/linear MACs plus one add per bias output; BatchNorm as its 2 x C parameters)",
         core + bias_adds + bn_params, departures(core=core, bias=bias_adds, batchnorm=bn_params)),
        ("ptflops's MACs (adds bias, one op per ReLU output and per pooled input element)", core + bias_adds + relu + pools + bn,
         departures(core=core, bias=bias_adds, activations=relu, pools=pools, batchnorm=bn)),
        ("FlopCounterMode/calflops FLOPs (2 x conv and linear MACs)", 2 * core, departures(core=core)),
        ("fvcore's count without BatchNorm and pooling (conv and linear MACs only)", core, departures(core=core)),
    ]


def peer_mac_figures(rows: Sequence[Row], spec: Spec, target: str | None) -> list[tuple[str, int]]:
    """What other tools report for the same layers, each by its own documented convention."""
    return [(label, value) for label, value, _ in peer_conventions(rows, spec, target)]


def input_flattened(spec: Spec, size: int, target: str | None, measured: str) -> Diagnosis | None:
    """A stated size that is the product of the network input's dimensions: the input flattened
    (224x224x3 = 150,528), quoted for a layer that receives something else."""
    c, h, w = spec.doc.input
    if size != c * h * w:
        return None
    where = f"{target} gives {measured}" if target else f"the network gives {measured}"
    return Diagnosis("input_flattened", f"{size:,} is the network's input flattened ({h}x{w}x{c} = {size:,}), "
                     f"not the size at this point of the network: {where}")


# ---------------------------------------------------------------- the numeric pipeline


def numeric_diagnoses(
    *,
    claimed: Fraction,
    measured: int,
    quantity: Quantity,
    target: str | None,
    matches: Matches,
    reading: Reading,
    counterpart: Reading | None,
    approximate: bool = False,
    references: Sequence[Reading] = (),
) -> list[Diagnosis]:
    """Every computed reading that reproduces `claimed`, most specific first."""
    out: list[Diagnosis] = []
    tried: list[tuple[str, int]] = []
    spec, rows = reading.spec, reading.rows

    # A counting convention's reading records how far it departs from this tool's convention: when
    # several reproduce the figure, the one with the fewest departures is the likelier story (a MAC
    # count labelled FLOPs before a peer tool's count that also leaves out BatchNorm).
    departures: dict[int, int] = {}

    def reading_gives(code: str, label: str, value: int | Shape | None, departs: int | None = None) -> None:
        if isinstance(value, int) and value != measured:
            tried.append((label, value))
            if matches(value):
                if departs is not None:
                    departures[len(out)] = departs
                out.append(Diagnosis(code, f"{label} gives {value:,}"))

    if quantity in ("params", "params_no_bias"):
        reading_gives("bias_left_out", "leaving out the bias terms", figure(rows, spec.stages, target, "params_no_bias"), 1)
        reading_gives("bias_counted", "counting the bias terms", figure(rows, spec.stages, target, "params"), 1)
        reading_gives("keras_bn_statistics", "counting BatchNorm's running mean and variance as Keras's summary() does",
                      figure(rows, spec.stages, target, "params_with_stats"), 1)
    if quantity == "flops":
        reading_gives("macs_as_flops", "the figure is MACs quoted as FLOPs: the MAC count", figure(rows, spec.stages, target, "macs"), 1)
    if quantity == "macs":
        reading_gives("flops_as_macs", "the figure is FLOPs quoted as MACs: 2 x MACs", figure(rows, spec.stages, target, "flops"), 1)
    if quantity in ("params", "macs", "flops", "neurons", "connections", "connections_with_bias") and measured % 2 == 0:
        reading_gives("half_channels", "one GPU's share (half the channels of the two-GPU net)", measured // 2)
    if quantity == "neurons" and claimed.denominator == 1 and (flat := input_flattened(spec, int(claimed), target, f"{measured:,}")):
        out.append(flat)
    if quantity == "connections":
        reading_gives("bias_connections", "counting each bias as one more connection (and every RBF unit's inputs), as "
                      "LeCun et al. (1998) do", figure(rows, spec.stages, target, "connections_with_bias"), 1)
    if quantity == "connections_with_bias":
        reading_gives("bias_left_out", "counting weight-input pairs only (no bias, no RBF inputs), this tool's default,",
                      figure(rows, spec.stages, target, "connections"), 1)
    if quantity in ("macs", "flops", "connections"):
        scale = 2 if quantity == "flops" else 1
        for label, value, departs in peer_conventions(rows, spec, target):
            # a peer's figure read in the other unit than it reports (its FLOPs as MACs, its MACs as
            # FLOPs) departs once more
            reading_gives("peer_convention", f"{label}{' doubled to FLOPs' if scale == 2 and 'FLOPs' not in label else ''}",
                          value * (scale if "FLOPs" not in label else 1), departs + (scale == 1 and "FLOPs" in label))
            if scale == 2 and "FLOPs" not in label:
                reading_gives("peer_convention", f"{label}, quoted as FLOPs", value, departs + 1)
    # One layer's padding shifts a rounded total by a little: only an exact figure can tell.
    readings_to_try = [("groups_ignored", groups_reading(spec, target)), ("input_size", input_size_readings(reading))]
    if not approximate:
        readings_to_try.append(("padding", padding_readings(reading, target)))
    for code, readings in readings_to_try:
        for label, alt_rows in readings:
            reading_gives(code, label, _figure_or_none(alt_rows, spec, target, quantity))
    if counterpart is not None:
        value = _figure_or_none(Variant.of(counterpart.rows), counterpart.spec, target, quantity)
        reading_gives("code_vs_prose", f"the post's other reading ({counterpart.spec.doc.source.variant}, spec "
                      f"{counterpart.spec.id}), a different network,", value)
    # Another network's total quoted for this one (the paper's 60 M for a variant); layer names are
    # not comparable across networks, so only whole-network figures are tried.
    for ref in references if target is None else ():
        value = _figure_or_none(Variant.of(ref.rows), ref.spec, None, quantity)
        reading_gives("other_network", f"the figure is another network's: the reference network {ref.spec.id} "
                      f"({ref.spec.doc.title})", value)
    if target is not None:
        for name, value in _other_layers(reading, target, quantity):
            reading_gives("other_layer", f"the figure belongs to another layer: {name}", value)
    # A slip of one digit is the explanation of last resort: a computed reading that gives the
    # figure exactly (the bias left out of 4,097,000 gives 4,096,000) is the likelier story.
    if claimed.denominator == 1 and (slip := digit_slip(int(claimed), measured)):
        out.append(Diagnosis("digit_slip", slip))
    if not out:
        out.append(_unexplained(claimed, measured, tried))
    return _dedupe(_fewest_departures_first(out, departures))


def _fewest_departures_first(out: list[Diagnosis], departures: dict[int, int]) -> list[Diagnosis]:
    """The counting-convention readings reordered among their own places, fewest departures from
    this tool's convention first (ties keep their order); every other reading keeps its place."""
    slots = sorted(departures)
    ranked = sorted(slots, key=lambda i: departures[i])  # stable: ties keep their order
    reordered = list(out)
    for slot, i in zip(slots, ranked):
        reordered[slot] = out[i]
    return reordered


def _other_layers(reading: Reading, target: str, quantity: Quantity) -> list[tuple[str, int | Shape]]:
    """The same figure read off every other conv/linear layer and stage (a row read from the wrong line)."""
    spec, rows = reading.spec, reading.rows
    measured = reading.variant(("as measured",), lambda: rows)
    own = set(spec.stages.get(target, (target,)))
    order = measured.position
    here = max((order[n] for n in own if n in order), default=0)
    names = [r.name for r in rows if r.kind in ("conv", "linear") and r.name not in own]
    # When two layers' figures fit, the nearer row is the likelier misreading.
    names.sort(key=lambda n: abs(order[n] - here))
    names += [s for s in spec.stages if s != target and not own & set(spec.stages[s])]
    found = ((name, _figure_or_none(measured, spec, name, quantity)) for name in names)
    return [(name, value) for name, value in found if value is not None]


def _unexplained(claimed: Fraction, measured: int, tried: list[tuple[str, int]]) -> Diagnosis:
    """Say so when no reading reproduces the figure, and which reading came nearest."""
    off = abs(claimed - measured) / measured if measured else None
    text = f"no reading tried reproduces it ({len(tried) + 1} tried, the digits included)"
    if off is not None:
        text += f"; it is {float(off):.1%} {'below' if claimed < measured else 'above'} the measured figure"
    nearer = [(label, v) for label, v in tried if abs(v - claimed) < abs(measured - claimed)]
    if nearer:
        label, value = min(nearer, key=lambda lv: abs(lv[1] - claimed))
        text += f"; the nearest reading gives {value:,}: {label.rstrip(',')}"
    return Diagnosis("unexplained", text)


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
            reading_gives(code, label, _figure_or_none(alt_rows, spec, target, "shape"))
    if counterpart is not None:
        other = _figure_or_none(Variant.of(counterpart.rows), counterpart.spec, target, "shape")
        label = f"the post's other reading ({counterpart.spec.doc.source.variant}, spec {counterpart.spec.id}), a different network,"
        reading_gives("code_vs_prose", label, other)
        if isinstance(other, tuple) and other != measured and (slip := shape_slip(claimed, other)):
            out.append(Diagnosis("code_vs_prose", f"{label} gives {shape_hwc(other)}, and {slip}"))
    names = [layer.name for layer in spec.layers]
    last = names.index(spec.stages.get(target, (target,))[-1])
    steps = _path_steps(spec, names[last])
    others = [(0 if r.name in steps else 1, abs(steps[r.name]) if r.name in steps else abs(last - i), i, r)
              for i, r in enumerate(reading.rows)
              if r.output_shape == claimed and r.name not in spec.stages.get(target, (target,))]
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
    return _dedupe(out)


def _path_steps(spec: Spec, name: str) -> dict[str, int]:
    """How many layers along the data path each layer stands from `name`: negative upstream (it
    feeds `name`), positive downstream; a layer on another branch is absent. On a line these are
    the positions' differences."""
    inputs = {layer.name: layer.inputs for layer in spec.layers}
    fed: dict[str, list[str]] = {}
    for layer in spec.layers:
        for src in layer.inputs:
            fed.setdefault(src, []).append(layer.name)
    steps: dict[str, int] = {}
    for sign, links in ((-1, inputs), (1, fed)):
        frontier, k = [name], 0
        while frontier:
            k += 1
            frontier = [n for f in frontier for n in links.get(f, ()) if n not in steps and n != name]
            for n in frontier:
                steps.setdefault(n, sign * k)
    return steps


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
    if i is None or not isinstance(layers[i].spec, (Conv, MaxPool, AvgPool)):
        return []
    planned = rows_from_plan(plan(spec, prefix_only=True))
    if i >= len(planned):
        return []
    size_in = planned[i].input_shape
    if len(size_in) != 3:
        return []
    layer = layers[i].spec
    k = pair(layer.kernel)[axis - 1]  # type: ignore[union-attr]
    st = pair(layer.stride if layer.stride is not None else layer.kernel)[axis - 1]  # type: ignore[union-attr]
    n = size_in[axis]
    total = (claimed - 1) * st - n + k
    if total < 0 or (total % 2 and not written):
        return []
    have = sum(axis_pads(layer.padding, axis - 1, n, k, st))  # type: ignore[union-attr]
    per_side = f"{total // 2} per side" if total % 2 == 0 else f"{total / 2:g} per side, which no layer can pad symmetrically"
    return [Diagnosis("padding_needed", f"a total padding of {total} gives {claimed} (({n} - {k} + {total}) / {st} + 1 = "
                      f"{claimed}), i.e. {per_side}; {name} pads {have} in all ({layer.padding!r}), which gives {measured}")]  # type: ignore[union-attr]


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


def _dedupe(items: list[Diagnosis]) -> list[Diagnosis]:
    seen: set[str] = set()
    out = []
    for d in items:
        if d.message not in seen:
            seen.add(d.message)
            out.append(d)
    return out
