"""A PyTorch model's initialisation method (`nn.init.*_`, `m.weight.data.normal_`) as each conv and
linear layer's spec `init`, read by module class in the order the method states its rules."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from typing import Any

from .interp import Walk
from .reading import Reading

INIT_KIND = {"Conv2d": "conv", "Linear": "linear"}


def read_init(walk: Walk, fn: ast.FunctionDef, init: dict[str, dict[str, dict[str, Any]]], reading: Reading) -> None:
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
                init.setdefault(current, {})[part] = spec
                reading.read.append((node.lineno, f"{current} {part} init: {walk.code(node)}"))


def _in_order(node: ast.AST) -> Iterator[ast.AST]:
    yield node
    for child in ast.iter_child_nodes(node):
        yield from _in_order(child)


def sets_init(fn: ast.FunctionDef) -> bool:
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
