"""A spec against the same post's other reading, layer by layer: where they part (kernel, stride,
padding, channels, pooling, normalisation, layers present or not) and what that does to each
aligned layer's output shape, parameters and MACs."""

from __future__ import annotations

from dataclasses import dataclass

from ..results import ACTIVATIONS, WEIGHTED, Analysis, ModuleInfo
from ..audit import AuditRun
from ..layers import shape_hwc
from .blocks import NAMES, NORMS, POOLS, WINDOWED, Block, blocks


@dataclass(frozen=True)
class Part:
    """One way two aligned layers differ: `what`, as the left and as the right network has it."""

    what: str
    left: str
    right: str


@dataclass(frozen=True)
class AlignedLayer:
    left: Block | None
    right: Block | None
    parts: tuple[Part, ...]

    @property
    def d_params(self) -> int:
        return _of(self.right, "params") - _of(self.left, "params")

    @property
    def d_macs(self) -> int:
        return _of(self.right, "macs") - _of(self.left, "macs")


@dataclass(frozen=True)
class TotalDelta:
    what: str
    left: int
    right: int

    @property
    def delta(self) -> int:
        return self.right - self.left


@dataclass(frozen=True)
class SpecDiff:
    """Two readings of a network, aligned layer by layer; deltas are right minus left."""

    left: str
    right: str
    inputs: Part | None  # when the two are built for different inputs
    rows: tuple[AlignedLayer, ...]
    totals: tuple[TotalDelta, ...]

    @property
    def identical(self) -> bool:
        return self.inputs is None and not any(r.parts for r in self.rows)


def _of(block: Block | None, field: str) -> int:
    return getattr(block, field) if block else 0


def align(left: tuple[Block, ...], right: tuple[Block, ...]) -> list[tuple[Block | None, Block | None]]:
    """Pair blocks by layer name, then the rest of each kind in order; unpaired ones stand alone.

    Rows follow the left network's order; a right-only block comes after the row holding the
    right block before it.
    """
    partner: dict[int, int] = {}
    right_names = {b.name: j for j, b in enumerate(right)}
    for i, b in enumerate(left):
        j = right_names.get(b.name)
        if j is not None and right[j].kind == b.kind:
            partner[i] = j
    taken = set(partner.values())
    for kind in WEIGHTED:
        free_left = [i for i, b in enumerate(left) if b.kind == kind and i not in partner]
        free_right = [j for j, b in enumerate(right) if b.kind == kind and j not in taken]
        partner.update(zip(free_left, free_right))
    rows: list[tuple[Block | None, Block | None]] = [(b, right[partner[i]] if i in partner else None) for i, b in enumerate(left)]
    paired = set(partner.values())
    for j, b in enumerate(right):
        if j in paired:
            continue
        at = max((k + 1 for k, (_, r) in enumerate(rows) if r is not None and right.index(r) < j), default=0)
        rows.insert(at, (None, b))
    return rows


def size_text(k: int | None) -> str:
    return f"{k}x{k}" if k is not None else "—"


def _pad(p: tuple[int, int] | None) -> str:
    if p is None:
        return "—"
    return str(p[0]) if p[0] == p[1] else f"{p[0]}/{p[1]} (top/bottom)"


def describe(m: ModuleInfo) -> str:
    """One follower as a reader names it: 'max 3x3/2', 'dropout 0.5', 'LRN'."""
    if m.category in WINDOWED:
        pad = f" pad {_pad(m.padding)}" if m.padding and any(m.padding) else ""
        return f"{WINDOWED[m.category]} {size_text(m.kernel)}/{m.stride}{pad}"
    if m.category == "dropout":
        return f"dropout {m.p:g}"
    return NAMES.get(m.category, m.category)


_ROLES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("activation", ACTIVATIONS + ("softmax",)), ("normalisation", NORMS), ("pooling", POOLS), ("dropout", ("dropout",)),
)


def _role_text(block: Block, categories: tuple[str, ...]) -> str:
    return ", ".join(describe(m) for m in block.followers if m.category in categories) or "none"


def _layer_parts(left: Block, right: Block) -> list[Part]:
    a, b = left.module, right.module
    fields: list[tuple[str, str, str]] = []
    if left.kind == "conv":
        fields += [("kernel", size_text(a.kernel), size_text(b.kernel)), ("stride", str(a.stride), str(b.stride)),
                   ("padding", _pad(a.padding), _pad(b.padding)), ("channels", str(a.out_channels), str(b.out_channels)),
                   ("groups", str(a.groups), str(b.groups))]
    else:
        fields.append(("features", str(left.output_shape[0]), str(right.output_shape[0])))
    fields.append(("bias", "yes" if left.bias else "no", "yes" if right.bias else "no"))
    fields += [(role, _role_text(left, cats), _role_text(right, cats)) for role, cats in _ROLES]
    parts = [Part(what, x, y) for what, x, y in fields if x != y]
    order_l = [describe(m) for m in left.followers if m.category != "flatten"]
    order_r = [describe(m) for m in right.followers if m.category != "flatten"]
    if not parts and order_l != order_r:
        parts.append(Part("order", ", ".join(order_l), ", ".join(order_r)))
    return parts


def _aligned(left: Block | None, right: Block | None) -> AlignedLayer:
    if left and right:
        return AlignedLayer(left, right, tuple(_layer_parts(left, right)))
    only = left or right
    assert only is not None
    here = f"{only.label} ({only.name})"
    return AlignedLayer(left, right, (Part("presence", here, "absent") if left else Part("presence", "absent", here),))


def diff(left: Analysis, right: Analysis) -> SpecDiff:
    """`left` and `right` aligned layer by layer, with what parts them and the resulting deltas."""
    in_l, in_r = left.layers[0].input_shape, right.layers[0].input_shape
    inputs = Part("input", shape_hwc(in_l), shape_hwc(in_r)) if in_l != in_r else None
    tl, tr = left.totals, right.totals
    totals = (TotalDelta("params", tl.trainable_params, tr.trainable_params), TotalDelta("MACs", tl.macs, tr.macs),
              TotalDelta("neurons", tl.neurons, tr.neurons))
    rows = tuple(_aligned(a, b) for a, b in align(blocks(left), blocks(right)))
    return SpecDiff(left.spec.id, right.spec.id, inputs, rows, totals)


def code_vs_prose(one: Analysis, other: Analysis) -> SpecDiff:
    """The diff of a post's two readings, the prose on the left: the code is read as a change of
    the network the text describes (any other pair keeps the order given)."""
    if one.spec.doc.source.variant == "code" and other.spec.doc.source.variant == "prose":
        return diff(other, one)
    return diff(one, other)


def counterpart_diffs(run: AuditRun) -> tuple[SpecDiff, ...]:
    """The code-vs-prose diff of every post with two readings in the run, each pair once."""
    seen: set[frozenset[str]] = set()
    out = []
    for a in sorted(run.audits, key=lambda a: a.spec.id):
        if a.counterpart is None or frozenset({a.spec.id, a.counterpart.spec.id}) in seen:
            continue
        seen.add(frozenset({a.spec.id, a.counterpart.spec.id}))
        out.append(code_vs_prose(a.analysis, a.counterpart))
    return tuple(out)


