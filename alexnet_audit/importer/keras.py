"""Keras listings: Sequential (`model.add(...)` or a list), a subclassed Model with call(), the
functional API. Names as Keras gives them (`conv2d`, `conv2d_1`, ...) unless the code names
the layer; the framework's defaults that the code leaves implicit are listed as assumptions.
"""

from __future__ import annotations

import ast
import re
from typing import Any

from .classes import read_class
from .common import Namer, Sizes
from .consts import Container, Method, Ref, Template, Tensor, Unknown
from .hooks import Hooks, NotMine
from .interp import Walk
from .keras_args import INPUT, LAYERS, MERGES
from .reading import Check, Node, Reading
from .signatures import bind, refused

ALIASES = {"MaxPool2D": "MaxPooling2D", "AvgPool2D": "AveragePooling2D", "Convolution2D": "Conv2D",
           "GlobalAvgPool2D": "GlobalAveragePooling2D", "GlobalMaxPool2D": "GlobalMaxPooling2D"}
ACTIVATIONS = {"relu": "relu", "tanh": "tanh", "sigmoid": "sigmoid", "softmax": "softmax", "elu": "elu",
               "gelu": "gelu", "relu6": "relu6", "hard_swish": "hardswish"}
INITIALISERS = {
    "zeros": {"dist": "constant", "value": 0.0}, "ones": {"dist": "constant", "value": 1.0},
    "glorot_uniform": {"dist": "glorot_uniform"},
    "random_normal": {"dist": "normal", "mean": 0.0, "std": 0.05},  # Keras's RandomNormal defaults
    "random_uniform": {"dist": "uniform", "low": -0.05, "high": 0.05},
    "truncated_normal": {"dist": "truncated_normal", "mean": 0.0, "std": 0.05},
}


def _snake(ctor: str) -> str:
    """Keras's automatic layer name: the class name in snake case."""
    name = ALIASES.get(ctor, ctor)
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


class KerasHooks(Hooks):
    known = frozenset(set(LAYERS) | set(ALIASES) | {"Sequential", "Model", "Input", "layers", "keras"})

    def __init__(self, reading: Reading, sizes: Sizes) -> None:
        self.reading = reading
        self.sizes = sizes
        self.counts: dict[str, int] = {}
        self.names = Namer()  # unique among all the layers, whichever way each was named
        self.applied: set[int] = set()  # layers the model applied (the rest are unused)

    def call(self, walk: Walk, callee: Any, args: list[Any], kwargs: dict[str, Any], node: ast.Call,
             hint: str | None) -> Any:
        if isinstance(callee, Ref):
            name = callee.last
            if name == "Sequential":
                items = args[0] if args and isinstance(args[0], list) else kwargs.get("layers", [])
                return Container("Sequential", [(None, t) for t in items], node.lineno)
            if name == "Input":
                b = bind(INPUT, args, kwargs, walk.where(node))
                self._input(b["shape"], node.lineno, walk.code(node))
                return Tensor()
            if name == "Model":
                out = kwargs.get("outputs", args[1] if len(args) > 1 else None)
                if isinstance(out, Tensor):
                    return out
            elif name in MERGES and _tensors(args[0] if args else kwargs.get("inputs")):
                b = bind(MERGES[name], args, kwargs, walk.where(node))
                return self.merge("add" if name == "add" else "concat", b["inputs"], node, walk)
            elif name in LAYERS or name in ALIASES or ("layers" in callee.path.split(".") and name[:1].isupper()):
                # a Keras layer with no spec kind becomes a template too: applying it names its line
                return Template(name, tuple(args), tuple(kwargs.items()), node.lineno, walk.code(node))
        if isinstance(callee, Template) and callee.ctor in ("Add", "Concatenate") and args and _tensors(args[0]):
            bind(LAYERS[callee.ctor], callee.args, dict(callee.kwargs), f"{self.sizes.where(callee.line)}: {callee.code}")
            return self.merge("add" if callee.ctor == "Add" else "concat", args[0], node, walk)
        if isinstance(callee, (Template, Container)) and args and isinstance(args[0], Tensor):
            return self.apply(callee, args[0], first=not args[0].nodes)
        if isinstance(callee, Method) and isinstance(callee.obj, Container) and callee.name == "add" and args:
            callee.obj.items.append((None, args[0]))
            return None
        raise NotMine

    def apply(self, module: Any, x: Tensor, first: bool) -> Tensor:
        self.applied.add(id(module))
        if isinstance(module, Container):
            for i, (_, child) in enumerate(module.items):
                x = self.apply(child, x, first=first and i == 0)
            return x
        if not isinstance(module, Template):
            raise Unknown("a layer this importer does not read", 0)
        if module.ctor == "InputLayer":
            b = bind(LAYERS["InputLayer"], module.args, dict(module.kwargs), f"{self.sizes.where(module.line)}: {module.code}")
            self._input(b["input_shape"] if b["shape"] is None else b["shape"], module.line, module.code)
            return x
        shape = module.arg(99, "input_shape")
        if shape is not None:
            if first:
                self._input(shape, module.line, module.code)
            elif x.nodes:
                self._ignored(module, shape, x.nodes[-1].name)
        return x.then(*self.nodes(module))

    def merge(self, kind: str, branches: list[Tensor], node: ast.Call, walk: Walk) -> Tensor:
        name = self._name(Template("Add" if kind == "add" else "Concatenate", (), (), node.lineno, walk.code(node)))
        merge = Node(kind, (), name, node.lineno, walk.code(node))
        return branches[0].join(branches[1:], merge)

    def apply_attr(self, module: Any, x: Tensor, name: str, walk: Walk) -> Tensor:
        return self.apply(module, x, first=not x.nodes)

    def _input(self, shape: Any, line: int, code: str) -> None:
        if isinstance(shape, (tuple, list)) and len(shape) == 3 and all(isinstance(d, int) for d in shape):
            h, w, c = shape
            self.reading.input = (c, h, w)
            self.reading.input_from = f"{self.sizes.where(line)}: {code} (Keras's channels-last H x W x C)"
        else:
            self.reading.note_unreadable(line, f"{code}: an input shape this importer cannot read as H x W x C")

    def _ignored(self, t: Template, shape: Any, before: str) -> None:
        dims = [d for d in shape if isinstance(d, int)] if isinstance(shape, (tuple, list)) else []
        if len(dims) == 1:
            self.reading.checks.append(Check("ignored_input_shape", before, dims[0], t.line, t.code))
        else:
            self.reading.note_unreadable(t.line, f"{t.code}: input_shape on a later layer (Keras ignores it)")

    def _name(self, t: Template) -> str:
        given = dict(t.kwargs).get("name")
        if isinstance(given, str):
            base = given
        elif t.name:
            base = t.name
        else:
            auto = _snake(t.ctor)
            n = self.counts.get(auto, 0)
            self.counts[auto] = n + 1
            base = auto if n == 0 else f"{auto}_{n}"
        return self.names.take(base)

    def nodes(self, t: Template) -> list[Node]:
        s, line, ctor = self.sizes, t.line, ALIASES.get(t.ctor, t.ctor)
        sig = LAYERS.get(ctor)
        if sig is None:
            self.reading.note_unreadable(line, f"{t.code}: {ctor} is not a layer kind a spec holds (left out)")
            return []
        where = f"{s.where(line)}: {t.code}"
        b = bind(sig, t.args, dict(t.kwargs), where)
        fields: dict[str, Any] = {}
        kind = sig.kind
        if ctor == "Conv2D":
            fields = {"out_channels": s.integer(b["filters"], "filters", line),
                      "kernel": s.pair(b["kernel_size"], "kernel_size", line)}
            stride = s.pair(b["strides"], "strides", line)
            if stride != 1:
                fields["stride"] = stride
            fields["padding"] = self._padding(b["padding"], "Conv2D", where)
            dilation = s.pair(b["dilation_rate"], "dilation_rate", line)
            if dilation != 1:
                fields["dilation"] = dilation
            if s.integer(b["groups"], "groups", line) != 1:
                fields["groups"] = b["groups"]
            self._bias(b, fields, where)
            self._init(b, fields, where)
        elif ctor == "Dense":
            fields = {"out_features": s.integer(b["units"], "units", line)}
            self._bias(b, fields, where)
            self._init(b, fields, where)
        elif ctor in ("MaxPooling2D", "AveragePooling2D"):
            if "pool_size" not in dict(t.kwargs) and not t.args:
                self.reading.note_assumed(f"{ctor} pool_size (2, 2): Keras's default")
            fields = {"kernel": s.pair(b["pool_size"], "pool_size", line)}
            if b["strides"] is not None:
                fields["stride"] = s.pair(b["strides"], "strides", line)
            fields["padding"] = self._padding(b["padding"], ctor, where)
        elif ctor == "ZeroPadding2D":
            pad = b["padding"]
            if isinstance(pad, (tuple, list)) and all(isinstance(p, (tuple, list)) for p in pad):  # ((top, bottom), (left, right))
                pad = [s.integer(v, "padding", line) for side in pad for v in side]
            fields = {"padding": s.pair(pad, "padding", line) if not isinstance(pad, list) or len(pad) == 2 else pad}
        elif ctor == "LeakyReLU":
            fields = {"slope": s.number(b["negative_slope"], "alpha", line)}
        elif ctor == "ELU":
            fields = {"alpha": s.number(b["alpha"], "alpha", line)}
        elif ctor == "ReLU":
            kind, fields = self._relu(b, where, line)
        elif ctor == "BatchNormalization":
            momentum = 0.99 if b["momentum"] is None else b["momentum"]
            eps = 1e-3 if b["epsilon"] is None else b["epsilon"]
            fields = {"eps": s.number(eps, "epsilon", line), "momentum": round(1 - s.number(momentum, "momentum", line), 12)}
            if b["momentum"] is None or b["epsilon"] is None:
                self.reading.note_assumed("BatchNormalization epsilon 0.001 and momentum 0.99 (PyTorch's 0.01): Keras's defaults")
        elif ctor == "Activation":
            kind = self._activation(b["activation"], where)
        elif ctor == "Dropout":
            fields = {"p": s.number(b["rate"], "rate", line)}
        elif ctor == "Flatten":
            self.reading.note_assumed("Flatten of channels-last maps: the same count of features as PyTorch's channels-first order")
        if kind is None:
            return []
        name = self._name(t)
        out = [Node(kind, tuple(fields.items()), name, line, t.code)]
        if ctor in ("Conv2D", "Dense"):
            act_kind = self._activation(b["activation"], where)
            if act_kind is not None:
                out.append(Node(act_kind, (), f"{name}_{act_kind}", line, t.code))
        return out

    def _activation(self, value: Any, where: str) -> str | None:
        """A layer kind for an activation given by name or as a function (`tf.nn.relu`); None for 'linear'."""
        name = value.last if isinstance(value, Ref) else value
        if value is None or name == "linear":
            return None
        if not isinstance(name, str) or name not in ACTIVATIONS:
            raise refused(where, "activation", value, f"a spec holds the activations {', '.join(sorted(ACTIVATIONS))}")
        return ACTIVATIONS[name]

    def _relu(self, b: dict[str, Any], where: str, line: int) -> tuple[str, dict[str, Any]]:
        """Keras's ReLU(max_value, negative_slope): relu, relu6 or leaky_relu, as the spec holds them."""
        top, slope = b["max_value"], self.sizes.number(b["negative_slope"], "negative_slope", line)
        if top is None:
            return ("relu", {}) if slope == 0 else ("leaky_relu", {"slope": slope})
        if top == 6 and slope == 0:
            return "relu6", {}
        raise refused(where, "max_value", top, "a spec's relu is capped at 6 (relu6) or not at all, with no slope then")

    def _padding(self, value: Any, ctor: str, where: str) -> str:
        if value is None:
            self.reading.note_assumed(f"{ctor} padding 'valid': Keras's default")
            return "valid"
        if not isinstance(value, str) or value.lower() not in ("same", "valid"):
            raise refused(where, "padding", value, "Keras pads 'same' or 'valid'")
        return value.lower()

    def _bias(self, b: dict[str, Any], fields: dict[str, Any], where: str) -> None:
        use_bias = b["use_bias"]
        if use_bias is None:
            self.reading.note_assumed("use_bias=True on Conv2D and Dense: Keras's default")
        elif use_bias is False:
            fields["bias"] = False
        elif use_bias is not True:
            raise refused(where, "use_bias", use_bias, "a layer has a bias or not")

    def _init(self, b: dict[str, Any], fields: dict[str, Any], where: str) -> None:
        init: dict[str, Any] = {}
        for part, key in (("weight", "kernel_initializer"), ("bias", "bias_initializer")):
            value = b[key]
            if not isinstance(value, str) or value not in INITIALISERS:
                raise refused(where, key, value, f"a spec reads the initialisers {', '.join(INITIALISERS)} by name")
            init[part] = INITIALISERS[value]
        if init != {"weight": INITIALISERS["glorot_uniform"], "bias": INITIALISERS["zeros"]}:
            fields["init"] = init


def _tensors(value: Any) -> bool:
    """Two or more of the network's tensors, as a merge takes them."""
    return isinstance(value, list) and len(value) > 1 and all(isinstance(t, Tensor) for t in value)


def make_hooks(reading: Reading, sizes: Sizes) -> KerasHooks:
    return KerasHooks(reading, sizes)


def read(walk: Walk, chosen: Any, hooks: KerasHooks, reading: Reading) -> None:
    if chosen.style == "class":
        read_class(walk, chosen.node, hooks, reading)
        return
    model = walk.module.get(chosen.name)
    if isinstance(model, Container):
        reading.nodes = list(hooks.apply(model, Tensor(), first=True).nodes)
    elif isinstance(model, Tensor):
        reading.nodes = list(model.nodes)
    else:
        raise Unknown(f"{chosen.name} is not a Keras model this importer reads", chosen.node.lineno)
    adds = [n for n in ast.walk(walk.tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
            and n.func.attr == "add" and isinstance(n.func.value, ast.Name) and n.func.value.id == chosen.name]
    if adds:
        reading.first = (reading.first[0], max(reading.first[1], max(n.lineno for n in adds)))
