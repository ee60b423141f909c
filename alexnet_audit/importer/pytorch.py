"""PyTorch listings: an nn.Module's layers from __init__, their order from forward().

Modules (`nn.Conv2d`, `nn.Sequential`, nested, built from a list or an OrderedDict) become
templates in __init__; forward() applies them and the functional calls (`F.relu`,
`torch.flatten`, `x.view`, ...) to the input tensor, which gives the layer order. An
initialisation method called from __init__ (`self._initialize_weights()`, `self.apply(fn)`)
sets each conv/linear layer's init.
"""

from __future__ import annotations

import ast
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
from .hooks import Hooks, NotMine
from .interp import Walk
from .reading import Check, Node, Reading
from .signatures import bind
from .torch_args import FUNCTIONS, MODULES
from .torch_init import read_init, sets_init
from .torch_layers import functional_fields, module_fields

CONTAINERS = {"Sequential", "ModuleList"}


def is_module_class(cls: ast.ClassDef) -> bool:
    return any((ast.unparse(b).rsplit(".", 1)[-1]) == "Module" for b in cls.bases)


class TorchHooks(Hooks):
    known = frozenset(set(MODULES) | CONTAINERS | {"nn", "F", "torch"})

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
        if name in FUNCTIONS and args and isinstance(args[0], Tensor) and ("functional" in ref.path or ref.path.startswith("torch") or ref.path == name):
            return self.functional(name, args, kwargs, node, walk)
        raise NotMine

    def method(self, walk: Walk, m: Method, args: list[Any], kwargs: dict[str, Any], node: ast.Call) -> Any:
        obj = m.obj
        if isinstance(obj, Tensor):
            if m.name in ("view", "reshape"):
                sizes = list(args[0]) if len(args) == 1 and isinstance(args[0], (tuple, list)) else args
                return self.reshape(obj, sizes, node, walk)
            if m.name == "flatten":
                return self.functional("flatten", [obj] + args, kwargs, node, walk)
            if m.name in FUNCTIONS:
                return self.functional(m.name, [obj] + args, kwargs, node, walk)
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
        if fn.owner is not None and sets_init(fn.node):
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
        if isinstance(module, Obj) and walk is not None and (forward := module.method("forward")) is not None:
            outer, self.scope = self.scope, scope + (name,)
            try:
                out = walk.invoke(Function(forward, module), [x], {}, module.cls)
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
        sig = MODULES.get(t.ctor)
        if sig is None:
            self.reading.note_unreadable(t.line, f"{t.code}: nn.{t.ctor} is not a layer kind a spec holds (left out)")
            return []
        bound = bind(sig, t.args, dict(t.kwargs), f"{self.sizes.where(t.line)}: {t.code}")
        if sig.kind is None:
            return []
        fields, declared = module_fields(sig.kind, bound, self.sizes, t.line)
        if t.ctor == "Dropout2d":
            self.reading.assumed.append(f"{self.sizes.where(t.line)}: Dropout2d (whole channels) read as dropout")
        return [Node(sig.kind, tuple(fields.items()), self.names.take(name, scope), t.line, t.code,
                     declared, _declared_text(t), scope)]

    def functional(self, name: str, args: list[Any], kwargs: dict[str, Any], node: ast.Call, walk: Walk) -> Tensor:
        """`F.<name>(x, ...)`, `torch.<name>(x, ...)` or `x.<name>(...)` applied to the network's tensor x."""
        x: Tensor = args[0]
        line, sig = node.lineno, FUNCTIONS[name]
        bound = bind(sig, args[1:], kwargs, walk.where(node))
        if name == "dropout" and bound["training"] is False:
            return x  # F.dropout(x, training=False) never drops
        kind = sig.kind or name
        fields = functional_fields(kind, bound, self.sizes, line)
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

    def merge(self, kind: str, branches: list[Tensor], node: ast.expr | ast.stmt, walk: Walk) -> Tensor:
        name = self.names.take(kind, self.scope)
        merge = Node(kind, (), name, node.lineno, walk.code(node), scope=self.scope)
        return branches[0].join(branches[1:], merge)

    def binop(self, walk: Walk, op: ast.operator, left: Any, right: Any, node: ast.expr | ast.stmt) -> Any:
        if isinstance(op, ast.Add) and isinstance(left, Tensor) and isinstance(right, Tensor):
            return self.merge("add", [left, right], node, walk)  # out += identity: a residual block
        raise NotMine

    def read_init(self, walk: Walk, fn: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        read_init(walk, fn, self.init, self.reading)


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
