"""Counting, and eager training, without importing torch._dynamo."""

from __future__ import annotations

import contextlib
import sys
import types
from collections.abc import Callable, Iterator
from typing import Any


@contextlib.contextmanager
def without_dynamo_import() -> Iterator[None]:
    """Run the block without importing torch._dynamo (which takes as long as torch).

    Functions inside torch (FlopCounterMode's `__torch_dispatch__`, the device context that
    builds a network on meta, an optimiser's `add_param_group`) are wrapped in
    `torch._disable_dynamo`, which on its first call imports torch._dynamo only to wrap the
    function in `torch._dynamo.disable`, and caches the result on it as `__dynamo_disable`; an
    optimiser's `step` calls `torch._dynamo.graph_break()`, which does nothing outside a compiled
    graph. Nothing in the block runs under torch.compile, so the disabled function is the function
    itself and a graph break is nothing: for the block only, `torch._dynamo` is a stand-in with
    just those two. Afterwards the stand-in and every cached entry are removed, so later code (a
    compiled run in the same process) gets the real wrapping. No figure changes: the same
    kernels run in the same order.
    """
    if "torch._dynamo" in sys.modules:  # already paid for: use it
        yield
        return
    cached: list[Callable[..., Any]] = []

    def disable(fn: Callable[..., Any], recursive: bool = True, wrapping: bool = True) -> Callable[..., Any]:
        cached.append(fn)
        return fn

    stand_in = types.ModuleType("torch._dynamo", "stand-in used only while counting or training eagerly")
    # A bare ModuleType has no attributes mypy knows of: these two are the ones torch calls.
    stand_in.disable = disable  # type: ignore[attr-defined]
    stand_in.graph_break = lambda msg="": None  # type: ignore[attr-defined]
    sys.modules["torch._dynamo"] = stand_in
    try:
        yield
    finally:
        if sys.modules.get("torch._dynamo") is stand_in:
            del sys.modules["torch._dynamo"]
        for fn in cached:
            if getattr(fn, "__dynamo_disable", None) is fn:
                delattr(fn, "__dynamo_disable")
