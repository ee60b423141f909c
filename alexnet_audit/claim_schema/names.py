"""Where a claim names a layer, stage or block of its spec: every value of a field typed
`LayerName`, found from the models' annotations.

The loader's check that each name exists, the renaming of a claim for the post's other reading
and the names that reading must have all read this one list, so a new claim kind or check
cannot be left out of any of them.
"""

from __future__ import annotations

import functools
import types
import typing
from typing import Any, Iterator

from pydantic import BaseModel

from .base import NamesLayer

FieldPath = tuple[str | int, ...]
_UNIONS = (typing.Union, types.UnionType)


def layer_names(model: BaseModel) -> list[tuple[FieldPath, str]]:
    """Each layer name `model` holds with its field path (`("check", "layers", 1)`), in field order,
    nested models included."""
    return list(_in_model(model, ()))


def _in_model(model: BaseModel, path: FieldPath) -> Iterator[tuple[FieldPath, str]]:
    for field, annotation in _searched_fields(type(model)):
        yield from _in_value(annotation, getattr(model, field), path + (field,))


# Every claim of every spec is searched at load: the fields of a model class that can hold a
# name (most cannot: id, where, quote, claimed) and each annotation's alternatives are worked
# out once per class and annotation, not once per value.
@functools.lru_cache(maxsize=None)
def _searched_fields(model: type[BaseModel]) -> tuple[tuple[str, Any], ...]:
    """The fields of `model` that may hold a layer name (marked, or holding models), with their annotations."""
    annotated = ((field, info.rebuild_annotation()) for field, info in model.model_fields.items())
    return tuple((field, annotation) for field, annotation in annotated if _may_name(annotation))


def _marked(annotation: Any) -> bool:
    """Whether `annotation` itself (not one it wraps) carries the NamesLayer mark."""
    return typing.get_origin(annotation) is typing.Annotated and any(
        isinstance(m, NamesLayer) for m in typing.get_args(annotation)[1:])


def _may_name(annotation: Any) -> bool:
    if _marked(annotation):
        return True
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return True
    return any(_may_name(arg) for arg in typing.get_args(annotation))


@functools.lru_cache(maxsize=None)
def _alternatives(annotation: Any) -> tuple[tuple[Any, bool], ...]:
    """Each type a union allows, with whether it is marked as naming a layer."""
    marked = False
    while typing.get_origin(annotation) is typing.Annotated:
        marked = marked or _marked(annotation)
        annotation = typing.get_args(annotation)[0]
    if typing.get_origin(annotation) in _UNIONS:
        return tuple(alt for arg in typing.get_args(annotation) for alt in _alternatives(arg))
    return ((annotation, marked),)


def _in_value(annotation: Any, value: Any, path: FieldPath) -> Iterator[tuple[FieldPath, str]]:
    if isinstance(value, BaseModel):
        yield from _in_model(value, path)
        return
    for kind, marked in _alternatives(annotation):
        origin, args = typing.get_origin(kind), typing.get_args(kind)
        if isinstance(value, str) and marked:
            yield path, value
            return
        if isinstance(value, (list, tuple)) and origin in (list, tuple) and args:
            for i, item in enumerate(value):
                yield from _in_value(args[0], item, path + (i,))
            return
        if isinstance(value, dict) and origin is dict and args:
            for key, item in value.items():
                yield from _in_value(args[0], key, path + (key,))
                yield from _in_value(args[1], item, path + (key,))
            return
