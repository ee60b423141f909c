"""PyTorch listings: an nn.Module's layers from __init__, their order from forward().

Modules (`nn.Conv2d`, `nn.Sequential`, nested, built from a list or an OrderedDict) become
templates in __init__; forward() applies them and the functional calls (`F.relu`,
`torch.flatten`, `x.view`, ...) to the input tensor, which gives the layer order. An
initialisation method called from __init__ (`self._initialize_weights()`, `self.apply(fn)`)
sets each conv/linear layer's init.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from .classes import read_class
from .common import Namer, Sizes, clean_name
from .consts import (
    ClassRef,
    Container,
    Function,
    Method,
    Obj,
    Opaque,
    Ref,
    Template,
    Tensor,
    Unknown,
)
from .interp import Hooks, NotMine, Walk
from .reading import Check, Node, Reading

MODULES = {
    "Conv2d", "Linear", "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d", "LocalResponseNorm", "BatchNorm2d",
    "BatchNorm1d", "ReLU", "Tanh", "Sigmoid", "Softmax", "Dropout", "Dropout2d", "Flatten", "Identity",
    "LeakyReLU", "ReLU6", "ELU", "GELU", "Hardswish", "ZeroPad2d",
}
CONTAINERS = {"Sequential", "ModuleList"}
FUNCTIONAL = {
    "relu": "relu", "relu_": "relu", "tanh": "tanh", "sigmoid": "sigmoid", "softmax": "softmax",
    "max_pool2d": "maxpool", "avg_pool2d": "avgpool", "adaptive_avg_pool2d": "adaptive_avgpool",
    "dropout": "dropout", "flatten": "flatten", "local_response_norm": "lrn",
    "leaky_relu": "leaky_relu", "relu6": "relu6", "elu": "elu", "gelu": "gelu", "hardswish": "hardswish",
}
INIT_KIND = {"Conv2d": "conv", "Linear": "linear"}


def is_module_class(cls: ast.ClassDef) -> bool:
    return any((ast.unparse(b).rsplit(".", 1)[-1]) == "Module" for b in cls.bases)


class TorchHooks(Hooks):
    known = frozenset(MODULES | CONTAINERS | {"nn", "F", "torch"})

    def __init__(self, reading: Reading, sizes: Sizes) -> None:
        self.reading = reading
        self.sizes = sizes
        self.names = Namer()
        self.init: dict[str, dict[str, dict[str, Any]]] = {}  # conv/linear -> weight/bias -> INIT
        self.stems: dict[str, str] = {}  # a functional layer's name -> the module it follows
        self.scope: tuple[str, ...] = ()  # the sub-module whose forward() is being walked
        self.applied: set[int] = set()  # modules the forward pass applied (the rest are unused)

    def call(self, walk: Walk, callee: Any, args: list[Any], kwargs: dict[str, Any], node: ast.Call,
             hint: str | None) -> Any:
        if isinstance(callee, Ref):
            return self.ref(walk, callee, args, kwargs, node)
        if isinstance(callee, ClassRef) and is_module_class(callee.node):
            sub = Obj(callee.node)
            init = sub.method("__init__")
            if init is not None:
                walk.invoke(Function(init, sub), args, kwargs, node)
            return sub
        if isinstance(callee, (Template, Container, Obj)) and args and isinstance(args[0], Tensor):
            return self.apply(callee, args[0], callee.name or "layer", walk=walk)
        if isinstance(callee, Method):
            return self.method(walk, callee, args, kwargs, node)
        raise NotMine

    def ref(self, walk: Walk, ref: Ref, args: list[Any], kwargs: dict[str, Any], node: ast.Call) -> Any:
        name = ref.last
        if name in MODULES or (".nn." in f".{ref.path}" and name[:1].isupper() and name not in CONTAINERS | {"Module", "Parameter"}):
            # a module of torch.nn with no spec kind becomes a template too: applying it names its line
            return Template(name, tuple(args), tuple(kwargs.items()), node.lineno, walk.code(node))
        if name in CONTAINERS:
            container = Container(name, line=node.lineno)
            if len(args) == 1 and isinstance(args[0], dict):
                container.items = [(str(k), v) for k, v in args[0].items()]
            elif len(args) == 1 and isinstance(args[0], list) and name == "ModuleList":
                container.items = [(None, v) for v in args[0]]
            else:
                container.items = [(None, v) for v in args]
            return container
        if name == "cat" and args and isinstance(args[0], (list, tuple)) and len(args[0]) > 1 \
                and all(isinstance(t, Tensor) for t in args[0]) and kwargs.get("dim", args[1] if len(args) > 1 else 0) in (1, -3):
            return self.merge("concat", list(args[0]), node, walk)
        if name == "add" and len(args) == 2 and all(isinstance(t, Tensor) for t in args):
            return self.merge("add", list(args), node, walk)
        if name == "OrderedDict" and len(args) == 1 and isinstance(args[0], list):
            return {k: v for k, v in args[0]}
        if name in FUNCTIONAL and args and isinstance(args[0], Tensor) and ("functional" in ref.path or ref.path.startswith("torch") or ref.path == name):
            return self.functional(FUNCTIONAL[name], args, kwargs, node, walk)
        raise NotMine

    def method(self, walk: Walk, m: Method, args: list[Any], kwargs: dict[str, Any], node: ast.Call) -> Any:
        obj = m.obj
        if isinstance(obj, Tensor):
            if m.name in ("view", "reshape"):
                sizes = list(args[0]) if len(args) == 1 and isinstance(args[0], (tuple, list)) else args
                return self.reshape(obj, sizes, node, walk)
            if m.name == "flatten":
                return self.functional("flatten", [obj] + args, kwargs, node, walk)
            if m.name in FUNCTIONAL:
                return self.functional(FUNCTIONAL[m.name], [obj] + args, kwargs, node, walk)
            if m.name in ("size", "shape", "dim", "numel"):
                return Opaque("batch size")
            if m.name in ("contiguous", "clone", "float", "to", "cuda", "cpu"):
                return obj
        if isinstance(obj, list) and m.name in ("append", "extend", "insert"):
            if m.name == "append":
                obj.append(args[0])
            elif m.name == "extend":
                obj.extend(args[0])
            else:
                obj.insert(args[0], args[1])
            return None
        if isinstance(obj, Container) and m.name in ("add_module", "append"):
            obj.items.append((str(args[0]), args[1]) if m.name == "add_module" else (None, args[0]))
            return None
        if isinstance(obj, Obj) and m.name == "apply" and args and isinstance(args[0], Function):
            self.read_init(walk, args[0].node)
            return None
        raise NotMine

    def function(self, walk: Walk, fn: Function, args: list[Any], node: ast.Call) -> Any:
        if fn.owner is not None and _sets_init(fn.node):
            self.read_init(walk, fn.node)
            return None
        raise NotMine

    # ------------------------------------------------------------ applying to the tensor

    def apply(self, module: Any, x: Tensor, name: str, scope: tuple[str, ...] | None = None, walk: Walk | None = None) -> Tensor:
        """Apply a module; an nn.Sequential or a sub-module class becomes a block of its children,
        named as PyTorch names them (`features.0`, `layer1.conv`)."""
        scope = self.scope if scope is None else scope
        name = clean_name(name)
        self.applied.add(id(module))
        if isinstance(module, Container):
            for i, (key, child) in enumerate(module.items):
                x = self.apply(child, x, key if key is not None else str(i), scope + (name,), walk)
            return x
        if isinstance(module, Obj) and walk is not None and module.method("forward") is not None:
            outer, self.scope = self.scope, scope + (name,)
            try:
                out = walk.invoke(Function(module.method("forward"), module), [x], {}, module.cls)  # type: ignore[arg-type]
            finally:
                self.scope = outer
            if not isinstance(out, Tensor):
                raise Unknown(f"{name}'s forward() does not return the network's tensor", module.cls.lineno)
            return out
        if not isinstance(module, Template):
            raise Unknown(f"{name} is not a module this importer reads", 0)
        return x.then(*self.nodes(module, name, scope))

    def apply_attr(self, module: Any, x: Tensor, name: str, walk: Walk) -> Tensor:
        return self.apply(module, x, name, walk=walk)

    def nodes(self, t: Template, name: str, scope: tuple[str, ...] = ()) -> list[Node]:
        s, line = self.sizes, t.line
        kind, fields, declared = None, {}, None
        if t.ctor == "Conv2d":
            kind, declared = "conv", s.integer(t.arg(0, "in_channels"), "in_channels", line)
            fields = {"out_channels": s.integer(t.arg(1, "out_channels"), "out_channels", line),
                      "kernel": s.pair(t.arg(2, "kernel_size"), "kernel_size", line)}
            self._opt(fields, "stride", t.arg(3, "stride", 1), 1, s.pair, line)
            padding = t.arg(4, "padding", 0)
            fields["padding"] = padding if padding in ("same", "valid") else s.pair(padding, "padding", line)
            if fields["padding"] == 0:
                del fields["padding"]
            self._opt(fields, "dilation", t.arg(5, "dilation", 1), 1, s.pair, line)
            self._opt(fields, "groups", t.arg(6, "groups", 1), 1, s.integer, line)
            if t.arg(7, "bias", True) is False:
                fields["bias"] = False
        elif t.ctor == "Linear":
            kind, declared = "linear", s.integer(t.arg(0, "in_features"), "in_features", line)
            fields = {"out_features": s.integer(t.arg(1, "out_features"), "out_features", line)}
            if t.arg(2, "bias", True) is False:
                fields["bias"] = False
        elif t.ctor in ("MaxPool2d", "AvgPool2d"):
            kind = "maxpool" if t.ctor == "MaxPool2d" else "avgpool"
            fields = self._pool(t.arg(0, "kernel_size"), t.arg(1, "stride"), t.arg(2, "padding", 0),
                                t.arg(5 if kind == "maxpool" else 3, "ceil_mode", False), line)
        elif t.ctor == "AdaptiveAvgPool2d":
            kind, fields = "adaptive_avgpool", {"output_size": s.pair(t.arg(0, "output_size"), "output_size", line)}
        elif t.ctor == "LocalResponseNorm":
            kind = "lrn"
            fields = self._lrn(t.arg(0, "size"), t.arg(1, "alpha", 1e-4), t.arg(2, "beta", 0.75), t.arg(3, "k", 1.0), line)
        elif t.ctor in ("BatchNorm2d", "BatchNorm1d"):
            kind, declared = "batchnorm", s.integer(t.arg(0, "num_features"), "num_features", line)
            self._opt(fields, "eps", t.arg(1, "eps", 1e-5), 1e-5, s.number, line)
            self._opt(fields, "momentum", t.arg(2, "momentum", 0.1), 0.1, s.number, line)
        elif t.ctor in ("ReLU", "Tanh", "Sigmoid", "Softmax", "Flatten", "ReLU6", "Hardswish"):
            kind = t.ctor.lower()
        elif t.ctor == "LeakyReLU":
            kind, fields = "leaky_relu", {"slope": s.number(t.arg(0, "negative_slope", 0.01), "negative_slope", line)}
        elif t.ctor == "ELU":
            kind, fields = "elu", {"alpha": s.number(t.arg(0, "alpha", 1.0), "alpha", line)}
        elif t.ctor == "GELU":
            kind, fields = "gelu", {"approximate": t.arg(0, "approximate", "none")}
        elif t.ctor == "ZeroPad2d":
            pad = t.arg(0, "padding")
            if isinstance(pad, (tuple, list)) and len(pad) == 4:  # PyTorch's (left, right, top, bottom)
                pad = [s.integer(pad[2], "padding", line), s.integer(pad[3], "padding", line),
                       s.integer(pad[0], "padding", line), s.integer(pad[1], "padding", line)]
            kind, fields = "zeropad", {"padding": pad if isinstance(pad, list) else s.integer(pad, "padding", line)}
        elif t.ctor in ("Dropout", "Dropout2d"):
            kind, fields = "dropout", {"p": s.number(t.arg(0, "p", 0.5), "p", line)}
            if t.ctor == "Dropout2d":
                self.reading.assumed.append(f"line {self.sizes.file_line(line)}: Dropout2d (whole channels) read as dropout")
        if kind is None:
            if t.ctor != "Identity":
                self.reading.note_unreadable(line, f"{t.code}: nn.{t.ctor} is not a layer kind a spec holds (left out)")
            return []
        declared_text = _declared_text(t)
        return [Node(kind, tuple(fields.items()), self.names.take(name, scope), line, t.code,
                     declared, declared_text, scope)]

    def _opt(self, fields: dict[str, Any], key: str, value: Any, default: Any, conv: Any, line: int) -> None:
        if value is not None and value != default and value != (default, default):
            fields[key] = conv(value, key, line)

    def _pool(self, kernel: Any, stride: Any, padding: Any, ceil: Any, line: int) -> dict[str, Any]:
        s = self.sizes
        fields: dict[str, Any] = {"kernel": s.pair(kernel, "kernel_size", line)}
        if stride is not None and stride != []:
            fields["stride"] = s.pair(stride, "stride", line)
        if padding not in (0, (0, 0)):
            fields["padding"] = s.pair(padding, "padding", line)
        if ceil is True:
            fields["ceil_mode"] = True
        return fields

    def _lrn(self, size: Any, alpha: Any, beta: Any, k: Any, line: int) -> dict[str, Any]:
        s = self.sizes
        return {"size": s.integer(size, "size", line), "alpha": s.number(alpha, "alpha", line),
                "beta": s.number(beta, "beta", line), "k": s.number(k, "k", line)}

    def functional(self, kind: str, args: list[Any], kwargs: dict[str, Any], node: ast.Call, walk: Walk) -> Tensor:
        x: Tensor = args[0]
        line, s = node.lineno, self.sizes
        fields: dict[str, Any] = {}
        if kind in ("maxpool", "avgpool"):
            get = _getter(args, kwargs, ["input", "kernel_size", "stride", "padding"])
            fields = self._pool(get("kernel_size"), get("stride"), get("padding", 0), kwargs.get("ceil_mode", False), line)
        elif kind == "adaptive_avgpool":
            fields = {"output_size": s.pair(_getter(args, kwargs, ["input", "output_size"])("output_size"), "output_size", line)}
        elif kind == "dropout":
            get = _getter(args, kwargs, ["input", "p", "training"])
            fields = {"p": s.number(get("p", 0.5), "p", line)}
            if get("training", True) is False:
                return x  # F.dropout(..., training=False) never drops
        elif kind == "lrn":
            get = _getter(args, kwargs, ["input", "size", "alpha", "beta", "k"])
            fields = self._lrn(get("size"), get("alpha", 1e-4), get("beta", 0.75), get("k", 1.0), line)
        elif kind == "leaky_relu":
            fields = {"slope": s.number(_getter(args, kwargs, ["input", "negative_slope"])("negative_slope", 0.01), "negative_slope", line)}
        elif kind == "elu":
            fields = {"alpha": s.number(_getter(args, kwargs, ["input", "alpha"])("alpha", 1.0), "alpha", line)}
        elif kind == "flatten":
            start = _getter(args, kwargs, ["input", "start_dim"])("start_dim", 0)
            if start not in (1, -3) and x.nodes:
                self.reading.assumed.append(f"line {s.file_line(line)}: flatten from dim {start} read as flattening each sample")
        prev = x.nodes[-1] if x.nodes else None
        scope = self.scope
        same = prev is not None and prev.scope == scope and kind != "flatten"
        stem = self.stems.get(prev.qualified, prev.name) if same and prev is not None else None
        name = self.names.take(f"{stem}_{kind}" if stem else kind, scope)
        if stem:
            self.stems[".".join(scope + (name,))] = stem  # F.max_pool2d(F.relu(self.conv1(x))): conv1_relu, conv1_maxpool
        return x.then(Node(kind, tuple(fields.items()), name, line, walk.code(node), scope=scope))

    def reshape(self, x: Tensor, sizes: list[Any], node: ast.Call, walk: Walk) -> Tensor:
        flat = self.functional("flatten", [x], {"start_dim": 1}, node, walk)
        stated = [v for v in sizes[1:] if isinstance(v, int) and not isinstance(v, bool)]
        if len(sizes) == 2 and len(stated) == 1 and stated[0] > 0:
            self.reading.checks.append(Check("flatten_size", flat.nodes[-1].qualified, stated[0], node.lineno, walk.code(node)))
        return flat

    def merge(self, kind: str, branches: list[Tensor], node: ast.AST, walk: Walk) -> Tensor:
        name = self.names.take(kind, self.scope)
        merge = Node(kind, (), name, node.lineno, walk.code(node), scope=self.scope)  # type: ignore[attr-defined]
        return branches[0].join(branches[1:], merge)

    def binop(self, walk: Walk, op: ast.operator, left: Any, right: Any, node: ast.AST) -> Any:
        if isinstance(op, ast.Add) and isinstance(left, Tensor) and isinstance(right, Tensor):
            return self.merge("add", [left, right], node, walk)  # out += identity: a residual block
        raise NotMine

    # ------------------------------------------------------------ initialisation

    def read_init(self, walk: Walk, fn: ast.FunctionDef) -> None:
        """Init rules by module class, in source order: robust to the if/elif nesting a page mangles."""
        current: str | None = None
        for node in _in_order(fn):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "isinstance" and len(node.args) == 2:
                classes = node.args[1].elts if isinstance(node.args[1], ast.Tuple) else [node.args[1]]
                kinds = {INIT_KIND.get(ast.unparse(c).rsplit(".", 1)[-1]) for c in classes} - {None}
                current = kinds.pop() if len(kinds) == 1 else None
            elif isinstance(node, ast.Call) and current is not None:
                rule = _init_rule(node, walk)
                if rule is not None:
                    part, spec = rule
                    self.init.setdefault(current, {})[part] = spec
                    self.reading.read.append((node.lineno, f"{current} {part} init: {walk.code(node)}"))


def _in_order(node: ast.AST) -> Iterator[ast.AST]:
    yield node
    for child in ast.iter_child_nodes(node):
        yield from _in_order(child)


def _sets_init(fn: ast.FunctionDef) -> bool:
    return any(isinstance(n, ast.Call) and _init_rule(n, None) is not None for n in ast.walk(fn))


def _init_rule(call: ast.Call, walk: Walk | None) -> tuple[str, dict[str, Any]] | None:
    """`nn.init.normal_(m.weight, 0, 0.01)` or `m.weight.data.normal_(0, 0.01)` -> ("weight", INIT)."""
    func = call.func
    if not isinstance(func, ast.Attribute):
        return None
    name = func.attr
    if isinstance(func.value, ast.Attribute) and func.value.attr == "data":
        tensor, args = func.value.value, call.args
    elif call.args:
        tensor, args = call.args[0], call.args[1:]
    else:
        return None
    if not (isinstance(tensor, ast.Attribute) and tensor.attr in ("weight", "bias")):
        return None
    try:
        values = [ast.literal_eval(a) for a in args]
        kw = {k.arg: ast.literal_eval(k.value) for k in call.keywords if k.arg}
    except ValueError:
        return None
    get = _getter(values, kw, ["a", "b", "c"])
    spec: dict[str, Any] | None = None
    if name in ("normal_",):
        spec = {"dist": "normal", "mean": float(kw.get("mean", get("a", 0.0))), "std": float(kw.get("std", get("b", 1.0)))}
    elif name in ("constant_", "fill_"):
        spec = {"dist": "constant", "value": float(kw.get("val", get("a", 0.0)))}
    elif name in ("zeros_", "zero_"):
        spec = {"dist": "constant", "value": 0.0}
    elif name == "ones_":
        spec = {"dist": "constant", "value": 1.0}
    elif name == "uniform_":
        spec = {"dist": "uniform", "low": float(kw.get("a", kw.get("from", get("a", 0.0)))), "high": float(kw.get("b", kw.get("to", get("b", 1.0))))}
    elif name == "xavier_uniform_" and kw.get("gain", get("a", 1.0)) == 1.0:
        spec = {"dist": "glorot_uniform"}
    elif name == "kaiming_normal_":
        spec = {"dist": "kaiming_normal", "mode": kw.get("mode", "fan_in"), "nonlinearity": kw.get("nonlinearity", "leaky_relu")}
        if spec["nonlinearity"] == "leaky_relu" and kw.get("a", get("a", 0)) == 0:
            spec["nonlinearity"] = "relu"  # leaky_relu with slope 0 is relu's gain
    return (tensor.attr, spec) if spec is not None else None


def _getter(args: list[Any], kwargs: dict[str, Any], names: list[str]) -> Any:
    def get(key: str, default: Any = None) -> Any:
        if key in kwargs:
            return kwargs[key]
        i = names.index(key)
        return args[i] if i < len(args) else default
    return get


def _declared_text(t: Template) -> str | None:
    """The first argument as written: the declared input size (`16 * 4 * 4`)."""
    try:
        call = ast.parse(t.code, mode="eval").body
    except SyntaxError:
        return None
    if not isinstance(call, ast.Call):
        return None
    for kw in call.keywords:
        if kw.arg in ("in_channels", "in_features", "num_features"):
            return ast.unparse(kw.value)
    return ast.unparse(call.args[0]) if call.args else None


def make_hooks(reading: Reading, sizes: Sizes) -> TorchHooks:
    return TorchHooks(reading, sizes)


def read(walk: Walk, chosen: Any, hooks: TorchHooks, reading: Reading) -> None:
    if chosen.style == "class":
        read_class(walk, chosen.node, hooks, reading)
    else:
        model = walk.module.get(chosen.name)
        if not isinstance(model, Container):
            raise Unknown(f"{chosen.name} is not a Sequential this importer reads", chosen.node.lineno)
        reading.nodes = list(hooks.apply(model, Tensor(), chosen.name, walk=walk).nodes)
        reading.nodes = [replace(n, scope=n.scope[1:]) for n in reading.nodes]  # the model is the top level
    rules = {kind: {"weight": {"dist": "pytorch"}, "bias": {"dist": "pytorch"}, **parts} for kind, parts in hooks.init.items()}
    reading.nodes = [n.with_fields(init=rules[n.kind]) if n.kind in rules else n for n in reading.nodes]
