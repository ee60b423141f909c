"""Graph specs: blocks whose branches merge, and their flattening into one list of nodes.

A spec's `layers:` list holds layers, stages and blocks. A block is sequential (`layers`),
parallel (`branches` + `merge: concat | add`) or dense (`units` + `merge: dense`); a named block
is a name scope, an anonymous parallel group is not. `flatten` walks the items depth first,
branch by branch, and gives every node (layer or merge point) its qualified name and the names
of the nodes feeding it, so everything downstream reads one flat list in execution order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any, Literal, Union

from pydantic import Discriminator, Field, Tag

from .errors import AuditError
from .layer_base import ShapeKeeping
from .layers import LayerSpec, Shape, shape_hwc
from .strict import Frozen

LocalName = Annotated[str, Field(pattern=r"^[A-Za-z0-9_]{1,64}$")]
MAX_ITEMS = 512
# The network input, where a merge takes it directly (an identity branch on the first item).
NETWORK_INPUT = ""


class Stage(Frozen):
    """A flat group of layers that claims may target; not a name scope."""

    stage: LocalName
    layers: Annotated[list[LayerSpec], Field(min_length=1, max_length=MAX_ITEMS)]


class SequentialBlock(Frozen):
    block: LocalName
    layers: Annotated[list["Item"], Field(min_length=1, max_length=MAX_ITEMS)]


class ParallelBlock(Frozen):
    """Branches that all see the same input; an empty branch is the identity (a shortcut)."""

    block: LocalName | None = None  # None: an anonymous group, no name level of its own
    branches: Annotated[list[Annotated[list["Item"], Field(max_length=MAX_ITEMS)]], Field(min_length=2, max_length=64)]
    merge: Literal["concat", "add"]


class DenseBlock(Frozen):
    """Each unit sees the channel concat of the block's input and every earlier unit's output."""

    block: LocalName
    merge: Literal["dense"]
    units: Annotated[list[Annotated[list["Item"], Field(min_length=1, max_length=MAX_ITEMS)]], Field(min_length=1, max_length=MAX_ITEMS)]


def _item_tag(value: Any) -> str:
    if isinstance(value, dict):
        if "stage" in value:
            return "stage_item"
        if value.get("merge") == "dense" or "units" in value:
            return "dense_block"
        if "branches" in value:
            return "parallel_block"
        return "sequential_block" if "block" in value else "layer_item"
    tags: dict[type, str] = {Stage: "stage_item", DenseBlock: "dense_block", ParallelBlock: "parallel_block",
                             SequentialBlock: "sequential_block"}
    return tags.get(type(value), "layer_item")


Item = Annotated[
    Union[
        Annotated[LayerSpec, Tag("layer_item")],
        Annotated[Stage, Tag("stage_item")],
        Annotated[SequentialBlock, Tag("sequential_block")],
        Annotated[ParallelBlock, Tag("parallel_block")],
        Annotated[DenseBlock, Tag("dense_block")],
    ],
    Discriminator(_item_tag),
]
ITEM_TAGS = {"layer_item", "stage_item", "sequential_block", "parallel_block", "dense_block"}
for _model in (SequentialBlock, ParallelBlock, DenseBlock):
    _model.model_rebuild()


# ---------------------------------------------------------------- merge points


@dataclass(frozen=True)
class Merge(ShapeKeeping):
    """Where branches meet: a node of its own with zero parameters, so it has a row in tables.
    Its MACs are ShapeKeeping's EXCLUDED: fvcore ignores concatenation and counts no element-wise add."""

    kind: Literal["concat", "add"]
    name: str | None = None

    def merged_shape(self, shapes: tuple[Shape, ...], labels: tuple[str, ...]) -> Shape:
        """The merged shape; raises naming the first two branches that do not fit together."""
        first = shapes[0]
        for shape, label in zip(shapes[1:], labels[1:]):
            if self.kind == "add" and shape != first:
                raise AuditError(f"add needs equal shapes, but {labels[0]} gives {shape_hwc(first)} "
                                 f"and {label} gives {shape_hwc(shape)}")
            if self.kind == "concat" and (len(shape) != 3 or len(first) != 3 or shape[1:] != first[1:]):
                raise AuditError(f"concat needs feature maps of equal height and width, but {labels[0]} gives "
                                 f"{shape_hwc(first)} and {label} gives {shape_hwc(shape)}")
        if self.kind == "add":
            return first
        return (sum(s[0] for s in shapes),) + first[1:]


# ---------------------------------------------------------------- flattening


@dataclass(frozen=True)
class Layer:
    """One node of the network: a layer of the spec or a merge point.

    `name` is qualified (`layer1.0.conv1`); `inputs` names the nodes feeding it: `()` for a layer
    fed by the network input; in a merge, the network input appears as NETWORK_INPUT.
    """

    name: str
    stage: str | None
    spec: LayerSpec | Merge
    path: tuple[Any, ...]  # where it is written in the YAML (a merge: its block's `merge` field)
    inputs: tuple[str, ...] = ()

    @property
    def is_merge(self) -> bool:
        return isinstance(self.spec, Merge)


@dataclass
class _Scope:
    prefix: str  # "layer1.0." inside blocks, "" at the top
    counts: dict[str, int] = field(default_factory=dict)

    def auto(self, kind: str, stage: str | None = None) -> str:
        key = (stage + "_" if stage else "") + kind
        self.counts[key] = self.counts.get(key, 0) + 1
        n = self.counts[key]
        if stage:  # a stage's unnamed layers: `<stage>_<kind>`, then `<stage>_<kind>2`
            return self.prefix + key + (str(n) if n > 1 else "")
        return f"{self.prefix}{kind}_{n}"


@dataclass(frozen=True)
class Group:
    """A stage or a named block: the qualified names of its nodes, in execution order."""

    name: str
    members: tuple[str, ...]
    is_block: bool
    path: tuple[Any, ...]


@dataclass
class _Walk:
    nodes: list[Layer] = field(default_factory=list)
    groups: list[Group] = field(default_factory=list)

    def node(self, layer: Layer) -> str:
        self.nodes.append(layer)
        return layer.name

    def items(self, items: list[Any], scope: _Scope, path: tuple[Any, ...], src: str) -> str:
        for i, item in enumerate(items):
            src = self.item(item, scope, path + (i,), src)
        return src

    def item(self, item: Any, scope: _Scope, path: tuple[Any, ...], src: str) -> str:
        if isinstance(item, Stage):
            start = len(self.nodes)
            for j, spec in enumerate(item.layers):
                name = scope.prefix + spec.name if spec.name else scope.auto(spec.kind, item.stage)
                src = self.node(Layer(name, item.stage, spec, path + ("layers", j), _feed(src)))
            self.group(scope.prefix + item.stage, start, False, path)
            return src
        if isinstance(item, (SequentialBlock, ParallelBlock, DenseBlock)):
            return self.block(item, scope, path, src)
        name = scope.prefix + item.name if item.name else scope.auto(item.kind)
        return self.node(Layer(name, None, item, path, _feed(src)))

    def block(self, item: Any, scope: _Scope, path: tuple[Any, ...], src: str) -> str:
        start = len(self.nodes)
        inner = _Scope(scope.prefix + item.block + ".") if item.block is not None else scope
        if isinstance(item, SequentialBlock):
            src = self.items(item.layers, inner, path + ("layers",), src)
        elif isinstance(item, ParallelBlock):
            ends = tuple(self.items(b, inner, path + ("branches", k), src) for k, b in enumerate(item.branches))
            src = self.merge(item.merge, inner, path, ends)
        else:
            outs = [src]
            for k, unit in enumerate(item.units):
                feed = outs[0] if k == 0 else self.merge("concat", inner, path, tuple(outs))
                outs.append(self.items(unit, inner, path + ("units", k), feed))
            src = self.merge("concat", inner, path, tuple(outs))
        if item.block is not None:
            self.group(scope.prefix + item.block, start, True, path)
        return src

    def merge(self, kind: Literal["concat", "add"], scope: _Scope, path: tuple[Any, ...], ends: tuple[str, ...]) -> str:
        return self.node(Layer(scope.auto(kind), None, Merge(kind), path + ("merge",), ends))

    def group(self, name: str, start: int, is_block: bool, path: tuple[Any, ...]) -> None:
        self.groups.append(Group(name, tuple(n.name for n in self.nodes[start:]), is_block, path))


def _feed(src: str) -> tuple[str, ...]:
    return () if src == NETWORK_INPUT else (src,)


def flatten(items: list[Any]) -> tuple[tuple[Layer, ...], tuple[Group, ...]]:
    """Every node in execution order with its qualified name and inputs, and every stage and block."""
    walk = _Walk()
    walk.items(items, _Scope(""), ("layers",), NETWORK_INPUT)
    return tuple(walk.nodes), tuple(walk.groups)


def input_names(layer: Layer) -> tuple[str, ...]:
    """The nodes feeding `layer`, with NETWORK_INPUT for the network input."""
    return layer.inputs or (NETWORK_INPUT,)


def consumers(layers: tuple[Layer, ...]) -> dict[str, tuple[int, ...]]:
    """For each node name (and NETWORK_INPUT), the positions of the nodes it feeds."""
    out: dict[str, list[int]] = {}
    for i, layer in enumerate(layers):
        for src in input_names(layer):
            out.setdefault(src, []).append(i)
    return {k: tuple(v) for k, v in out.items()}


def is_graph(layers: tuple[Layer, ...]) -> bool:
    return any(layer.is_merge for layer in layers)


def off_the_line(layers: tuple[Layer, ...]) -> tuple[Layer, ...]:
    """The nodes not fed by the node listed just before them alone: where a branch starts and
    where branches merge. Empty for a plain line of layers, whose table says it all."""
    return tuple(layer for i, layer in enumerate(layers)
                 if layer.inputs != ((layers[i - 1].name,) if i else ()))
