"""The contract between the walk over a listing (interp.py) and a framework's reader.

The walk evaluates what is written and hands every call it does not own to the reader's
`Hooks`; a hook raises `NotMine` for a call that is not its framework's, and the walk then
treats the call as it would any unknown one.
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .consts import Function
    from .interp import Walk


class NotMine(Exception):
    """Raised by a hook for a call it does not read."""


class Hooks:
    known: frozenset[str] = frozenset()  # framework names a post may use without importing them

    def call(self, walk: Walk, callee: Any, args: list[Any], kwargs: dict[str, Any], node: ast.Call,
             hint: str | None) -> Any:
        raise NotMine

    def binop(self, walk: Walk, op: ast.operator, left: Any, right: Any, node: ast.expr | ast.stmt) -> Any:
        raise NotMine

    def function(self, walk: Walk, fn: Function, args: list[Any], node: ast.Call) -> Any:
        raise NotMine
