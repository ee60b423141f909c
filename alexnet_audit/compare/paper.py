"""A spec against the 2012 paper's network: which of its features the spec keeps, drops,
replaces or changes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Literal

from ..results import ACTIVATIONS, WEIGHTED, Analysis, ModuleInfo
from ..audit import AuditRun
from ..layers import shape_hwc
from ..spec import Spec
from .blocks import NAMES, NORMS, POOLS, WINDOWED, Block, blocks
from .counterpart import describe, size_text

PAPER_ID = "paper-alexnet-2012"


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
            parts.append(f"{NAMES[kind]} {', '.join(nums)}")
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
    return Trait(frozenset({"conv"}), f"{size_text(conv.kernel)}, stride {conv.stride}") if conv else _absent("no conv layer")


def _activation_after(kind: str) -> Callable[[Analysis, tuple[Block, ...]], Trait]:
    def trait(a: Analysis, bs: tuple[Block, ...]) -> Trait:
        # The output layer has no activation in the paper: only hidden layers are compared.
        hidden = [b for b in bs[:-1] if b.kind == kind]
        acts = {b.name: [m.category for m in b.followers if m.category in ACTIVATIONS] for b in hidden}
        used = sorted({c for cs in acts.values() for c in cs})
        if not used:
            return _absent(f"none after {_places(hidden)}" if hidden else f"no hidden {NAMES[kind]} layer")
        with_act = [b for b in hidden if acts[b.name]]
        names = "/".join(NAMES[c] for c in used)
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
    pools = [m for m in a.modules if m.category in WINDOWED]
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


def read_against_paper(spec: Spec) -> bool:
    """Whether a spec is read against the 2012 paper: one that says it is an AlexNet (id or title).
    A LeNet, a VGG or a ResNet would only "change" every feature of a network it never meant to be."""
    return spec.id != PAPER_ID and "alexnet" in f"{spec.id} {spec.doc.title}".lower()


def run_deviations(run: AuditRun) -> tuple[tuple[str, tuple[Deviation, ...]], ...]:
    """Every AlexNet of the run but the paper's, against the paper's network; empty when the run
    does not include the paper's spec."""
    paper = next((a.analysis for a in run.audits if a.spec.id == PAPER_ID), None)
    if paper is None:
        return ()
    return tuple((a.spec.id, paper_deviations(a.analysis, paper)) for a in sorted(run.audits, key=lambda a: a.spec.id)
                 if read_against_paper(a.spec))
