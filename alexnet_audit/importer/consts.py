"""Values a listing's expressions evaluate to, without running them.

Only what is written is evaluated: literals, arithmetic (`16 * 4 * 4`), names bound earlier
(`num_classes` from a default or a call), containers, and the calls a reader recognises (a
layer constructor becomes a `Template`). Everything else is `Opaque`: known to exist, value
unknown. A name the listing never binds raises `Unknown` with `undefined=True`.
"""

from __future__ import annotations

import ast
import operator
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from .reading import Node

MAX_INT = 10**15  # figures of real networks stay far below; a listing's 10**100 is not one
MAX_POWER = 64
MAX_SEQUENCE = 4096  # items of a list, tuple or string a listing's expression may build
MAX_NESTING = 64  # lists within lists; a layer table needs two or three


class Unknown(Exception):
    """An expression whose value cannot be read statically."""

    def __init__(self, message: str, line: int, *, name: str | None = None, undefined: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.name = name
        self.undefined = undefined


@dataclass(frozen=True)
class Opaque:
    """A value that exists in the listing but is not known statically (an argument, a data set)."""

    name: str


@dataclass(frozen=True)
class Ref:
    """A dotted name from an import (`torch.nn.Conv2d`), resolved through the listing's aliases."""

    path: str

    @property
    def last(self) -> str:
        return self.path.rsplit(".", 1)[-1]


@dataclass(frozen=True)
class Template:
    """A layer constructor call as written: the reader that made it knows how to apply it."""

    ctor: str  # the class name (Conv2d, Dense, ...)
    args: tuple[Any, ...]
    kwargs: tuple[tuple[str, Any], ...]
    line: int
    code: str
    name: str | None = None  # the attribute or variable it was bound to

    def arg(self, index: int, key: str, default: Any = None) -> Any:
        kw = dict(self.kwargs)
        if key in kw:
            return kw[key]
        return self.args[index] if index < len(self.args) else default


@dataclass
class Container:
    """nn.Sequential / keras Sequential: named or numbered children in order."""

    ctor: str
    items: list[tuple[str | None, Any]] = field(default_factory=list)
    line: int = 0
    name: str | None = None


@dataclass(frozen=True)
class Method:
    """`obj.name` awaiting its call (x.view, layers.append, model.add)."""

    obj: Any
    name: str


@dataclass(frozen=True, eq=False)
class ClassRef:
    """A class the listing defines (a sub-module such as a conv-bn-relu block)."""

    node: ast.ClassDef


@dataclass(frozen=True)
class Function:
    """A def in the listing: a method (owner set) or a module-level function."""

    node: ast.FunctionDef | ast.AsyncFunctionDef
    owner: Any = None


@dataclass(frozen=True)
class Tensor:
    """The network's activation: the layers applied so far (every branch's), in order; the last
    one produced it."""

    nodes: tuple[Node, ...] = ()

    @property
    def head(self) -> str:
        return self.nodes[-1].qualified if self.nodes else ""

    def then(self, *nodes: Node) -> Tensor:
        """These layers applied in turn, each fed by the one before."""
        out, head = list(self.nodes), self.head
        for node in nodes:
            node = replace(node, inputs=(head,))
            out.append(node)
            head = node.qualified
        return Tensor(tuple(out))

    def join(self, others: list[Tensor], merge: Node) -> Tensor:
        """Branches meeting at a merge node (add, concat)."""
        out = list(self.nodes)
        seen = {n.qualified for n in out}
        for other in others:
            out += [n for n in other.nodes if n.qualified not in seen]
            seen |= {n.qualified for n in other.nodes}
        return Tensor(tuple(out) + (replace(merge, inputs=tuple(t.head for t in [self] + others)),))


@dataclass
class Obj:
    """`self` of the model class: attributes bound in __init__, methods from the class body."""

    cls: ast.ClassDef
    attrs: dict[str, Any] = field(default_factory=dict)
    name: str | None = None  # the attribute it is bound to, for a sub-module

    def method(self, name: str) -> ast.FunctionDef | None:
        for stmt in self.cls.body:
            if isinstance(stmt, ast.FunctionDef) and stmt.name == name:
                return stmt
        return None


_BINOPS: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod, ast.Div: operator.truediv,
}
_COMPARE: dict[type, Callable[[Any, Any], bool]] = {
    ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le,
    ast.Gt: operator.gt, ast.GtE: operator.ge, ast.Is: operator.is_, ast.IsNot: operator.is_not,
}
_PLAIN = (int, float, str, bool, type(None))


def plain(value: Any) -> bool:
    """A value arithmetic may use: numbers, strings, and tuples or lists of them."""
    if isinstance(value, (tuple, list)):
        return all(plain(v) for v in value)
    return isinstance(value, _PLAIN)


def items_in(value: Any) -> tuple[int, int]:
    """How many items `value` holds and how deep its lists nest, each nested list or tuple counted
    as often as it is referenced (as a walk over it or `str()` meets it: `[[0] * 9] * 9` holds 90),
    each distinct one taken apart once; a string counts its characters. Iterative, so no nesting
    overflows Python's stack; a list that holds itself counts once."""
    if isinstance(value, str):
        return len(value), 0
    sizes: dict[int, tuple[int, int]] = {}
    stack: list[tuple[Any, bool]] = [(value, False)]
    while stack:
        v, children_done = stack.pop()
        if not isinstance(v, (list, tuple)) or (id(v) in sizes and not children_done):
            continue
        if not children_done:
            sizes[id(v)] = (0, 0)  # until its children are counted: a cycle back to it adds nothing
            stack.append((v, True))
            stack.extend((c, False) for c in v if isinstance(c, (list, tuple)) and id(c) not in sizes)
            continue
        inner = [sizes[id(c)] if isinstance(c, (list, tuple)) else (len(c) if isinstance(c, str) else 0, 0) for c in v]
        sizes[id(v)] = (len(v) + sum(n for n, _ in inner), 1 + max((d for _, d in inner), default=0))
    return sizes.get(id(value), (0, 0))


def bounded(value: Any, line: int) -> Any:
    """`value`, or Unknown for a sequence past MAX_SEQUENCE items in all or MAX_NESTING levels:
    every list and tuple an expression builds passes here, so no later walk, comparison or `str()`
    of it can run for hours (`[[[0] * 4096] * 4096] * 4096` is 69 billion items in 12 KB)."""
    items, depth = items_in(value)
    if items > MAX_SEQUENCE:
        raise Unknown("a sequence too long to evaluate", line)
    if depth > MAX_NESTING:
        raise Unknown("a sequence nested too deeply to evaluate", line)
    return value


def binop(op: ast.operator, left: Any, right: Any, line: int) -> Any:
    if not (plain(left) and plain(right)):
        raise Unknown("arithmetic on a value not known statically", line)
    if isinstance(op, ast.Pow):
        if not isinstance(right, int) or abs(right) > MAX_POWER:
            raise Unknown("a power too large to evaluate", line)
    elif type(op) not in _BINOPS:
        raise Unknown("an operator this reader does not evaluate", line)
    if isinstance(op, ast.Mult) and _repeated_length(left, right) > MAX_SEQUENCE:
        raise Unknown("a sequence too long to evaluate", line)  # before Python builds it: [0] * 10**9 is 8 GB
    if isinstance(op, ast.Mod) and isinstance(left, str) and _widest_field(left, right) > MAX_SEQUENCE:
        raise Unknown("a sequence too long to evaluate", line)  # likewise: "%*d" % (10**9, 1) is 1 GB of spaces
    try:
        result = left**right if isinstance(op, ast.Pow) else _BINOPS[type(op)](left, right)
    except (TypeError, ZeroDivisionError, ValueError, OverflowError):  # "a" ** 2, 0 ** -1, 1e300 ** 2, as 1 % 0
        raise Unknown("arithmetic that does not evaluate", line) from None
    if isinstance(op, ast.Div) and isinstance(result, float) and result.is_integer() and isinstance(left, int):
        result = int(result)
    if isinstance(result, int) and abs(result) > MAX_INT:
        raise Unknown("a number too large to be a layer size", line)
    return bounded(result, line)


def _repeated_length(left: Any, right: Any) -> int:
    """The length of a sequence times a count (0 for any other product)."""
    seq, count = (left, right) if isinstance(left, (tuple, list, str)) else (right, left)
    if isinstance(seq, (tuple, list, str)) and isinstance(count, int):
        return items_in(seq)[0] * count
    return 0


# A printf-style conversion's width and precision (`%-*d`, `%08.3f`, `%(name)5s`); `%%` is no field.
_FIELD = re.compile(r"%%|%(?:\([^)]*\))?[-#0 +]*(\*|\d*)(?:\.(\*|\d*))?")


def _widest_field(fmt: str, args: Any) -> int:
    """The widest field `fmt % args` pads to: a width or precision as written or, for a `*`, the
    largest count among the arguments (string formatting pads without bound, like `*` repeats)."""
    counts = [a for a in (args if isinstance(args, tuple) else (args,)) if isinstance(a, int)]
    widest = 0
    for size in (s for m in _FIELD.finditer(fmt) for s in m.groups() if s):
        # more digits than the bound has is past it (and int() refuses 4,300 digits and more)
        wide = max(counts, default=0) if size == "*" else (int(size) if len(size) <= len(str(MAX_SEQUENCE)) else MAX_SEQUENCE + 1)
        widest = max(widest, wide)
    return widest


def unary(op: ast.unaryop, value: Any, line: int) -> Any:
    if isinstance(op, ast.Not):
        return not truth(value, line)
    if not isinstance(value, (int, float)) or isinstance(value, bool) and not isinstance(op, ast.USub):
        raise Unknown("a sign on a value not known statically", line)
    if isinstance(op, ast.USub):
        return -value
    if isinstance(op, ast.UAdd):
        return value
    if isinstance(value, float):
        raise Unknown("arithmetic that does not evaluate", line)  # ~2.5 is a TypeError in Python
    return ~value


def truth(value: Any, line: int) -> bool:
    if isinstance(value, Opaque):
        raise Unknown(f"a condition on {value.name}, which is not known statically", line, name=value.name)
    if isinstance(value, (Template, Container, Ref, Function)):
        return True
    return bool(value)


def compare(ops: list[ast.cmpop], values: list[Any], line: int) -> bool:
    for op, left, right in zip(ops, values, values[1:]):
        if isinstance(op, (ast.In, ast.NotIn)):
            if not plain(right) or not plain(left):
                raise Unknown("a membership test on values not known statically", line)
            ok = (left in right) == isinstance(op, ast.In)
        elif type(op) in _COMPARE:
            if not (plain(left) and plain(right)):
                raise Unknown("a comparison of values not known statically", line)
            try:
                ok = _COMPARE[type(op)](left, right)
            except TypeError:
                raise Unknown("a comparison that does not evaluate", line) from None
        else:
            raise Unknown("a comparison this reader does not evaluate", line)
        if not ok:
            return False
    return True


_EVALUATED: dict[str, Callable[..., Any]] = {
    "int": int, "float": float, "abs": abs, "round": round, "len": len, "min": min, "max": max, "list": list,
    "tuple": tuple, "str": str, "bool": bool,
}


def builtin(name: str, args: list[Any], line: int) -> Any:
    """The few builtins layer sizes are written with."""
    if not all(plain(a) for a in args):
        raise Unknown(f"{name}() of a value not known statically", line)
    try:
        if name == "range" and 1 <= len(args) <= 3 and all(isinstance(a, int) for a in args):
            r = range(*args)
            if len(r) > MAX_SEQUENCE:
                raise Unknown("a range too long to unroll", line)
            return list(r)
        if name in _EVALUATED:
            return _EVALUATED[name](*args)
    except (TypeError, ValueError, OverflowError):  # int(1e400): an infinite float has no integer
        raise Unknown(f"{name}() that does not evaluate", line) from None
    raise Unknown(f"{name}() is not evaluated statically", line)


BUILTINS = {"range", "int", "float", "abs", "round", "len", "min", "max", "list", "tuple", "str", "bool",
            "print", "super", "isinstance", "dict", "enumerate", "zip", "open", "object", "Exception",
            "ValueError", "getattr", "setattr", "hasattr", "type", "sum", "map", "filter", "sorted", "reversed",
            "True", "False", "None", "__name__", "__file__", "input", "iter", "next", "any", "all", "set",
            "repr", "format", "vars", "id", "hash", "callable", "NotImplementedError", "RuntimeError",
            "KeyError", "TypeError", "IndexError", "AssertionError", "OSError", "staticmethod", "classmethod",
            "property", "exit", "quit", "__import__", "eval", "exec", "compile", "globals", "locals"}
