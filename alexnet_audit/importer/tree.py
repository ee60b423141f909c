"""A traced graph as spec items: series-parallel decomposition, then name scopes as blocks.

A node with several consumers opens a parallel group; its branches run until the node every
path from it passes through (its immediate post-dominator), which must be the merge (`add`,
`concat`). An empty branch is the identity shortcut. Module names give the nesting:
`layer1.0.conv1` sits in block `layer1`, block `0`, as `conv1`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..errors import AuditError


@dataclass
class GNode:
    """One node of the traced graph: a spec layer (or a merge point) and the nodes feeding it."""

    name: str  # the module's qualified name, or fx's name for a function call
    layer: dict[str, Any] | None  # spec fields; None for a merge point
    inputs: list[str]
    merge: str | None = None  # "add" or "concat"
    module: str | None = None  # the qualified module name, for the round trip
    code: str = ""


@dataclass
class Graph:
    nodes: dict[str, GNode] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)
    input: str = ""
    output: str = ""

    def add(self, node: GNode) -> None:
        self.nodes[node.name] = node
        self.order.append(node.name)

    def consumers(self, name: str) -> list[str]:
        return [n for n in self.order if name in self.nodes[n].inputs]


@dataclass
class Leaf:
    scope: tuple[str, ...]
    layer: dict[str, Any]  # spec fields with the local name


@dataclass
class Parallel:
    branches: list[list[Any]]
    merge: str
    scope: tuple[str, ...] = ()


@dataclass
class Block:
    name: str
    items: list[Any] = field(default_factory=list)


def decompose(graph: Any) -> list[Any]:
    """The graph's nodes as a sequence of Leaf and Parallel items, in execution order."""
    consumers = {name: graph.consumers(name) for name in [graph.input] + graph.order}

    def reaches(start: str, avoid: str) -> bool:
        seen, todo = set(), [start]
        while todo:
            cur = todo.pop()
            if cur == graph.output:
                return True
            for nxt in consumers[cur]:
                if nxt != avoid and nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        return False

    def join(v: str) -> str:
        after = graph.order[graph.order.index(v) + 1:] if v in graph.order else graph.order
        for u in after:
            if not reaches(v, u):
                return u
        raise AuditError(f"the branches after {v or 'the input'} never merge")

    def chain(v: str, stop: str | None) -> list[Any]:
        items: list[Any] = []
        cur = v
        while cur != graph.output:
            nxt = consumers[cur]
            if not nxt:
                break
            if len(nxt) == 1:
                node = graph.nodes[nxt[0]]
                if nxt[0] == stop or node.merge:
                    break
                items.append(_leaf(node))
                cur = nxt[0]
                continue
            j = join(cur)
            merge = graph.nodes[j]
            if not merge.merge or len(merge.inputs) != len(nxt):
                raise AuditError(f"{j}: the branches from {cur or 'the input'} join in a way graph specs do not hold "
                                 "(a merge of exactly the branches: add or concat)")
            branches = []
            for c in nxt:
                branches.append([] if c == j else [_leaf(graph.nodes[c])] + chain(c, j))
            ends = [cur if c == j else _end(graph, c, j) for c in nxt]
            order = sorted(range(len(nxt)), key=lambda i: merge.inputs.index(ends[i]) if ends[i] in merge.inputs else i)
            items.append(Parallel([branches[i] for i in order], merge.merge, _common([b for b in branches for b in b])))
            cur = j
            if j == stop:
                break
        return items

    return chain(graph.input, None)


def _end(graph: Any, start: str, stop: str) -> str:
    """The node of a branch that feeds the merge."""
    for name in graph.nodes[stop].inputs:
        cur = name
        seen = set()
        while cur not in seen:
            seen.add(cur)
            if cur == start:
                return name
            node = graph.nodes.get(cur)
            if node is None or not node.inputs:
                break
            cur = node.inputs[0]
    return start


def _leaf(node: Any) -> Leaf:
    parts = node.name.split(".")
    layer = {"kind": node.layer["kind"], "name": parts[-1], **{k: v for k, v in node.layer.items() if k != "kind"}}
    return Leaf(tuple(parts[:-1]), layer)


def _common(items: list[Any]) -> tuple[str, ...]:
    scopes = [i.scope for i in items]
    if not scopes:
        return ()
    prefix = scopes[0]
    for s in scopes[1:]:
        n = 0
        while n < min(len(prefix), len(s)) and prefix[n] == s[n]:
            n += 1
        prefix = prefix[:n]
    return prefix


def nest(items: list[Any], prefix: tuple[str, ...] = ()) -> list[Any]:
    """Group consecutive items by their next scope level into named blocks."""
    out: list[Any] = []
    i = 0
    while i < len(items):
        scope = items[i].scope[len(prefix):]
        if not scope:
            item = items[i]
            if isinstance(item, Parallel):
                item = Parallel([nest(b, item.scope) for b in item.branches], item.merge, item.scope)
            out.append(item)
            i += 1
            continue
        j = i
        while j < len(items) and items[j].scope[len(prefix):][:1] == scope[:1]:
            j += 1
        out.append(Block(scope[0], nest(items[i:j], prefix + scope[:1])))
        i = j
    return out
