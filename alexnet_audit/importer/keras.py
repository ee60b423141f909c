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
from .interp import Hooks, NotMine, Walk
from .reading import Check, Node, Reading

LAYERS = {
    "Conv2D", "Convolution2D", "Dense", "MaxPooling2D", "MaxPool2D", "AveragePooling2D", "AvgPool2D",
    "GlobalAveragePooling2D", "GlobalAvgPool2D", "BatchNormalization", "Activation", "ReLU", "Softmax",
    "Dropout", "Flatten", "InputLayer", "ZeroPadding2D", "GlobalMaxPooling2D", "GlobalMaxPool2D", "LeakyReLU", "ELU",
}
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
    known = frozenset(LAYERS | {"Sequential", "Model", "Input", "layers", "keras"})

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
                self._input(kwargs.get("shape", args[0] if args else None), node.lineno, walk.code(node))
                return Tensor()
            if name == "Model":
                out = kwargs.get("outputs", args[1] if len(args) > 1 else None)
                if isinstance(out, Tensor):
                    return out
            elif name in ("add", "concatenate") and args and isinstance(args[0], list) and len(args[0]) > 1 \
                    and all(isinstance(t, Tensor) for t in args[0]):
                return self.merge("add" if name == "add" else "concat", args[0], node, walk)
            elif name in LAYERS or ("layers" in callee.path.split(".") and name[:1].isupper()):
                # a Keras layer with no spec kind becomes a template too: applying it names its line
                return Template(name, tuple(args), tuple(kwargs.items()), node.lineno, walk.code(node))
        if isinstance(callee, Template) and callee.ctor in ("Add", "Concatenate") and args and isinstance(args[0], list) \
                and len(args[0]) > 1 and all(isinstance(t, Tensor) for t in args[0]):
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
            self._input(module.arg(0, "input_shape"), module.line, module.code)
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
            self.reading.input_from = f"line {self.sizes.file_line(line)}: {code} (Keras's channels-last H x W x C)"
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
        fields: dict[str, Any] = {}
        kind: str | None = None
        activation = t.arg(99, "activation")
        if ctor == "Conv2D":
            kind = "conv"
            fields = {"out_channels": s.integer(t.arg(0, "filters"), "filters", line),
                      "kernel": s.pair(t.arg(1, "kernel_size"), "kernel_size", line)}
            stride = s.pair(t.arg(2, "strides", 1), "strides", line)
            if stride != 1:
                fields["stride"] = stride
            fields["padding"] = self._padding(t.arg(3, "padding"), "Conv2D")
            dilation = s.pair(t.arg(5, "dilation_rate", 1), "dilation_rate", line)
            if dilation != 1:
                fields["dilation"] = dilation
            activation = t.arg(8, "activation")
            self._bias(t, fields)
            self._init(t, fields)
        elif ctor == "Dense":
            kind = "linear"
            fields = {"out_features": s.integer(t.arg(0, "units"), "units", line)}
            activation = t.arg(1, "activation")
            self._bias(t, fields)
            self._init(t, fields)
        elif ctor in ("MaxPooling2D", "AveragePooling2D"):
            kind = "maxpool" if ctor == "MaxPooling2D" else "avgpool"
            pool = t.arg(0, "pool_size")
            if pool is None:
                self.reading.note_assumed(f"{ctor} pool_size (2, 2): Keras's default")
                pool = 2
            fields = {"kernel": s.pair(pool, "pool_size", line)}
            strides = t.arg(1, "strides")
            if strides is not None:
                fields["stride"] = s.pair(strides, "strides", line)
            fields["padding"] = self._padding(t.arg(2, "padding"), ctor)
        elif ctor in ("GlobalAveragePooling2D", "GlobalMaxPooling2D"):
            kind = "global_avgpool" if ctor == "GlobalAveragePooling2D" else "global_maxpool"
        elif ctor == "ZeroPadding2D":
            pad = t.arg(0, "padding", 1)
            if isinstance(pad, (tuple, list)) and all(isinstance(p, (tuple, list)) for p in pad):  # ((top, bottom), (left, right))
                pad = [s.integer(v, "padding", line) for side in pad for v in side]
            kind, fields = "zeropad", {"padding": s.pair(pad, "padding", line) if not isinstance(pad, list) or len(pad) == 2 else pad}
        elif ctor == "LeakyReLU":
            slope = dict(t.kwargs).get("negative_slope", t.arg(0, "alpha", 0.3))
            kind, fields = "leaky_relu", {"slope": s.number(slope, "alpha", line)}
        elif ctor == "ELU":
            kind, fields = "elu", {"alpha": s.number(t.arg(0, "alpha", 1.0), "alpha", line)}
        elif ctor == "BatchNormalization":
            kind = "batchnorm"
            momentum = t.arg(1, "momentum", 0.99)
            eps = t.arg(2, "epsilon", 1e-3)
            fields = {"eps": s.number(eps, "epsilon", line), "momentum": round(1 - s.number(momentum, "momentum", line), 12)}
            if "momentum" not in dict(t.kwargs) or "epsilon" not in dict(t.kwargs):
                self.reading.note_assumed("BatchNormalization epsilon 0.001 and momentum 0.99 (PyTorch's 0.01): Keras's defaults")
        elif ctor == "Activation":
            act = t.arg(0, "activation")
            kind = ACTIVATIONS.get(act) if isinstance(act, str) else None
            if kind is None and act != "linear":
                self.reading.note_unreadable(line, f"{t.code}: an activation this importer does not read")
        elif ctor in ("ReLU", "Softmax"):
            kind = ctor.lower()
        elif ctor == "Dropout":
            kind, fields = "dropout", {"p": s.number(t.arg(0, "rate"), "rate", line)}
        elif ctor == "Flatten":
            kind = "flatten"
            self.reading.note_assumed("Flatten of channels-last maps: the same count of features as PyTorch's channels-first order")
        if kind is None:
            if ctor not in ("Activation", "InputLayer"):
                self.reading.note_unreadable(line, f"{t.code}: {ctor} is not a layer kind a spec holds (left out)")
            return []
        name = self._name(t)
        out = [Node(kind, tuple(fields.items()), name, line, t.code)]
        if activation is not None and ctor in ("Conv2D", "Dense"):
            act_kind = ACTIVATIONS.get(activation) if isinstance(activation, str) else None
            if act_kind is not None:
                out.append(Node(act_kind, (), f"{name}_{act_kind}", line, t.code))
            elif activation != "linear":
                self.reading.note_unreadable(line, f"{t.code}: activation {activation!r} is not read")
        return out

    def _padding(self, value: Any, ctor: str) -> str:
        if value is None:
            self.reading.note_assumed(f"{ctor} padding 'valid': Keras's default")
            return "valid"
        if not isinstance(value, str) or value.lower() not in ("same", "valid"):
            raise Unknown(f"padding {value!r} is not 'same' or 'valid'", 0)
        return value.lower()

    def _bias(self, t: Template, fields: dict[str, Any]) -> None:
        use_bias = t.arg(99, "use_bias")
        if use_bias is None:
            self.reading.note_assumed("use_bias=True on Conv2D and Dense: Keras's default")
        elif use_bias is False:
            fields["bias"] = False

    def _init(self, t: Template, fields: dict[str, Any]) -> None:
        init: dict[str, Any] = {}
        for part, key, default in (("weight", "kernel_initializer", "glorot_uniform"), ("bias", "bias_initializer", "zeros")):
            value = t.arg(99, key)
            if value is None or value == default:
                init[part] = INITIALISERS[default]
            elif isinstance(value, str) and value in INITIALISERS:
                init[part] = INITIALISERS[value]
            else:
                self.reading.note_unreadable(t.line, f"{t.code}: {key} {value!r} is not read (Keras's default kept)")
                init[part] = INITIALISERS[default]
        if init != {"weight": INITIALISERS["glorot_uniform"], "bias": INITIALISERS["zeros"]}:
            fields["init"] = init


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
