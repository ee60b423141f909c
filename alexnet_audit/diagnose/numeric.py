"""Readings that reproduce a claimed count (parameters, MACs, FLOPs, neurons, connections)."""

from __future__ import annotations

from fractions import Fraction
from typing import Sequence

from ..figures import Quantity, figure
from ..layers import Shape
from .conventions import peer_conventions
from .core import Diagnosis, Matches, Reading, dedupe, digit_slip, figure_or_none, input_flattened, path_nearness, path_steps
from .readings import groups_reading, input_size_readings, padding_readings


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
    readings_to_try = [("groups_ignored", groups_reading(reading, target)), ("input_size", input_size_readings(reading))]
    if not approximate:
        readings_to_try.append(("padding", padding_readings(reading, target)))
    for code, readings in readings_to_try:
        for label, alt_rows in readings:
            reading_gives(code, label, figure_or_none(alt_rows, spec, target, quantity))
    if counterpart is not None:
        other = figure_or_none(counterpart.as_measured(), counterpart.spec, target, quantity)
        reading_gives("code_vs_prose", f"the post's other reading ({counterpart.spec.doc.source.variant}, spec "
                      f"{counterpart.spec.id}), a different network,", other)
    # Another network's total quoted for this one (the paper's 60 M for a variant); layer names are
    # not comparable across networks, so only whole-network figures are tried.
    for ref in references if target is None else ():
        other = figure_or_none(ref.as_measured(), ref.spec, None, quantity)
        reading_gives("other_network", f"the figure is another network's: the reference network {ref.spec.id} "
                      f"({ref.spec.doc.title})", other)
    if target is not None:
        for name, other in _other_layers(reading, target, quantity):
            reading_gives("other_layer", f"the figure belongs to another layer: {name}", other)
    # A slip of one digit is the explanation of last resort: a computed reading that gives the
    # figure exactly (the bias left out of 4,097,000 gives 4,096,000) is the likelier story.
    if claimed.denominator == 1 and (slip := digit_slip(int(claimed), measured)):
        out.append(Diagnosis("digit_slip", slip))
    if not out:
        out.append(_unexplained(claimed, measured, tried))
    return dedupe(_fewest_departures_first(out, departures))


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
    measured = reading.as_measured()
    members = spec.stages.get(target, (target,))
    own = set(members)
    order = measured.position
    here = max((order[n] for n in own if n in order), default=0)
    names = [r.name for r in rows if r.kind in ("conv", "linear") and r.name not in own]
    # When two layers' figures fit, the nearer layer along the data path is the likelier
    # misreading; a layer on another branch comes after every layer on the path, nearer rows first.
    steps = path_steps(spec, members[-1])
    names.sort(key=lambda n: path_nearness(steps, n, abs(order[n] - here)))
    names += [s for s in spec.stages if s != target and not own & set(spec.stages[s])]
    found = ((name, figure_or_none(measured, spec, name, quantity)) for name in names)
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

