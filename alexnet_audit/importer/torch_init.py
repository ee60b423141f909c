"""A PyTorch model's initialisation method (`nn.init.*_`, `m.weight.data.normal_`) as each conv and
linear layer's spec `init`, read by module class in the order the method states its rules."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from ..errors import AuditError
from .interp import Walk
from .reading import Reading
from .signatures import Signature, bind, refused
from .torch_args import INIT_FUNCTIONS, INIT_METHODS

INIT_KIND = {"Conv2d": "conv", "Linear": "linear"}


def read_init(walk: Walk, fn: ast.FunctionDef | ast.AsyncFunctionDef, init: dict[str, dict[str, dict[str, Any]]],
              reading: Reading) -> None:
    """Init rules by module class, in source order: robust to the if/elif nesting a page mangles."""
    current: str | None = None
    for node in _in_order(fn):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "isinstance" and len(node.args) == 2:
            classes = node.args[1].elts if isinstance(node.args[1], ast.Tuple) else [node.args[1]]
            kinds = {INIT_KIND.get(ast.unparse(c).rsplit(".", 1)[-1]) for c in classes} - {None}
            current = kinds.pop() if len(kinds) == 1 else None
        elif isinstance(node, ast.Call) and current is not None and (found := init_call(node)) is not None:
            part, spec = _init_spec(found, walk.where(node))
            init.setdefault(current, {})[part] = spec
            reading.read.append((node.lineno, f"{current} {part} init: {walk.code(node)}"))


def _in_order(node: ast.AST) -> Iterator[ast.AST]:
    yield node
    for child in ast.iter_child_nodes(node):
        yield from _in_order(child)


def sets_init(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    return any(isinstance(n, ast.Call) and init_call(n) is not None for n in ast.walk(fn))


@dataclass(frozen=True)
class InitCall:
    """`nn.init.normal_(m.weight, 0, 0.01)` or `m.weight.data.normal_(0, 0.01)`: what it draws and how."""

    part: str  # weight or bias
    name: str  # normal_, ...
    sig: Signature | None  # None: an initialiser no spec holds
    args: list[ast.expr]
    keywords: list[ast.keyword]


def init_call(call: ast.Call) -> InitCall | None:
    """The call as the initialisation of a layer's weight or bias, or None if it is not one."""
    func = call.func
    if not isinstance(func, ast.Attribute) or not func.attr.endswith("_"):
        return None
    if isinstance(func.value, ast.Attribute) and func.value.attr == "data":  # m.weight.data.normal_(...)
        tensor, args, sig = func.value.value, call.args, INIT_METHODS.get(func.attr)
    elif call.args and ast.unparse(func.value).rsplit(".", 1)[-1] == "init":  # nn.init.normal_(m.weight, ...)
        tensor, args, sig = call.args[0], call.args[1:], INIT_FUNCTIONS.get(func.attr)
    else:
        return None
    if not (isinstance(tensor, ast.Attribute) and tensor.attr in ("weight", "bias")):
        return None
    return InitCall(tensor.attr, func.attr, sig, list(args), list(call.keywords))


def _init_spec(call: InitCall, where: str) -> tuple[str, dict[str, Any]]:
    """The spec INIT of the call: every argument bound by the table; what a spec cannot hold refused."""
    if call.sig is None:
        raise AuditError(f"{where}: {call.name} is not an initialiser a spec holds (refused rather than left out)")
    try:
        args = [ast.literal_eval(a) for a in call.args]
        kwargs = {k.arg: ast.literal_eval(k.value) for k in call.keywords if k.arg}
    except ValueError:
        raise AuditError(f"{where}: an argument of {call.name} is not a literal, so not known statically "
                         "(refused rather than guessed)") from None
    b = bind(call.sig, args, kwargs, where)
    for key, value in b.items():
        if key in ("mean", "std", "a", "b", "from", "to", "val", "value") and (isinstance(value, bool) or not isinstance(value, (int, float))):
            raise refused(where, key, value, "not a number")
    kind = call.sig.kind
    if kind == "normal":
        return call.part, {"dist": "normal", "mean": float(b["mean"]), "std": float(b["std"])}
    if kind == "uniform":  # nn.init's a and b, the method's from and to
        low, high = (b["a"], b["b"]) if "a" in b else (b["from"], b["to"])
        return call.part, {"dist": "uniform", "low": float(low), "high": float(high)}
    if kind == "constant":  # nn.init's val, the method's value, zeros_ and zero_ neither
        return call.part, {"dist": "constant", "value": float(b.get("val", b.get("value", 0.0)))}
    if kind == "ones":
        return call.part, {"dist": "constant", "value": 1.0}
    if kind == "truncated_normal":
        mean, std = float(b["mean"]), float(b["std"])
        if (b["a"], b["b"]) != (mean - 2 * std, mean + 2 * std):
            raise refused(where, "a, b", (b["a"], b["b"]), "a spec's truncated normal is cut at two standard deviations")
        return call.part, {"dist": "truncated_normal", "mean": mean, "std": std}
    if kind == "glorot_uniform":
        return call.part, {"dist": "glorot_uniform"}
    nonlinearity = "relu" if b["nonlinearity"] == "leaky_relu" else b["nonlinearity"]  # slope 0 (the table's a): relu's gain
    return call.part, {"dist": "kaiming_normal", "mode": b["mode"], "nonlinearity": nonlinearity}
