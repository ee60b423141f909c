"""A model class's layers, read the same way for every framework: __init__ then forward()/call().

__init__ runs (statically) with the constructor's arguments from the listing's own call of
the class, where it makes one; forward() (PyTorch) or call() (Keras) then applies the layers to
the input tensor, which gives their order. Layers defined but never applied are findings.
"""

from __future__ import annotations

import ast
from typing import Any

from .consts import Container, Function, Obj, Opaque, Template, Tensor, Unknown
from .interp import Walk
from .reading import Check, Reading


def read_class(walk: Walk, cls: ast.ClassDef, hooks: Any, reading: Reading) -> None:
    """Walk __init__ (with the constructor's arguments) then forward()."""
    obj = Obj(cls)
    init = obj.method("__init__")
    if init is not None:
        args, kwargs = constructor_args(walk, cls, reading)
        walk.invoke(Function(init, obj), args, kwargs, init)
    forward = obj.method("forward") or obj.method("call")
    if forward is None:
        reading.assumed.append(f"{cls.name} has no forward(): the layers are taken in the order __init__ defines them")
        x = Tensor()
        for name, value in obj.attrs.items():
            if isinstance(value, (Template, Container)):
                x = hooks.apply_attr(value, x, name, walk)
        reading.nodes = list(x.nodes)
        return
    x = Tensor()
    out = walk.invoke(Function(forward, obj), [x], {}, forward)
    if not isinstance(out, Tensor):
        reading.note_unreadable(forward.lineno, f"{forward.name}() does not return the network's tensor")
        out = x
    reading.nodes = list(out.nodes)
    _unused(obj, (), hooks.applied, reading)


def _unused(obj: Obj, scope: tuple[str, ...], applied: set[int], reading: Reading) -> None:
    """Modules bound in __init__ that the forward pass never applied, sub-modules' included."""
    for name, value in obj.attrs.items():
        if not isinstance(value, (Template, Container, Obj)):
            continue
        if id(value) not in applied:
            line = value.cls.lineno if isinstance(value, Obj) else value.line
            reading.checks.append(Check("unused_layer", ".".join(scope + (name,)), None, line,
                                        getattr(value, "code", None) or name))
        elif isinstance(value, Obj):
            _unused(value, scope + (name,), applied, reading)
        elif isinstance(value, Container):
            for i, (key, child) in enumerate(value.items):
                if isinstance(child, Obj):
                    _unused(child, scope + (name, key if key is not None else str(i)), applied, reading)


def constructor_args(walk: Walk, cls: ast.ClassDef, reading: Reading) -> tuple[list[Any], dict[str, Any]]:
    """The constructor's arguments from the first call of the class the listing makes with known values."""
    for node in ast.walk(walk.tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == cls.name and (node.args or node.keywords):
            try:
                args = [walk.eval(a, walk.module) for a in node.args]
                kwargs = {k.arg: walk.eval(k.value, walk.module) for k in node.keywords if k.arg}
            except Unknown:
                continue
            if any(isinstance(v, Opaque) for v in args + list(kwargs.values())):
                continue
            note = (node.lineno, f"constructor arguments: {walk.code(node)}")
            if note not in reading.read:
                reading.read.append(note)
            return args, kwargs
    return [], {}
