"""Booleans are not numbers, and no number is astronomically large: one check that every spec
and record model shares.

YAML reads bare `yes`, `on`, `true` as booleans, and pydantic's lax mode turns them into 1 (or
"1.0"), so `out_channels: on` would build a one-channel layer. `refuse_stray_values` runs before
a model's own validation and refuses a boolean wherever the field's annotation does not name
`bool`, inside lists and tuples too; and any integer beyond MAX_INT, which no field needs and
which Python cannot even print past 4,300 digits. Nested models carry the check themselves, so
it stops at them; a new field in any model is covered without further code.
"""

from __future__ import annotations

import functools
import types
import typing
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, ConfigDict, model_validator

from .arith import MAX_MAGNITUDE

_UNIONS = (typing.Union, types.UnionType)
MAX_INT = int(MAX_MAGNITUDE)  # 10^30: no figure in a spec or record may exceed what a formula may


def _members_of(annotation: Any) -> tuple[Any, ...]:
    """The alternatives an annotation allows, with `Annotated` metadata stripped."""
    while typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    if typing.get_origin(annotation) in _UNIONS:
        return tuple(m for arg in typing.get_args(annotation) for m in _members(arg))
    return (annotation,)


_members_memo = functools.lru_cache(maxsize=None)(_members_of)


def _members(annotation: Any) -> tuple[Any, ...]:
    # The models' annotations are few and asked about for every value of every spec: taking them
    # apart once took loading the 17 shipped specs from 0.35 to 0.23 s. Unhashable metadata is taken
    # apart each time.
    try:
        return _members_memo(annotation)
    except TypeError:
        return _members_of(annotation)


def _allows_bool(member: Any) -> bool:
    if member is bool or member is Any or member is object:
        return True
    if typing.get_origin(member) is typing.Literal:
        return any(isinstance(v, bool) for v in typing.get_args(member))
    return isinstance(member, type) and issubclass(member, BaseModel)  # checked by that model itself


def _element_types(member: Any, length: int) -> tuple[Any, ...] | None:
    """The annotation of each element, when `member` is a list or tuple type; else None."""
    origin, args = typing.get_origin(member), typing.get_args(member)
    if origin in (list, set, frozenset) or (origin is tuple and len(args) == 2 and args[1] is Ellipsis):
        return (args[0] if args else Any,) * length
    if origin is tuple:
        return args if len(args) == length else None
    return None


def bool_path(annotation: Any, value: Any) -> tuple[int, ...] | None:
    """Where in `value` a boolean stands that `annotation` does not allow (() for `value`
    itself), or None when there is none."""
    members = _members(annotation)
    if isinstance(value, bool):
        return None if any(_allows_bool(m) for m in members) else ()
    if not isinstance(value, (list, tuple)) or any(_allows_bool(m) for m in members):
        return None
    found: tuple[int, ...] | None = None
    for member in members:
        elements = _element_types(member, len(value))
        if elements is None:
            continue
        inner = next(((i,) + p for i, (t, v) in enumerate(zip(elements, value)) if (p := bool_path(t, v)) is not None), None)
        if inner is None:
            return None  # one reading of the value holds no stray boolean
        found = found or inner
    return found


def _huge_path(value: Any) -> tuple[int, ...] | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return () if abs(value) > MAX_INT else None
    if isinstance(value, (list, tuple)):
        return next(((i,) + p for i, v in enumerate(value) if (p := _huge_path(v)) is not None), None)
    return None


def refuse_stray_values(model: type[BaseModel], data: Any) -> Any:
    """`data` unchanged, or ValueError naming the first field that holds a stray boolean or an
    integer beyond MAX_INT."""
    if not isinstance(data, dict):
        return data
    for name, field in model.model_fields.items():
        key = field.alias or name
        if key not in data:
            continue
        path = bool_path(field.annotation, data[key])
        if path is not None:
            where = ".".join([key, *map(str, path)])
            raise ValueError(f"{where}: a boolean where a number or text belongs (YAML reads bare "
                             "yes/no/on/off/true/false as booleans: write the number, or quote the text)")
        path = _huge_path(data[key])
        if path is not None:
            where = ".".join([key, *map(str, path)])
            raise ValueError(f"{where}: an integer larger than 10^30 in magnitude, beyond any figure here")
    return data


class Frozen(BaseModel):
    """The base of every spec and record model: immutable, no unknown fields, no infinities or
    NaN (a subclass may allow them), and the stray-value check above."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    @model_validator(mode="before")
    @classmethod
    def _no_stray_values(cls, data: object) -> object:
        return refuse_stray_values(cls, data)


def error_path(loc: tuple[Any, ...], data: Any,
               is_tag: Callable[[dict[Any, Any], Any], bool] = lambda node, part: False) -> tuple[Any, ...]:
    """A pydantic error location as the path into the validated `data` (the spec's and the fact
    base's errors are located alike): the union members pydantic puts in it are dropped (`is_tag`:
    a part of a mapping's location that names the member tried, not a field); a missing or
    unknown field is named and ends the path."""
    out: list[Any] = []
    cur = data
    for part in loc:
        if isinstance(cur, dict) and part in cur:
            out.append(part)
            cur = cur[part]
        elif isinstance(cur, list) and isinstance(part, int) and part < len(cur):
            out.append(part)
            cur = cur[part]
        elif isinstance(cur, dict) and not is_tag(cur, part):
            out.append(part)  # a missing or unknown field: name it
            cur = None
    return tuple(out)
