"""A counting pass on meta tensors that imports neither torch._dynamo nor sympy.

Both are imported lazily by PyTorch on the first meta kernel it runs in Python, for machinery
that concrete shapes never use; importing them costs about as long as importing torch itself.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import operator
import sys
import types
from collections.abc import Callable, Iterator
from typing import Any


@contextlib.contextmanager
def without_dynamo_import() -> Iterator[None]:
    """Count on meta tensors without importing torch._dynamo (which takes as long as torch).

    Functions inside torch (FlopCounterMode's `__torch_dispatch__`, the Python reference kernels
    and decompositions that meta tensors run, under FlopCounterMode or in fvcore's trace) are
    wrapped in `torch._disable_dynamo`, which on its first call imports torch._dynamo only to
    wrap the function in `torch._dynamo.disable`, and caches the result on it as
    `__dynamo_disable`. Nothing here runs under torch.compile, so the disabled
    function is the function itself: for this pass only, `torch._dynamo` is a stand-in whose
    `disable` returns the function unchanged. Afterwards the stand-in and every cached entry are
    removed, so later code (a `train --compile` in the same process) gets the real wrapping.
    No count changes: the same kernels run in the same order.
    """
    if "torch._dynamo" in sys.modules:  # already paid for: use it
        with _without_sympy():
            yield
        return
    cached: list[Callable[..., Any]] = []

    def disable(fn: Callable[..., Any], recursive: bool = True, wrapping: bool = True) -> Callable[..., Any]:
        cached.append(fn)
        return fn

    stand_in = types.ModuleType("torch._dynamo", "stand-in used only while analysis counts on meta tensors")
    stand_in.disable = disable  # type: ignore[attr-defined]
    sys.modules["torch._dynamo"] = stand_in
    try:
        with _without_sympy():
            yield
    finally:
        if sys.modules.get("torch._dynamo") is stand_in:
            del sys.modules["torch._dynamo"]
        for fn in cached:
            if getattr(fn, "__dynamo_disable", None) is fn:
                delattr(fn, "__dynamo_disable")


SYMBOLIC_SHAPES = "torch.fx.experimental.symbolic_shapes"


@contextlib.contextmanager
def _without_sympy() -> Iterator[None]:
    """Let meta kernels run without importing torch.fx.experimental.symbolic_shapes (and sympy).

    Every `torch._check` in a Python meta kernel imports `expect_true` from it, which for a
    plain bool (all a meta tensor of concrete sizes gives) returns the bool, as `guard_or_true`
    and `guard_or_false` do (and `guarding_hint_or_throw` for an int; `has_guarding_hint` is
    then True, `is_nested_int` False); `sym_and` and `sym_or` only fold `&` and `|`, `sym_eq` compares ints. For this pass the
    module is a stand-in with those; anything else asked of it (a symbolic bool, any
    other name) imports the real module and answers from it, so nothing can differ.
    """
    if SYMBOLIC_SHAPES in sys.modules:
        yield
        return

    def real() -> types.ModuleType:
        if sys.modules.get(SYMBOLIC_SHAPES) is stand_in:
            del sys.modules[SYMBOLIC_SHAPES]
        return importlib.import_module(SYMBOLIC_SHAPES)

    def expect_true(a: Any, skip: int = 0) -> bool:
        return a if type(a) is bool else real().expect_true(a, skip + 1)

    def plain_or_real(fname: str, plain: tuple[type, ...], value: Callable[[Any], Any] = lambda a: a) -> Callable[..., Any]:
        """The real function's answer for a plain Python value, else the real function's."""
        return lambda a: value(a) if type(a) in plain else getattr(real(), fname)(a)

    def reduce(op: Callable[[Any, Any], Any]) -> Callable[..., Any]:
        return lambda x, *others: functools.reduce(op, others, x)  # sym_and, sym_or: that is all they do

    def sym_eq(x: Any, y: Any) -> Any:  # the real one's code, for shapes of plain ints
        if isinstance(x, (tuple, list)) and isinstance(y, (tuple, list)):
            return len(x) == len(y) and functools.reduce(operator.and_, map(sym_eq, x, y), True)
        return x == y if type(x) is int and type(y) is int else real().sym_eq(x, y)

    stand_in = types.ModuleType(SYMBOLIC_SHAPES, "stand-in used only while analysis counts on meta tensors")
    stand_in.expect_true = expect_true  # type: ignore[attr-defined]
    stand_in.guard_or_true = plain_or_real("guard_or_true", (bool,))  # type: ignore[attr-defined]
    stand_in.guard_or_false = plain_or_real("guard_or_false", (bool,))  # type: ignore[attr-defined]
    stand_in.guarding_hint_or_throw = plain_or_real("guarding_hint_or_throw", (bool, int))  # type: ignore[attr-defined]
    stand_in.has_guarding_hint = plain_or_real("has_guarding_hint", (bool, int), lambda a: True)  # type: ignore[attr-defined]
    stand_in.is_nested_int = plain_or_real("is_nested_int", (bool, int, float), lambda a: False)  # type: ignore[attr-defined]
    stand_in.sym_eq = sym_eq  # type: ignore[attr-defined]
    stand_in.sym_and = reduce(operator.and_)  # type: ignore[attr-defined]
    stand_in.sym_or = reduce(operator.or_)  # type: ignore[attr-defined]
    def other(name: str) -> Any:
        if name.startswith("__"):  # the import system asks for `__path__` and the like
            raise AttributeError(name)
        return getattr(real(), name)

    stand_in.__getattr__ = other  # type: ignore[attr-defined]
    sys.modules[SYMBOLIC_SHAPES] = stand_in
    try:
        yield
    finally:
        if sys.modules.get(SYMBOLIC_SHAPES) is stand_in:
            del sys.modules[SYMBOLIC_SHAPES]
