"""A `same_as` claim on graph networks: the two networks compared along their data paths.

The built model's nodes (`Analysis.modules`, whose inputs give the graph) are read back into
series-parallel form: a chain is a list of units (conv/linear layers and merge points, each with
the compared layers after it), and a merge point holds the branches that meet there, each a
chain from the node that all of them leave (the merge's immediate dominator). Two chains are
aligned at least cost, so a unit one side lacks is named without shifting the rest; branches are
matched as unordered sets, so the order a spec writes them in never matters; each difference is
reported once, located by block and branch.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Literal

from .results import WEIGHTED, Analysis, ModuleInfo

# What may follow a layer and is compared (the line comparison's set, in claims_structure).
COMPARED = frozenset({"relu", "tanh", "sigmoid", "lrn", "batchnorm", "maxpool", "avgpool"})
MERGES = ("concat", "add")
_INPUT = -1  # the network input, as a node position
_VERB = {"concat": "concatenated", "add": "added"}
_JOINS = {"concat": "concatenates", "add": "adds"}


def _digest(*parts: object) -> str:
    """A fixed-size key for a structure: a dense block's units share their earlier units, so
    nested tuples (or their repr) would grow exponentially with the units; digests of digests do not."""
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:24]


@dataclass(frozen=True)
class Weighted:
    """A conv or linear layer and the compared layers after it, up to the next unit of its path."""

    name: str
    category: str
    width: int | None  # None: the network's last layer, whose width follows the classes
    kernel: int | None
    stride: int | None
    after: frozenset[str]
    lrn: tuple[float, float, float, float] | None

    @cached_property
    def bare(self) -> str:
        """Its key without what follows it."""
        return _digest("w", self.category, self.width, self.kernel, self.stride)

    @cached_property
    def sig(self) -> str:
        return _digest(self.bare, sorted(self.after), self.lrn)

    @property
    def short(self) -> str:
        return f"{self.kernel}x{self.kernel} conv" if self.category == "conv" else "linear layer"


@dataclass(frozen=True)
class Chain:
    """A chain of units between two points of the graph; `head`: the compared layers before its first unit."""

    head: frozenset[str]
    units: tuple[Unit, ...]

    @cached_property
    def sig(self) -> str:
        return _digest(sorted(self.head), [u.sig for u in self.units])

    @property
    def short(self) -> str:
        parts = sorted(self.head) + [u.short for u in self.units]
        return " + ".join(parts) if parts else "identity"


@dataclass(frozen=True)
class Junction:
    """A merge point with the branches that meet there, and the compared layers after it."""

    name: str
    kind: str
    branches: tuple[Chain, ...]
    after: frozenset[str]

    @property
    def block(self) -> str:
        return self.name.rsplit(".", 1)[0]  # a name without a dot is its own block

    @cached_property
    def bare(self) -> str:
        """Its key without what follows it: the merge and its branches, in any order."""
        return _digest("j", self.kind, sorted(b.sig for b in self.branches))

    @cached_property
    def sig(self) -> str:
        return _digest(self.bare, sorted(self.after))

    @property
    def short(self) -> str:
        return f"{self.kind} block"


Unit = Weighted | Junction


# ---------------------------------------------------------------- reading the graph back


class _Reader:
    def __init__(self, analysis: Analysis) -> None:
        self.modules = analysis.modules
        self.widths = [layer.output_shape[0] for layer in analysis.layers]
        index = {m.name: i for i, m in enumerate(self.modules)}
        self.preds = [tuple(index[n] if n else _INPUT for n in m.inputs) or (_INPUT,) for m in self.modules]
        weighted = [i for i, m in enumerate(self.modules) if m.category in WEIGHTED]
        self.last = weighted[-1] if weighted else None
        self.idom: list[int] = []
        for preds in self.preds:  # positions are in execution order, so every dominator comes first
            self.idom.append(self._meet(preds))
        # Each merge's branches, read once and in execution order: a dense block's later merges
        # hold its earlier ones, which are then already read (no deep recursion, no re-reading).
        self.junctions: dict[int, Junction] = {}
        for i, m in enumerate(self.modules):
            if m.category in MERGES and len(self.preds[i]) > 1:
                branches = tuple(self.chain(p, self.idom[i]) for p in self.preds[i])
                self.junctions[i] = Junction(m.name, m.category, branches, frozenset())

    def _meet(self, preds: tuple[int, ...]) -> int:
        a = preds[0]
        for b in preds[1:]:
            while a != b:
                a, b = (self.idom[a], b) if a > b else (a, self.idom[b])
        return a

    def chain(self, end: int, start: int) -> Chain:
        """The nodes after `start` up to `end`, each merge point with its branches."""
        nodes: list[int | Junction] = []
        while end != start:
            if end in self.junctions:
                nodes.append(self.junctions[end])
                end = self.idom[end]
            else:
                nodes.append(end)
                end = self.preds[end][0]
        return self._units(nodes[::-1])

    def _units(self, nodes: list[int | Junction]) -> Chain:
        head: set[str] = set()
        units: list[Unit] = []
        trail: list[ModuleInfo] = []  # the compared layers after the last unit
        for node in nodes + [None]:  # None closes the last unit
            if isinstance(node, int) and self.modules[node].category not in WEIGHTED:
                if self.modules[node].category in COMPARED:
                    trail.append(self.modules[node])
                continue
            if units:
                units[-1] = _with_after(units[-1], trail)
            else:
                head = {m.category for m in trail}
            trail = []
            if isinstance(node, Junction):
                units.append(node)
            elif node is not None:
                m = self.modules[node]
                width = None if node == self.last and m.category == "linear" else self.widths[node]
                units.append(Weighted(m.name, m.category, width, m.kernel if m.category == "conv" else None,
                                      m.stride if m.category == "conv" else None, frozenset(), None))
        return Chain(frozenset(head), tuple(units))


def _with_after(unit: Unit, trail: list[ModuleInfo]) -> Unit:
    after = frozenset(m.category for m in trail)
    if isinstance(unit, Junction):
        return Junction(unit.name, unit.kind, unit.branches, after)
    lrn = next((m.lrn for m in trail if m.category == "lrn"), None)
    return Weighted(unit.name, unit.category, unit.width, unit.kernel, unit.stride, after, lrn)


def data_path(analysis: Analysis) -> Chain:
    """The whole network as one path from its input to its last node."""
    reader = _Reader(analysis)
    return reader.chain(len(analysis.modules) - 1, _INPUT)


def half_width(mine: Analysis, reference: Analysis) -> bool:
    """Whether the reference is this network with every width doubled, the last layer's aside
    (its width follows the classes), branches in any order: the two paths' structural keys agree."""
    return _doubled(data_path(mine), {}).sig == data_path(reference).sig


def _doubled(chain: Chain, done: dict[int, Chain]) -> Chain:
    """`chain` with every width doubled; `done`: the chains doubled so far, by identity, since a dense
    block's branches share their earlier chains, and doubling each path apart grows exponentially."""
    if id(chain) not in done:
        done[id(chain)] = replace(chain, units=tuple(
            replace(u, branches=tuple(_doubled(b, done) for b in u.branches)) if isinstance(u, Junction)
            else u if u.width is None else replace(u, width=2 * u.width)
            for u in chain.units))
    return done[id(chain)]


# ---------------------------------------------------------------- comparing


def graph_differences(mine: Analysis, reference: Analysis) -> list[str]:
    """Each difference between the two networks once, located by block and branch."""
    out: list[str] = []
    _paths(data_path(mine), data_path(reference), "", out, set())
    return list(dict.fromkeys(out))


def _at(where: str, unit: Unit) -> str:
    if where:
        return where
    return unit.block if isinstance(unit, Junction) else unit.name


def _paths(a: Chain, b: Chain, where: str, out: list[str], seen: set[tuple[str, str]]) -> None:
    """The differences of two chains into `out`; `seen`: the pairs of merge points compared so far
    (a dense block's earlier merges are reached along several paths, and compared once)."""
    if a.sig == b.sig:
        return
    if a.head != b.head:
        out.append(f"{where or 'the network'}: begins with {_kinds(a.head)}, the reference with {_kinds(b.head)}")
    for step in _align(a.units, b.units):
        op, i, j = step.op, step.i, step.j
        x = a.units[i] if i < len(a.units) else None
        y = b.units[j] if j < len(b.units) else None
        if op == "extra" and x is not None:
            out.append(f"{where or 'the network'}: also a {x.short} ({_at('', x)}), which the reference lacks")
        elif op == "missing" and y is not None:
            out.append(f"{where or 'the network'}: the reference also has a {y.short} ({_at('', y)}), which this spec lacks")
        elif op == "inline_mine" and isinstance(y, Junction):  # this spec writes one of the reference's branches inline
            _written_inline(y, step.branch, a.units[i + step.span - 1], "the reference", "this spec", out, where)
        elif op == "inline_ref" and isinstance(x, Junction):
            _written_inline(x, step.branch, b.units[j + step.span - 1], "this spec", "the reference", out, where)
        elif isinstance(x, Junction) and isinstance(y, Junction):
            _junctions(x, y, out, seen)
        elif isinstance(x, Weighted) and isinstance(y, Weighted):
            _layers(x, y, _at(where, x), out)
        elif x is not None and y is not None:
            out.append(f"{_at(where, x)}: a {x.short} where the reference has a {y.short}")


@dataclass(frozen=True)
class _Step:
    """One move of an alignment: `op` at this spec's unit `i` and the reference's unit `j`; an
    inline move covers `span` units of the other side, written as the junction's branch `branch`."""

    op: Literal["pair", "extra", "missing", "inline_mine", "inline_ref"]
    i: int
    j: int
    branch: int = -1
    span: int = 1


_GAP = 2  # a unit one side lacks; a pair of unlike units costs 3, so two gaps are dearer than one such pair


def _align(a: tuple[Unit, ...], b: tuple[Unit, ...]) -> list[_Step]:
    """The cheapest alignment of two chains of units: pairs, units one side lacks, and a junction
    one side writes as one of its branches inline; an insertion never shifts what follows."""
    # best[i, j]: the least cost of aligning a[i:] with b[j:], the first step and where it leads
    best: dict[tuple[int, int], tuple[int, _Step | None, tuple[int, int]]] = {(len(a), len(b)): (0, None, (0, 0))}
    for i in range(len(a), -1, -1):
        for j in range(len(b), -1, -1):
            options: list[tuple[int, _Step, tuple[int, int]]] = []
            if i < len(a):
                options.append((_GAP + best[i + 1, j][0], _Step("extra", i, j), (i + 1, j)))
            if j < len(b):
                options.append((_GAP + best[i, j + 1][0], _Step("missing", i, j), (i, j + 1)))
            if i < len(a) and j < len(b):
                mine, theirs = a[i], b[j]
                options.append((_unlike(mine, theirs) + best[i + 1, j + 1][0], _Step("pair", i, j), (i + 1, j + 1)))
                if isinstance(theirs, Junction) and (k := _inline(a[i:], theirs)) is not None:
                    options.append((1 + best[i + k[1], j + 1][0], _Step("inline_mine", i, j, *k), (i + k[1], j + 1)))
                if isinstance(mine, Junction) and (k := _inline(b[j:], mine)) is not None:
                    options.append((1 + best[i + 1, j + k[1]][0], _Step("inline_ref", i, j, *k), (i + 1, j + k[1])))
            if options:
                best[i, j] = min(options, key=lambda o: o[0])
    steps: list[_Step] = []
    at = (0, 0)
    while (step := best[at][1]) is not None:
        steps.append(step)
        at = best[at][2]
    return steps


def _unlike(x: Unit, y: Unit) -> int:
    if x.sig == y.sig:
        return 0
    alike = isinstance(x, Junction) and isinstance(y, Junction) or (
        isinstance(x, Weighted) and isinstance(y, Weighted) and x.category == y.category)
    return 1 if alike else 3


def _inline(units: tuple[Unit, ...], junction: Junction) -> tuple[int, int] | None:
    """Where a path writes one of a junction's branches inline (the junction's other branches
    missing): that branch's position and how many units it covers; None if none fits. The last
    unit's followers are left out here: inline, what follows the merge follows it too."""
    order = sorted(range(len(junction.branches)), key=lambda k: -len(junction.branches[k].units))
    for k in order:
        branch = junction.branches[k].units
        n = len(branch)
        if n and len(units) >= n and all(u.sig == v.sig for u, v in zip(units[:n - 1], branch)) \
                and units[n - 1].bare == branch[-1].bare:
            return k, n
    return None


def _written_inline(junction: Junction, branch: int, last: Unit, has: str, lacks: str, out: list[str],
                    where: str) -> None:
    """One side has the junction, the other writes only its branch `branch`, ending in `last`."""
    others = [br for k, br in enumerate(junction.branches) if k != branch]
    word = "shortcut" if junction.kind == "add" else "branch"
    named = [f"an identity {word}" if not br.units and not br.head else f"a {br.short} {word}" for br in others]
    out.append(f"{_at(where, junction)}: {has} {_JOINS[junction.kind]} {' and '.join(named)}; {lacks} has none")
    mine = junction.branches[branch].units[-1].after | junction.after
    if isinstance(last, Weighted) and last.after != mine:
        a, b = (mine, last.after) if has == "this spec" else (last.after, mine)
        _after(a, b, f"after {last.name}", _at(where, junction), out)


def _kinds(kinds: frozenset[str]) -> str:
    return ", ".join(sorted(kinds)) or "no pooling or normalisation"


def _junctions(a: Junction, b: Junction, out: list[str], seen: set[tuple[str, str]]) -> None:
    if a.sig == b.sig or (a.name, b.name) in seen:
        return
    seen.add((a.name, b.name))
    block = a.block
    if a.kind != b.kind:
        out.append(f"{block}: the branches are {_VERB[a.kind]} where the reference's are {_VERB[b.kind]}")
    _after(a.after, b.after, f"after {block}'s {a.kind}", block, out)
    pairs, left, right = _match(a.branches, b.branches)
    for k, m in pairs:
        _paths(a.branches[k], b.branches[m], f"{block} branch {k + 1}", out, seen)
    for k in left:
        out.append(f"{block} branch {k + 1} ({a.branches[k].short}): the reference has no such branch")
    for m in right:
        out.append(f"{block}: the reference has a branch ({b.branches[m].short}) that this spec lacks")


def _match(a: tuple[Chain, ...], b: tuple[Chain, ...]) -> tuple[list[tuple[int, int]], list[int], list[int]]:
    """Branches paired: equal ones first, then the nearest; the unpaired of each side."""
    free = list(range(len(b)))
    pairs: list[tuple[int, int]] = []
    rest: list[int] = []
    for k, branch in enumerate(a):
        same = next((m for m in free if b[m].sig == branch.sig), None)
        if same is None:
            rest.append(k)
        else:
            free.remove(same)
    for k in rest[:]:
        if not free:
            break
        m = max(free, key=lambda m: (_likeness(a[k], b[m]), -abs(m - k)))  # a tie: the branch in the same place
        pairs.append((k, m))
        free.remove(m)
        rest.remove(k)
    return pairs, rest, free


def _likeness(a: Chain, b: Chain) -> tuple[int, int, int]:
    """How alike two branches are: units equal in place, equal in kind and window, length gap."""
    equal = sum(x.sig == y.sig for x, y in zip(a.units, b.units))
    shaped = sum(type(x) is type(y) and getattr(x, "kernel", None) == getattr(y, "kernel", None)
                 for x, y in zip(a.units, b.units))
    return equal, shaped + (a.head == b.head), -abs(len(a.units) - len(b.units))


def _layers(x: Weighted, y: Weighted, where: str, out: list[str]) -> None:
    if x.category != y.category or x.kernel != y.kernel:
        out.append(f"{where}: a {x.short} where the reference has a {y.short}")
    if x.category != y.category:
        return
    if x.width is not None and y.width is not None and x.width != y.width:
        what = "kernels" if x.category == "conv" else "units"
        out.append(f"{where}: {x.short} with {x.width} {what}, the reference {y.width}")
    if x.stride != y.stride:
        out.append(f"{where}: {x.short} with stride {x.stride}, the reference {y.stride}")
    _after(x.after, y.after, "after it" if where == x.name else f"after {x.name}", where, out)
    if lrn := lrn_difference(x.name, x.lrn, y.lrn):
        out.append(f"{where}: {lrn}")


def _after(a: frozenset[str], b: frozenset[str], what: str, where: str, out: list[str]) -> None:
    if phrase := after_difference(a, b):
        out.append(f"{where}: {what}, {phrase}")


# The two phrases below are shared with the line comparison (claims_structure), so a line and a
# graph network word the same difference alike.
def after_difference(a: frozenset[str], b: frozenset[str]) -> str | None:
    """How the compared layers after a unit (`a`) differ from the reference's (`b`); None if alike."""
    extra, lacking = sorted(a - b), sorted(b - a)
    if extra and lacking:
        return f"{', '.join(extra)} where the reference has {', '.join(lacking)}"
    if extra or lacking:
        return f"{'also ' + ', '.join(extra) if extra else 'no ' + ', '.join(lacking)}, unlike the reference"
    return None


def lrn_difference(after: str, a: tuple[float, ...] | None, b: tuple[float, ...] | None) -> str | None:
    """The LRN after `after` with other constants than the reference's; None if alike or either has none."""
    if a and b and a != b:
        return f"the LRN after {after} has size, alpha, beta, k = {a}; the reference {b}"
    return None
