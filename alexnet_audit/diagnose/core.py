"""The vocabulary of diagnoses: a diagnosis, a reading of a post, a re-planned variant of it, and
the checks every reading shares (slips of a digit, the input flattened)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from ..figures import Quantity, Row, figure
from ..layers import Shape
from ..spec import Spec

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

    def as_measured(self) -> "Variant":
        """The rows as measured, indexed once and kept with their whole-network figures."""
        return self.variant(("as measured",), lambda: self.rows)


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


def figure_or_none(variant: Variant, spec: Spec, target: str | None, quantity: Quantity) -> int | Shape | None:
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


def input_flattened(spec: Spec, size: int, target: str | None, measured: str) -> Diagnosis | None:
    """A stated size that is the product of the network input's dimensions: the input flattened
    (224x224x3 = 150,528), quoted for a layer that receives something else."""
    c, h, w = spec.doc.input
    if size != c * h * w:
        return None
    where = f"{target} gives {measured}" if target else f"the network gives {measured}"
    return Diagnosis("input_flattened", f"{size:,} is the network's input flattened ({h}x{w}x{c} = {size:,}), "
                     f"not the size at this point of the network: {where}")


def path_steps(spec: Spec, name: str) -> dict[str, int]:
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


def path_nearness(steps: dict[str, int], name: str, rows_apart: int) -> tuple[int, int]:
    """How near a layer stands to another, for sorting (`steps`: path_steps from it): one on the
    data path by its steps along it, then one on another branch by the rows between them."""
    return (0, abs(steps[name])) if name in steps else (1, rows_apart)


def dedupe(items: list[Diagnosis]) -> list[Diagnosis]:
    """The diagnoses in order, each message once (two readings may tell the same story)."""
    seen: set[str] = set()
    out = []
    for d in items:
        if d.message not in seen:
            seen.add(d.message)
            out.append(d)
    return out
