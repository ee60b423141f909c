"""Two comparisons between built networks, read off the models (never the spec text):

- `code_vs_prose`: a spec against the same post's other reading, layer by layer: where they
  part (kernel, stride, padding, channels, pooling, normalisation, layers present or not) and
  what that does to each aligned layer's output shape, parameters and MACs;
- `paper_deviations`: a spec against the 2012 paper's network: which of its features the spec
  keeps, drops, replaces or changes.

Both work on "blocks": a conv or linear layer with the layers that follow it up to the next
conv or linear layer (its activation, normalisation, pooling, dropout). Layers before the first
conv/linear layer belong to no block; the totals still count them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Literal

from .analysis import ACTIVATIONS, WEIGHTED, Analysis, ModuleInfo, followers
from .audit import AuditRun
from .layers import Shape, shape_hwc

PAPER_ID = "paper-alexnet-2012"
NORMS = ("lrn", "batchnorm")
POOLS = ("maxpool", "avgpool", "adaptive_avgpool", "subsample", "global_avgpool", "global_maxpool")
_WINDOWED = {"maxpool": "max", "avgpool": "avg", "subsample": "subsampling"}  # pools with a kernel and stride

_NAMES = {"relu": "ReLU", "tanh": "tanh", "sigmoid": "sigmoid", "softmax": "softmax", "lrn": "LRN",
          "batchnorm": "BatchNorm", "adaptive_avgpool": "adaptive avg pool", "conv": "conv", "linear": "FC",
          "leaky_relu": "leaky ReLU", "relu6": "ReLU6", "hardswish": "hardswish", "elu": "ELU", "gelu": "GELU",
          "global_avgpool": "global avg pool", "global_maxpool": "global max pool"}


# ---------------------------------------------------------------- blocks


@dataclass(frozen=True)
class Block:
    """A conv or linear layer and the layers after it, up to the next conv or linear layer."""

    name: str
    kind: str  # conv | linear
    position: int  # 1-based among the network's layers of the same kind
    module: ModuleInfo
    followers: tuple[ModuleInfo, ...]
    output_shape: Shape  # of the conv/linear layer itself
    params: int  # trainable, the whole block (a BatchNorm's gamma and beta included)
    macs: int  # the whole block
    bias: bool

    @property
    def label(self) -> str:
        return f"{_NAMES[self.kind]} {self.position}"


def blocks(analysis: Analysis) -> tuple[Block, ...]:
    modules = analysis.modules
    starts = [i for i, m in enumerate(modules) if m.category in WEIGHTED]
    out: list[Block] = []
    seen: dict[str, int] = {}
    for n, start in enumerate(starts):
        end = starts[n + 1] if n + 1 < len(starts) else len(modules)
        layers = analysis.layers[start:end]
        head = modules[start]
        seen[head.category] = seen.get(head.category, 0) + 1
        out.append(Block(
            head.name, head.category, seen[head.category], head, followers(modules, start),
            layers[0].output_shape,
            sum(lr.params for lr in layers), sum(lr.macs for lr in layers), layers[0].bias_params > 0,
        ))
    return tuple(out)


# ---------------------------------------------------------------- code vs prose


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


def _size(k: int | None) -> str:
    return f"{k}x{k}" if k is not None else "—"


def _pad(p: tuple[int, int] | None) -> str:
    if p is None:
        return "—"
    return str(p[0]) if p[0] == p[1] else f"{p[0]}/{p[1]} (top/bottom)"


def describe(m: ModuleInfo) -> str:
    """One follower as a reader names it: 'max 3x3/2', 'dropout 0.5', 'LRN'."""
    if m.category in _WINDOWED:
        pad = f" pad {_pad(m.padding)}" if m.padding and any(m.padding) else ""
        return f"{_WINDOWED[m.category]} {_size(m.kernel)}/{m.stride}{pad}"
    if m.category == "dropout":
        return f"dropout {m.p:g}"
    return _NAMES.get(m.category, m.category)


_ROLES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("activation", ACTIVATIONS + ("softmax",)), ("normalisation", NORMS), ("pooling", POOLS), ("dropout", ("dropout",)),
)


def _role_text(block: Block, categories: tuple[str, ...]) -> str:
    return ", ".join(describe(m) for m in block.followers if m.category in categories) or "none"


def _layer_parts(left: Block, right: Block) -> list[Part]:
    a, b = left.module, right.module
    fields: list[tuple[str, str, str]] = []
    if left.kind == "conv":
        fields += [("kernel", _size(a.kernel), _size(b.kernel)), ("stride", str(a.stride), str(b.stride)),
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


# ---------------------------------------------------------------- deviations from the 2012 paper

Status = Literal["keeps", "drops", "adds", "replaces", "changes"]


@dataclass(frozen=True)
class Trait:
    """One feature of a network: which kinds realise it (none: the feature is absent) and how."""

    kinds: frozenset[str]
    text: str


@dataclass(frozen=True)
class Deviation:
    feature: str
    paper: str
    spec: str
    status: Status


def _places(bs: list[Block]) -> str:
    """'conv 1, 2, 5 and FC 1'"""
    parts = []
    for kind in WEIGHTED:
        nums = [str(b.position) for b in bs if b.kind == kind]
        if nums:
            parts.append(f"{_NAMES[kind]} {', '.join(nums)}")
    return " and ".join(parts)


def _absent(text: str = "none") -> Trait:
    return Trait(frozenset(), text)


def _input(a: Analysis, bs: tuple[Block, ...]) -> Trait:
    return Trait(frozenset({"input"}), shape_hwc(a.layers[0].input_shape))


def _depth(a: Analysis, bs: tuple[Block, ...]) -> Trait:
    convs, fcs = sum(b.kind == "conv" for b in bs), sum(b.kind == "linear" for b in bs)
    return Trait(frozenset({"layers"}), f"{convs} conv + {fcs} FC")


def _first_kernel(a: Analysis, bs: tuple[Block, ...]) -> Trait:
    conv = next((b.module for b in bs if b.kind == "conv"), None)
    return Trait(frozenset({"conv"}), f"{_size(conv.kernel)}, stride {conv.stride}") if conv else _absent("no conv layer")


def _activation_after(kind: str) -> Callable[[Analysis, tuple[Block, ...]], Trait]:
    def trait(a: Analysis, bs: tuple[Block, ...]) -> Trait:
        # The output layer has no activation in the paper: only hidden layers are compared.
        hidden = [b for b in bs[:-1] if b.kind == kind]
        acts = {b.name: [m.category for m in b.followers if m.category in ACTIVATIONS] for b in hidden}
        used = sorted({c for cs in acts.values() for c in cs})
        if not used:
            return _absent(f"none after {_places(hidden)}" if hidden else f"no hidden {_NAMES[kind]} layer")
        with_act = [b for b in hidden if acts[b.name]]
        names = "/".join(_NAMES[c] for c in used)
        if len(with_act) == len(hidden):
            return Trait(frozenset(used), f"{names} after all {len(hidden)}")
        without = [b for b in hidden if not acts[b.name]]
        return Trait(frozenset(used), f"{names} after {_places(with_act)}; none after {_places(without)}")
    return trait


def _merges_on_the_way(modules: tuple[ModuleInfo, ...], index: int) -> dict[str, int]:
    """For each layer `modules[index]`'s output reaches before the next conv/linear layer, the
    fewest merges (layers with several inputs: a residual add, a concatenation) on the way."""
    inputs = [0] * len(modules)
    for m in modules:
        for j in m.feeds:
            inputs[j] += 1
    best: dict[int, int] = {}
    frontier = [(0, j) for j in modules[index].feeds]
    while frontier:  # 0-1 costs: a plain sort of the small frontier is enough
        frontier.sort()
        cost, j = frontier.pop(0)
        if modules[j].category in WEIGHTED:
            continue
        cost += inputs[j] > 1
        if j in best and best[j] <= cost:
            continue
        best[j] = cost
        frontier.extend((cost, k) for k in modules[j].feeds)
    return {modules[j].name: c for j, c in best.items()}


def _main_path_blocks(a: Analysis, bs: tuple[Block, ...]) -> dict[str, list[Block]]:
    """Each follower's own conv/linear layers: of all that reach it, those on its main data path,
    the fewest merges away (ResNet's pool after the last block's residual branch, not after the
    convs its identity shortcut carries forward); on a line, the one block it follows."""
    index = {m.name: i for i, m in enumerate(a.modules)}
    reach: dict[str, list[tuple[int, Block]]] = {}
    for b in bs:
        for name, merges in _merges_on_the_way(a.modules, index[b.name]).items():
            reach.setdefault(name, []).append((merges, b))
    return {name: [b for m, b in found if m == min(m for m, _ in found)] for name, found in reach.items()}


def _grouped_by(categories: tuple[str, ...], label: Callable[[ModuleInfo], str]) -> Callable[[Analysis, tuple[Block, ...]], Trait]:
    """Where followers of these categories stand, grouped by how each reads ('LRN after conv 1, 2')."""
    def trait(a: Analysis, bs: tuple[Block, ...]) -> Trait:
        where: dict[str, list[Block]] = {}
        kinds: set[str] = set()
        own = _main_path_blocks(a, bs)
        for b in bs:
            for m in b.followers:
                if m.category in categories and b in own.get(m.name, [b]):
                    kinds.add(m.category)
                    where.setdefault(label(m), [])
                    if b not in where[label(m)]:
                        where[label(m)].append(b)
        if not where:
            return _absent()
        return Trait(frozenset(kinds), "; ".join(f"{text} after {_places(bs_)}" for text, bs_ in where.items()))
    return trait


def _grouping(a: Analysis, bs: tuple[Block, ...]) -> Trait:
    grouped = [b for b in bs if b.kind == "conv" and (b.module.groups or 1) > 1]
    if not grouped:
        return _absent("none (every kernel sees all input maps)")
    by: dict[int, list[Block]] = {}
    for b in grouped:
        by.setdefault(b.module.groups or 1, []).append(b)
    return Trait(frozenset({"groups"}), "; ".join(f"groups={g} in {_places(v)}" for g, v in by.items()))


def _fc_width(a: Analysis, bs: tuple[Block, ...]) -> Trait:
    hidden = [b for b in bs[:-1] if b.kind == "linear"]
    if not hidden:
        return _absent("no hidden FC layer")
    return Trait(frozenset({"fc"}), ", ".join(str(b.output_shape[0]) for b in hidden))


def _overlap(a: Analysis, bs: tuple[Block, ...]) -> Trait:
    pools = [m for m in a.modules if m.category in _WINDOWED]
    if not pools:
        return _absent("no pooling windows")
    over = [m for m in pools if m.stride is not None and m.kernel is not None and m.stride < m.kernel]
    if not over:
        return _absent(f"none of {len(pools)} windows overlap")
    return Trait(frozenset({"overlap"}), f"{'all' if len(over) == len(pools) else len(over)} of {len(pools)} windows overlap")


def _classes(a: Analysis, bs: tuple[Block, ...]) -> Trait:
    return Trait(frozenset({"classes"}), str(a.layers[-1].output_shape[0]))


FEATURES: tuple[tuple[str, Callable[[Analysis, tuple[Block, ...]], Trait]], ...] = (
    ("input", _input),
    ("depth", _depth),
    ("first conv kernel", _first_kernel),
    ("activation after conv layers", _activation_after("conv")),
    ("activation after hidden FC layers", _activation_after("linear")),
    ("normalisation", _grouped_by(NORMS, describe)),
    ("grouped convolutions", _grouping),
    ("pooling", _grouped_by(POOLS, describe)),
    ("overlapping pooling", _overlap),
    ("hidden FC width", _fc_width),
    ("dropout", _grouped_by(("dropout",), describe)),
    ("classes", _classes),
)


def status(paper: Trait, spec: Trait) -> Status:
    if paper == spec:
        return "keeps"
    if not spec.kinds:
        return "drops"
    if not paper.kinds:
        return "adds"
    if paper.kinds.isdisjoint(spec.kinds):
        return "replaces"
    return "changes"


def paper_deviations(spec: Analysis, paper: Analysis) -> tuple[Deviation, ...]:
    """Each feature of the 2012 network and what `spec` does with it, computed from both models."""
    sb, pb = blocks(spec), blocks(paper)
    out = []
    for feature, trait in FEATURES:
        p, s = trait(paper, pb), trait(spec, sb)
        out.append(Deviation(feature, p.text, s.text, status(p, s)))
    return tuple(out)


def run_deviations(run: AuditRun) -> tuple[tuple[str, tuple[Deviation, ...]], ...]:
    """Every spec of the run but the paper's, against the paper's network; empty when the run
    does not include the paper's spec."""
    paper = next((a.analysis for a in run.audits if a.spec.id == PAPER_ID), None)
    if paper is None:
        return ()
    return tuple((a.spec.id, paper_deviations(a.analysis, paper)) for a in sorted(run.audits, key=lambda a: a.spec.id)
                 if a.spec.id != PAPER_ID)
