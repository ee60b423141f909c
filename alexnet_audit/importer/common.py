"""Helpers every reader shares: sizes from evaluated values, unique layer names."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from ..errors import AuditError
from .consts import Opaque
from .reading import Reading
from .signatures import refused

# A class count the listing leaves to its caller (TF1's num_class argument, say): the ImageNet one.
ASSUMED_CLASSES = 1000


class Sizes:
    """Turns evaluated arguments into spec sizes, naming what was assumed or cannot be read."""

    def __init__(self, reading: Reading, where: Callable[[int], str]) -> None:
        self.reading = reading
        # How a refusal or a note names its place, from a listing's line: "line N" of the file for
        # a listing; the live importer names the traced call as written and locates the error in
        # the user's file itself.
        self.where = where

    def integer(self, value: Any, what: str, line: int) -> int:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or int(value) != value:
            if isinstance(value, Opaque) and re.search(r"class", value.name, re.IGNORECASE):
                self.reading.note_assumed(f"{what} is {value.name}, which the listing leaves to its caller: "
                                          f"{ASSUMED_CLASSES} assumed")
                return ASSUMED_CLASSES
            raise self._unknown(value, what, line)
        return int(value)

    def pair(self, value: Any, what: str, line: int) -> int | list[int]:
        if isinstance(value, (tuple, list)):
            if len(value) != 2:
                raise AuditError(f"{self.where(line)}: {what} {list(value)} is not a pair")
            h, w = (self.integer(v, what, line) for v in value)
            return h if h == w else [h, w]
        return self.integer(value, what, line)

    def number(self, value: Any, what: str, line: int) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self._unknown(value, what, line)
        return float(value)

    def flag(self, value: Any, what: str, line: int) -> bool:
        if not isinstance(value, bool):
            raise self._unknown(value, what, line)
        return value

    def _unknown(self, value: Any, what: str, line: int) -> AuditError:
        if not isinstance(value, Opaque):  # a value the listing states, of the wrong sort
            return refused(self.where(line), what, value, "not a value this field holds")
        return AuditError(f"{self.where(line)}: {what} is {value.name}, which is not known statically; "
                          f"give it with --set NAME=VALUE")


class Namer:
    """Unique spec names from the code's own names (a module called twice gets `pool`, `pool_2`)."""

    def __init__(self) -> None:
        self.used: set[str] = set()

    def take(self, base: str, scope: tuple[str, ...] = ()) -> str:
        base = clean_name(base)
        name, n = base, 1
        while ".".join(scope + (name,)) in self.used:
            n += 1
            name = f"{base}_{n}"
        self.used.add(".".join(scope + (name,)))
        return name


def clean_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", text)[:60] or "layer"


def slug(name: str) -> str:
    """A model's name as the start of a spec id (room left for a suffix such as `-code`)."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:58] or "model"
