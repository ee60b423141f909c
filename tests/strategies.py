"""Hypothesis strategies: small valid networks with their shapes computed here by hand, random
claims about them, and broken specs that must be refused.

Valid networks stay tiny (inputs up to 32x32, up to 16 channels) so that a property test runs
dozens of them in seconds. Every output shape is computed in this file from the framework rules
(PyTorch floor/ceil windows, TensorFlow SAME), independently of alexnet_audit.layers.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import yaml
from hypothesis import strategies as st

MAX_SIDE = 32
MAX_CHANNELS = 16
MAX_KERNEL = 5

Shape = tuple[int, ...]
Doc = dict[str, Any]

MAP_ONLY = ("conv", "maxpool", "avgpool", "adaptive_avgpool", "lrn", "lrn_tf", "zeropad", "subsample",
            "global_avgpool", "global_maxpool")
SAME_SHAPE = ("relu", "tanh", "sigmoid", "softmax", "dropout", "batchnorm", "leaky_relu", "relu6", "hardswish", "elu", "gelu")
LAYER_KINDS = MAP_ONLY + SAME_SHAPE + ("flatten", "linear", "rbf")
CLAIM_KINDS = ("input_shape", "output_shape", "params", "macs", "flops", "compute", "neurons", "connections",
               "layer_count", "structure", "arithmetic", "training", "speedup", "unverifiable")


# ---------------------------------------------------------------- output sizes, by hand


def ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def same_pads(n: int, k: int, s: int) -> tuple[int, int]:
    """TensorFlow SAME: output ceil(n / s); the odd padding cell goes to the end."""
    total = max((ceil_div(n, s) - 1) * s + k - n, 0)
    return total // 2, total - total // 2


def window_out(n: int, k: int, s: int, pad: int, ceil_mode: bool) -> int:
    """PyTorch's Conv2d/MaxPool2d/AvgPool2d output length with `pad` on both ends."""
    span = n + 2 * pad - k
    out = (ceil_div(span, s) if ceil_mode else span // s) + 1
    if ceil_mode and (out - 1) * s >= n + pad:  # a last window starting in the padding is dropped
        out -= 1
    return out


@dataclass(frozen=True)
class Axis:
    kernel: int
    stride: int
    pad: int | None  # None: the padding is the keyword (same/valid)
    out: int


def _pair(a: int, b: int) -> int | list[int]:
    return a if a == b else [a, b]


# ---------------------------------------------------------------- initialisers

WEIGHT_INITS = st.sampled_from([
    {"dist": "pytorch"}, {"dist": "normal", "std": 0.01}, {"dist": "normal", "mean": 0.1, "std": 1.0},
    {"dist": "truncated_normal", "std": 0.1}, {"dist": "uniform", "low": -0.1, "high": 0.1}, {"dist": "constant", "value": 0.5},
    {"dist": "glorot_uniform"}, {"dist": "kaiming_normal", "mode": "fan_out", "nonlinearity": "relu"},
])
BIAS_INITS = st.sampled_from([{"dist": "pytorch"}, {"dist": "constant", "value": 1.0}, {"dist": "normal", "std": 0.01},
                              {"dist": "uniform", "low": 0.0, "high": 0.5}])
BAD_INITS = st.sampled_from([  # each one PyTorch refuses to apply
    {"weight": {"dist": "uniform", "low": 1.0, "high": -1.0}},
    {"weight": {"dist": "uniform", "low": float("nan"), "high": 1.0}},
    {"weight": {"dist": "uniform", "low": float("-inf"), "high": float("inf")}},
    {"weight": {"dist": "truncated_normal", "std": float("inf")}},
    {"bias": {"dist": "kaiming_normal"}},
    {"bias": {"dist": "glorot_uniform"}},
    {"weight": {"dist": "normal", "std": 0}},
    {"weight": {"dist": "laplace"}},
])


def _init(draw: st.DrawFn) -> dict[str, Any]:
    init: dict[str, Any] = {}
    if draw(st.booleans()):
        init["weight"] = draw(WEIGHT_INITS)
    if draw(st.booleans()):
        init["bias"] = draw(BIAS_INITS)
    return init


# ---------------------------------------------------------------- valid networks


@dataclass(frozen=True)
class Net:
    """A valid spec as plain data, with every layer's output shape computed by hand."""

    doc: Doc
    shapes: tuple[Shape, ...]  # one per layer, in order: (C, H, W) or (F,)
    kinds: tuple[str, ...]
    names: tuple[str, ...]  # the explicit (qualified) layer names (claims may target them) ...
    stages: tuple[str, ...]  # ... the stage names ...
    blocks: tuple[str, ...] = ()  # ... and the named blocks

    @property
    def text(self) -> str:
        return yaml.safe_dump(self.doc, sort_keys=False, allow_unicode=True)

    @property
    def input(self) -> Shape:
        return tuple(self.doc["input"])


@st.composite
def _axis(draw: st.DrawFn, n: int, mode: str, pool: bool, ceil_mode: bool, stride_none: bool) -> Axis:
    if mode == "same":
        k = draw(st.integers(1, MAX_KERNEL))
        s = k if stride_none else draw(st.integers(1, 3))
        return Axis(k, s, None, ceil_div(n, s))
    if mode == "valid":
        k = draw(st.integers(1, min(MAX_KERNEL, n)))
        s = k if stride_none else draw(st.integers(1, 3))
        return Axis(k, s, None, window_out(n, k, s, 0, ceil_mode))
    p = draw(st.integers(0, 2))
    low = max(1, 2 * p) if pool else 1  # PyTorch pools allow at most half the kernel as padding
    k = draw(st.integers(low, min(MAX_KERNEL, n + 2 * p)))
    s = k if stride_none else draw(st.integers(1, 3))
    return Axis(k, s, p, window_out(n, k, s, p, ceil_mode))


@st.composite
def _window_layer(draw: st.DrawFn, kind: str, shape: Shape) -> tuple[Doc, Shape]:
    c, h, w = shape
    pool = kind != "conv"
    mode = draw(st.sampled_from(["same", "valid", "explicit"]))
    ceil_mode = pool and draw(st.booleans())
    stride_none = pool and draw(st.booleans())
    ah = draw(_axis(h, mode, pool, ceil_mode, stride_none))
    aw = draw(_axis(w, mode, pool, ceil_mode, stride_none))
    layer: Doc = {"kind": kind, "kernel": _pair(ah.kernel, aw.kernel)}
    if not stride_none:
        layer["stride"] = _pair(ah.stride, aw.stride)
    if mode == "explicit":
        assert ah.pad is not None and aw.pad is not None
        layer["padding"] = _pair(ah.pad, aw.pad)
    else:
        layer["padding"] = mode
    if pool:
        if ceil_mode:
            layer["ceil_mode"] = True
        return layer, (c, ah.out, aw.out)
    groups = draw(st.sampled_from([g for g in range(1, min(c, MAX_CHANNELS) + 1) if c % g == 0]))
    out_channels = groups * draw(st.integers(1, MAX_CHANNELS // groups))
    layer.update(out_channels=out_channels, groups=groups, bias=draw(st.booleans()))
    if draw(st.integers(0, 3)) == 0:
        layer["init"] = _init(draw)
    return layer, (out_channels, ah.out, aw.out)


@st.composite
def _map_layer(draw: st.DrawFn, shape: Shape, batchnorm: bool) -> tuple[Doc, Shape]:
    kinds = ["conv", "conv", "maxpool", "avgpool", "adaptive_avgpool", "lrn", "lrn_tf", "relu", "tanh",
             "sigmoid", "softmax", "dropout", "leaky_relu", "relu6", "hardswish", "elu", "gelu", "zeropad",
             "dilated", "subsample"] + (["batchnorm"] if batchnorm else [])
    kind = draw(st.sampled_from(kinds))
    c, h, w = shape
    if kind in ("conv", "maxpool", "avgpool"):
        return draw(_window_layer(kind, shape))
    if kind == "dilated":
        return draw(_dilated_layer(shape))
    if kind == "zeropad":
        pads = [draw(st.integers(0, 2)) for _ in range(4)]  # top, bottom, left, right
        return {"kind": kind, "padding": pads}, (c, h + pads[0] + pads[1], w + pads[2] + pads[3])
    if kind == "subsample":
        k = draw(st.integers(1, min(2, h, w)))
        return {"kind": kind, "kernel": k}, (c, h // k, w // k)
    if kind == "leaky_relu":
        return {"kind": kind, "slope": draw(st.sampled_from([0.01, 0.2, 0.3]))}, shape
    if kind == "elu":
        return {"kind": kind, "alpha": draw(st.sampled_from([0.5, 1.0]))}, shape
    if kind == "gelu":
        return {"kind": kind, "approximate": draw(st.sampled_from(["none", "tanh"]))}, shape
    if kind == "adaptive_avgpool":
        oh, ow = draw(st.integers(1, 4)), draw(st.integers(1, 4))
        return {"kind": kind, "output_size": _pair(oh, ow)}, (c, oh, ow)
    if kind == "lrn":
        return {"kind": kind, "size": draw(st.integers(1, 5)), "k": 2.0}, shape
    if kind == "lrn_tf":
        return {"kind": kind, "depth_radius": draw(st.integers(0, 3)), "alpha": 1e-4, "beta": 0.75}, shape
    if kind == "dropout":
        return {"kind": kind, "p": draw(st.sampled_from([0.0, 0.25, 0.5]))}, shape
    return {"kind": kind}, shape


@st.composite
def _dilated_layer(draw: st.DrawFn, shape: Shape) -> tuple[Doc, Shape]:
    """A conv or max pool with dilation 2 and pads per side: its window spans 2(k-1)+1 cells."""
    c, h, w = shape
    kind = draw(st.sampled_from(["conv", "maxpool"]))
    pads = [draw(st.integers(0, 1)) for _ in range(4)]  # top, bottom, left, right
    room = min(h + pads[0] + pads[1], w + pads[2] + pads[3])
    low, high = (1 if kind == "conv" else 2), (room - 1) // 2 + 1  # a pool's pad may be at most half its span
    if high < low:
        return {"kind": "relu"}, shape
    k, s = draw(st.integers(low, high)), draw(st.integers(1, 2))
    span = 2 * (k - 1) + 1
    out_h, out_w = (h + pads[0] + pads[1] - span) // s + 1, (w + pads[2] + pads[3] - span) // s + 1
    layer: Doc = {"kind": kind, "kernel": k, "stride": s, "dilation": 2, "padding": pads}
    if kind == "maxpool":
        return layer, (c, out_h, out_w)
    layer.update(out_channels=draw(st.integers(1, MAX_CHANNELS)), bias=draw(st.booleans()))
    return layer, (layer["out_channels"], out_h, out_w)


@st.composite
def _vector_layer(draw: st.DrawFn, shape: Shape, batchnorm: bool) -> tuple[Doc, Shape]:
    kinds = ["linear", "linear", "relu", "tanh", "sigmoid", "dropout", "flatten"] + (["batchnorm"] if batchnorm else [])
    kind = draw(st.sampled_from(kinds))
    if kind == "linear":
        layer: Doc = {"kind": "linear", "out_features": draw(st.integers(1, MAX_CHANNELS)), "bias": draw(st.booleans())}
        if draw(st.booleans()):
            layer["in_features"] = shape[0]
        if draw(st.integers(0, 3)) == 0:
            layer["init"] = _init(draw)
        return layer, (layer["out_features"],)
    return {"kind": kind}, shape


@st.composite
def nets(draw: st.DrawFn, *, batchnorm: bool = True, max_map_layers: int = 6, graphs: bool = False) -> Net:
    """A random valid network: maps, flatten, a few vector layers, a final linear classifier.
    With `graphs`, about one map item in three is a block whose branches merge."""
    c = draw(st.integers(1, 4))
    h, w = draw(st.integers(1, MAX_SIDE)), draw(st.integers(1, MAX_SIDE))
    shape: Shape = (c, h, w)
    layers: list[Doc] = []  # layers, and blocks already named inside
    shapes: list[Shape] = []
    kinds: list[str] = []
    names: list[str] = []
    block_names: list[str] = []
    for i in range(draw(st.integers(0, max_map_layers))):
        if graphs and draw(st.integers(0, 2)) == 0:
            nodes = draw(blocks(shape, i, batchnorm))
            layers.append(nodes.item)
            shapes += nodes.shapes
            kinds += nodes.kinds
            names += nodes.names
            block_names += nodes.blocks
            shape = nodes.out
            continue
        layer, shape = draw(_map_layer(shape, batchnorm))
        layers.append(layer)
        shapes.append(shape)
        kinds.append(layer["kind"])
    ending = draw(st.sampled_from(["flatten", "flatten", "global_avgpool", "global_maxpool"]))
    tail: list[Doc] = [{"kind": ending}]
    shape = (shape[0] * shape[1] * shape[2],) if ending == "flatten" else (shape[0],)
    shapes.append(shape)
    for _ in range(draw(st.integers(0, 3))):
        layer, shape = draw(_vector_layer(shape, batchnorm))
        tail.append(layer)
        shapes.append(shape)
    classes = draw(st.integers(1, 10))
    tail.append({"kind": "linear", "out_features": classes})
    shapes.append((classes,))
    if draw(st.booleans()):
        tail.append({"kind": draw(st.sampled_from(["softmax", "sigmoid", "dropout"]))})
        shapes.append((classes,))
    layers += tail
    kinds += [layer["kind"] for layer in tail]

    for i, layer in enumerate(layers):
        if "kind" in layer and draw(st.booleans()):
            layer["name"] = f"l{i}"
            names.append(layer["name"])
    items, stages = _group_into_stages(draw, layers)
    doc: Doc = {
        "id": "fuzz",
        "title": "a random network",
        "source": {"seed": "hypothesis", "section": "strategies.nets",
                   "framework": draw(st.sampled_from(["pytorch", "keras", "tf1", "paper"]))},
        "input": [c, h, w],
        "num_classes": classes,
        "layers": items,
    }
    if draw(st.integers(0, 3)) == 0:
        doc["init"] = _init(draw)
    return Net(doc, tuple(shapes), tuple(kinds), tuple(names), tuple(stages), tuple(block_names))


def _group_into_stages(draw: st.DrawFn, layers: list[Doc]) -> tuple[list[Doc], list[str]]:
    """Group runs of layers (never blocks) into stages."""
    items: list[Doc] = []
    stages: list[str] = []
    i = 0
    while i < len(layers):
        run = draw(st.integers(1, 3))
        while not all("kind" in layer for layer in layers[i: i + run]):
            run -= 1
        if run and draw(st.integers(0, 3)) == 0:  # about one run in four becomes a stage
            stages.append(f"s{len(stages) + 1}")
            items.append({"stage": stages[-1], "layers": layers[i: i + run]})
            i += run
        else:
            items.append(layers[i])
            i += 1
    return items, stages


# ---------------------------------------------------------------- random graphs: blocks whose branches merge


@dataclass
class Nodes:
    """A block as plain data and, by hand, every node it adds (its layers and merge points) in
    execution order: depth first, branch by branch, each merge after the branches it joins."""

    item: Doc
    shapes: list[Shape]
    kinds: list[str]
    names: list[str]  # qualified names of the explicitly named layers
    blocks: list[str]  # qualified names of the named blocks
    out: Shape


class _Namer:
    """Gives about half the layers of one name scope an explicit name, unique in that scope."""

    def __init__(self, draw: st.DrawFn, prefix: str, local: str = "l") -> None:
        self.draw, self.prefix, self.local, self.n = draw, prefix, local, 0

    def layers(self, layers: list[Doc], into: Nodes) -> list[Doc]:
        for layer in layers:
            if self.draw(st.booleans()):
                self.n += 1
                layer["name"] = f"{self.local}{self.n}"
                into.names.append(self.prefix + layer["name"])
        return layers


def _same_size_branch(draw: st.DrawFn, c: int) -> tuple[list[Doc], list[Shape], int]:
    """One Inception-style branch that keeps height and width: its layers, their channels-only
    shapes (filled in by the caller) and its output channels."""
    r, o = draw(st.integers(1, MAX_CHANNELS // 2)), draw(st.integers(1, MAX_CHANNELS // 2))
    # No identity branch on wide inputs: concatenated channels stay within a few times MAX_CHANNELS.
    shape = draw(st.sampled_from(["1x1", "reduce3x3", "pool1x1", "1x1relu"] + (["identity"] if c <= MAX_CHANNELS else [])))
    if shape == "identity":
        return [], [], c
    if shape == "1x1":
        return [{"kind": "conv", "out_channels": o, "kernel": 1}], [(o,)], o
    if shape == "1x1relu":
        return [{"kind": "conv", "out_channels": o, "kernel": 1}, {"kind": "relu"}], [(o,), (o,)], o
    if shape == "reduce3x3":  # k3, pad 1, stride 1: (n + 2 - 3) // 1 + 1 = n
        return [{"kind": "conv", "out_channels": r, "kernel": 1},
                {"kind": "conv", "out_channels": o, "kernel": 3, "padding": 1}], [(r,), (o,)], o
    # max pool k3, stride 1, pad 1 keeps n, then a 1x1 projection
    return [{"kind": "maxpool", "kernel": 3, "stride": 1, "padding": 1},
            {"kind": "conv", "out_channels": o, "kernel": 1}], [(c,), (o,)], o


def _concat_block(draw: st.DrawFn, shape: Shape, name: str | None, namer: _Namer) -> Nodes:
    c, h, w = shape
    nodes = Nodes({}, [], [], [], [], shape)
    branches: list[Any] = []
    total = 0
    for k in range(draw(st.integers(2, 3))):
        layers, channels, out = _same_size_branch(draw, c)
        total += out
        if layers and name is not None and draw(st.booleans()):  # a named branch: one more name level
            inner = _Namer(draw, f"{namer.prefix}b{k}.")
            nodes.blocks.append(f"{namer.prefix}b{k}")
            branches.append([{"block": f"b{k}", "layers": inner.layers(layers, nodes)}])
        else:
            branches.append(namer.layers(layers, nodes))
        nodes.shapes += [(ch[0], h, w) for ch in channels]
        nodes.kinds += [layer["kind"] for layer in layers]
    nodes.shapes.append((total, h, w))
    nodes.kinds.append("concat")
    nodes.item = {"branches": branches, "merge": "concat"}
    nodes.out = (total, h, w)
    return nodes


def _residual_block(draw: st.DrawFn, shape: Shape, namer: _Namer) -> Nodes:
    """conv k3 stride s pad 1 (+BN, ReLU), conv k3 pad 1; the shortcut is the identity where
    shapes allow, else a 1x1 conv of stride s: both give (n - 1) // s + 1."""
    c, h, w = shape
    s = draw(st.integers(1, 2))
    c2 = c if s == 1 and draw(st.booleans()) else draw(st.integers(1, MAX_CHANNELS))
    out = (c2, (h - 1) // s + 1, (w - 1) // s + 1)
    main: list[Doc] = [{"kind": "conv", "out_channels": c2, "kernel": 3, "stride": s, "padding": 1, "bias": False}]
    if draw(st.booleans()):
        main.append({"kind": "batchnorm"})
    main += [{"kind": "relu"}, {"kind": "conv", "out_channels": c2, "kernel": 3, "padding": 1}]
    shortcut: list[Doc] = [] if out == shape and draw(st.booleans()) else [{"kind": "conv", "out_channels": c2, "kernel": 1, "stride": s}]
    nodes = Nodes({}, [], [], [], [], out)
    nodes.item = {"branches": [namer.layers(main, nodes), namer.layers(shortcut, nodes)], "merge": "add"}
    for layer in main + shortcut:
        nodes.shapes.append(out)
        nodes.kinds.append(layer["kind"])
    nodes.shapes.append(out)
    nodes.kinds.append("add")
    return nodes


def _dense_block(draw: st.DrawFn, shape: Shape, namer: _Namer) -> Nodes:
    """Each unit maps its input to g channels at the same size; unit k sees c + k * g channels."""
    c, h, w = shape
    g = draw(st.integers(1, 4))
    nodes = Nodes({}, [], [], [], [], shape)
    units = []
    n = draw(st.integers(1, 3))
    for k in range(n):
        unit: list[Doc] = draw(st.sampled_from([
            [{"kind": "batchnorm"}, {"kind": "relu"}, {"kind": "conv", "out_channels": g, "kernel": 3, "padding": 1}],
            [{"kind": "relu"}, {"kind": "conv", "out_channels": g, "kernel": 1}],
        ]))
        unit = copy.deepcopy(unit)
        units.append(namer.layers(unit, nodes))
        nodes.shapes += [(c + k * g, h, w)] * (len(unit) - 1) + [(g, h, w)]
        nodes.kinds += [layer["kind"] for layer in unit]
        nodes.shapes.append((c + (k + 1) * g, h, w))  # the concat that feeds the next unit, or ends the block
        nodes.kinds.append("concat")
    nodes.item = {"merge": "dense", "units": units}
    nodes.out = (c + n * g, h, w)
    return nodes


@st.composite
def blocks(draw: st.DrawFn, shape: Shape, index: int, batchnorm: bool = True) -> Nodes:
    """A random block on a (C, H, W) input: residual (add), Inception-like (concat), dense, or a
    named sequential block of random map layers; parallel ones may be anonymous."""
    which = draw(st.sampled_from(["residual", "concat", "dense", "sequential"]))
    named = which in ("dense", "sequential") or draw(st.booleans())
    name = f"g{index}"
    # An anonymous group has no name level: its layers' names live in the enclosing scope.
    namer = _Namer(draw, f"{name}." if named else "", "l" if named else f"g{index}_")
    if which == "residual":
        nodes = _residual_block(draw, shape, namer)
    elif which == "concat":
        nodes = _concat_block(draw, shape, name if named else None, namer)
    elif which == "dense":
        nodes = _dense_block(draw, shape, namer)
    else:
        nodes = Nodes({}, [], [], [], [], shape)
        layers = []
        for _ in range(draw(st.integers(1, 3))):
            layer, nodes.out = draw(_map_layer(nodes.out, batchnorm))
            layers.append(layer)
            nodes.shapes.append(nodes.out)
            nodes.kinds.append(layer["kind"])
        nodes.item = {"layers": namer.layers(layers, nodes)}
    if named:
        nodes.item = {"block": name, **nodes.item}
        nodes.blocks.insert(0, name)
    return nodes


# ---------------------------------------------------------------- random claims about a network


def _figure(draw: st.DrawFn) -> int | str:
    value = draw(st.integers(0, 10**7))
    style = draw(st.integers(0, 3))
    if style == 0:
        return value
    if style == 1:
        return f"{value:,}"
    if style == 2:
        return f"{draw(st.integers(1, 999))}{draw(st.sampled_from(['', '.5', '.25']))} {draw(st.sampled_from(['k', 'thousand', 'million', 'M', 'G', 'billion', '万']))}"
    a, b, c = draw(st.integers(1, 99)), draw(st.integers(1, 99)), draw(st.integers(0, 99))
    return f"{a}*{b}+{c}={a * b + c + draw(st.sampled_from([0, 0, 1, 10]))}"


def _shape_text(draw: st.DrawFn) -> str | list[int]:
    dims = draw(st.lists(st.integers(1, 64), min_size=1, max_size=3))
    return dims if draw(st.booleans()) else "x".join(map(str, dims))


@st.composite
def claims_for(draw: st.DrawFn, net: Net) -> list[Doc]:
    """Random but valid claims of every kind, targeting the network's named layers and stages."""
    targets = list(net.names) + list(net.stages) + list(net.blocks)
    out: list[Doc] = []
    for i in range(draw(st.integers(0, 8))):
        kind = draw(st.sampled_from(CLAIM_KINDS))
        claim: Doc = {"id": f"c{i}", "kind": kind, "where": "fuzz"}
        if kind in ("params", "macs", "flops", "compute", "neurons", "connections"):
            claim["claimed"] = _figure(draw)
            if targets and draw(st.booleans()):
                claim["target"] = draw(st.sampled_from(targets))
            if draw(st.booleans()):
                claim["approx"] = True
            if draw(st.integers(0, 3)) == 0:
                claim["tolerance"] = draw(st.sampled_from([0.01, 0.1, 0.5]))
            claim["bound"] = draw(st.sampled_from(["exact", "exact", "at_most", "at_least"]))
            if kind == "params":
                claim["bias"] = draw(st.sampled_from(["included", "excluded"]))
                if "target" in claim and draw(st.booleans()):
                    claim.update(share=True, claimed=f"{draw(st.integers(0, 100))}%")
        elif kind == "input_shape":
            claim.update(claimed=_shape_text(draw), layout=draw(st.sampled_from(["hwc", "chw", "hw"])))
        elif kind == "output_shape":
            if not targets:
                continue
            claim.update(target=draw(st.sampled_from(targets)), claimed=_shape_text(draw),
                         layout=draw(st.sampled_from(["hwc", "chw", "hw", "c"])))
        elif kind == "layer_count":
            claim.update(of=draw(st.sampled_from(["conv", "linear", "maxpool", "avgpool", "pool", "lrn", "batchnorm", "dropout", "weighted"])),
                         claimed=draw(st.integers(0, 6)))
            if draw(st.booleans()):
                claim["followed_by"] = draw(st.sampled_from(["maxpool", "avgpool", "pool", "lrn", "batchnorm", "dropout", "relu"]))
        elif kind == "structure":
            check = _structure_check(draw, list(net.names))
            if check is None:
                continue
            claim.update(claimed="a structural statement", check=check)
        elif kind == "arithmetic":
            a, b = draw(st.integers(1, 300)), draw(st.integers(1, 300))
            claim["claimed"] = f"({a}-{b % a})/{draw(st.integers(1, 4))}+1={draw(st.integers(0, 300))}"
            if draw(st.booleans()):
                claim["measured"] = {"quantity": draw(st.sampled_from(["height", "width", "channels", "params", "params_no_bias", "macs", "flops", "neurons"]))}
                if targets and draw(st.booleans()):
                    claim["measured"]["target"] = draw(st.sampled_from(targets))
        elif kind == "training":
            claim.update(metric="top1_error", claimed="37.5%", dataset="imagenet")
        elif kind == "speedup":
            claim.update(claimed=6, baseline="tanh", target_error=0.25, dataset="cifar10")
        else:
            claim.update(claimed=draw(st.integers(0, 3000)), needs="a record this tool does not hold")
        out.append(claim)
    return out


def _structure_check(draw: st.DrawFn, names: list[str]) -> Doc | None:
    options = ["all_have", "overlapping", "contains"] + (["followed_by", "activation_after", "layer_has"] if names else [])
    which = draw(st.sampled_from(options))
    if which == "all_have":
        return {"all_of": draw(st.sampled_from(["maxpool", "avgpool", "pool", "conv", "dropout", "lrn"])),
                "kernel": draw(st.integers(1, 5)), "stride": draw(st.integers(1, 3))}
    if which == "overlapping":
        return {"overlapping": draw(st.sampled_from(["maxpool", "avgpool", "pool"]))}
    if which == "contains":
        return {"contains": draw(st.sampled_from(["lrn", "batchnorm", "dropout", "maxpool", "relu", "softmax"])),
                "present": draw(st.booleans())}
    picked = draw(st.lists(st.sampled_from(names), min_size=1, max_size=3, unique=True))
    if which == "followed_by":
        return {"followed_by": draw(st.sampled_from(["lrn", "maxpool", "relu", "dropout", "softmax"])), "layers": picked,
                "exactly": draw(st.booleans())}
    if which == "activation_after":
        return {"activation_after": picked, "present": draw(st.booleans())}
    return {"layer": picked[0], "kernel": draw(st.integers(1, 5)), "out_channels": draw(st.integers(1, 16)),
            "padding": draw(st.integers(0, 2))}


@st.composite
def nets_with_claims(draw: st.DrawFn, *, graphs: bool = False) -> Net:
    net = draw(nets(graphs=graphs))
    doc = dict(net.doc)
    doc["claims"] = draw(claims_for(net))
    return Net(doc, net.shapes, net.kinds, net.names, net.stages, net.blocks)


# ---------------------------------------------------------------- broken specs

SENTINEL = "ALEXNET_AUDIT_FUZZ_PWNED"  # a file the python-tag payloads would create if they ran


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every key or index path below the root."""
    out: list[tuple[Any, ...]] = []
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, value in items:
        out.append(prefix + (key,))
        out += _paths(value, prefix + (key,))
    return out


def _set(doc: Doc, path: tuple[Any, ...], value: Any) -> None:
    node: Any = doc
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value


def _get(doc: Doc, path: tuple[Any, ...]) -> Any:
    node: Any = doc
    for part in path:
        node = node[part]
    return node


@dataclass(frozen=True)
class Broken:
    """A spec that must be refused (exit 2), and how it was broken."""

    how: str
    data: bytes


def _dump(doc: Doc) -> bytes:
    return yaml.safe_dump(doc, sort_keys=False, allow_unicode=True).encode("utf-8")


def _with_marker(draw: st.DrawFn, doc: Doc, snippet: str) -> bytes:
    """`doc` with one string-valued field replaced, in the YAML text, by `snippet`."""
    paths = [p for p in _paths(doc) if isinstance(_get(doc, p), str)]
    doc = copy.deepcopy(doc)
    _set(doc, draw(st.sampled_from(paths)), "ZZMARKERZZ")
    return _dump(doc).replace(b"ZZMARKERZZ", snippet.encode("utf-8"))


SIZE_KEYS = {"out_channels", "out_features", "kernel", "stride", "num_classes", "groups", "output_size", "size",
             "depth_radius", "in_features"}
TOO_BIG = st.integers(10**7, 10**40)  # beyond every size limit of the schema (channels 2^17, kernels 1024, sides 4096)
REQUIRED = {"id", "title", "source", "input", "num_classes", "layers", "kind", "out_channels", "out_features",
            "kernel", "seed", "section", "framework", "where", "claimed", "stage", "output_size", "needs", "check"}
LIMITED_TEXT = {"id", "title", "section", "seed", "where", "name", "stage", "needs", "quote", "note"}


BREAKAGES = (
    "wrong_type", "size_out_of_range", "unknown_kind", "unknown_field", "missing_field", "long_string",
    "deep_nesting", "alias_bomb", "python_tag", "unknown_tag", "binary_garbage", "text_garbage", "not_a_mapping",
    "tab_indent", "bad_formula", "huge_integer", "bad_init",
)


@st.composite
def broken_specs(draw: st.DrawFn, how: str | None = None) -> Broken:
    """A valid random spec with one mistake that makes it invalid (one of BREAKAGES: `how`, or
    drawn), or garbage that never was a spec."""
    how = how or draw(st.sampled_from(BREAKAGES))
    net = draw(nets_with_claims())
    doc = copy.deepcopy(net.doc)
    paths = _paths(doc)
    if how == "wrong_type":
        path = draw(st.sampled_from(paths))
        _set(doc, path, ["zz_bad"] if isinstance(_get(doc, path), dict) else {"zz_bad": 1})
    elif how == "size_out_of_range":
        # (a structure check's kernel or out_channels is a claim, not a size: any value is valid there)
        sized = [p for p in paths if "check" not in p and (p[-1] in SIZE_KEYS or p[:1] == ("input",))
                 and isinstance(_get(doc, p), int) and not isinstance(_get(doc, p), bool)]
        sized += [p for p in paths if "check" not in p and len(p) > 1 and p[-2] in ("kernel", "stride", "output_size")
                  and isinstance(p[-1], int)]
        path = draw(st.sampled_from(sized))
        _set(doc, path, draw(TOO_BIG | st.integers(-(10**30), -1)))
    elif how == "unknown_kind":
        kinded = [p for p in paths if p[-1] == "kind"]
        kind = draw(st.text(min_size=1, max_size=30).filter(lambda k: k not in LAYER_KINDS + CLAIM_KINDS))
        _set(doc, draw(st.sampled_from(kinded)), kind)
    elif how == "unknown_field":
        mappings = [()] + [p for p in paths if isinstance(_get(doc, p), dict)]
        target = _get(doc, draw(st.sampled_from(mappings))) if mappings else doc
        target["zz_" + draw(st.text(max_size=20))] = draw(st.integers() | st.text(max_size=10))
    elif how == "missing_field":
        required = [p for p in paths if p[-1] in REQUIRED and "check" not in p[:-1]]
        path = draw(st.sampled_from(required))
        del _get(doc, path[:-1])[path[-1]]
    elif how == "long_string":
        texts = [p for p in paths if p[-1] in LIMITED_TEXT and isinstance(_get(doc, p), str)]
        _set(doc, draw(st.sampled_from(texts)), draw(st.sampled_from("ab€字\n ")) * draw(st.integers(2001, 20_000)))
    elif how == "deep_nesting":
        depth = draw(st.integers(41, 1500))
        opener, closer = draw(st.sampled_from([("[", "]"), ("{a: ", "}")]))
        return Broken(how, _with_marker(draw, doc, opener * depth + "1" + closer * depth))
    elif how == "alias_bomb":
        width, levels = draw(st.integers(4, 12)), draw(st.integers(8, 12))  # at least 4^8 nodes once expanded
        lines = [f"l0: &l0 [{', '.join(['x'] * width)}]"]
        lines += [f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * width)}]" for i in range(1, levels)]
        text = _dump(doc).decode("utf-8")
        where = draw(st.sampled_from(["before", "title"]))
        if where == "before":
            return Broken(how, ("\n".join(lines) + "\n" + text).encode("utf-8"))
        bomb = "{" + ", ".join(lines) + "}"
        return Broken(how, _with_marker(draw, doc, bomb))
    elif how == "python_tag":
        payload = draw(st.sampled_from([
            f"!!python/object/apply:os.system ['touch {SENTINEL}']",
            f"!!python/object/apply:subprocess.check_call [['touch', '{SENTINEL}']]",
            f"!!python/object/new:os.system ['touch {SENTINEL}']",
            "!!python/name:os.system",
            "!!python/module:os",
            "!!python/object:builtins.object {}",
        ]))
        return Broken(how, _with_marker(draw, doc, payload))
    elif how == "unknown_tag":
        return Broken(how, _with_marker(draw, doc, "!" + draw(st.sampled_from(["foo", "include x.yaml", "env HOME"]))))
    elif how == "binary_garbage":
        return Broken(how, draw(st.binary(max_size=2000)))
    elif how == "text_garbage":
        return Broken(how, draw(st.text(max_size=500)).encode("utf-8"))
    elif how == "not_a_mapping":
        return Broken(how, yaml.safe_dump(draw(st.sampled_from([doc["layers"], doc["input"], "x", 1, None]))).encode("utf-8"))
    elif how == "tab_indent":
        return Broken(how, _dump(doc).replace(b"\n  ", b"\n\t", 1) if b"\n  " in _dump(doc) else b"a:\n\tb: 1\n")
    elif how == "bad_formula":
        numeric = [p for p in paths if p[-1] == "claimed" and _get(doc, p[:-1]).get("kind") in
                   ("params", "macs", "flops", "compute", "neurons", "connections", "arithmetic")]
        if not numeric:
            doc.setdefault("claims", []).append({"id": "zz", "kind": "params", "where": "x", "claimed": 1})
            numeric = [("claims", len(doc["claims"]) - 1, "claimed")]
        _set(doc, draw(st.sampled_from(numeric)), draw(st.sampled_from([
            "(" * 60 + "1" + ")" * 60, "-" * 300 + "1", "2^" * 150 + "2", "1/0", "(1+2", "1+", "9^99", "10^31",
            "1 = 2 = 3", "5 apples", "", "nan", "1e400", "(" * 199 + "1" + ")" * 199,
        ])))
    elif how == "bad_init":
        weighted = [p for p in paths if isinstance(_get(doc, p), dict) and _get(doc, p).get("kind") in ("conv", "linear")
                    and _get(doc, p).get("bias", True)]
        _get(doc, draw(st.sampled_from(weighted)))["init"] = draw(BAD_INITS)
    elif how == "huge_integer":
        return Broken(how, _with_marker(draw, doc, "9" * draw(st.integers(4301, 20_000))))
    return Broken(how, _dump(doc))

