"""What an importer reads from a listing: layers in execution order, and what the code states.

The readers (pytorch.py, keras.py, tf1.py, live.py) produce a `Reading`; emit.py turns it into
spec YAML. Line numbers here are the listing's; emit.py maps them to the file's lines.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Literal

Framework = Literal["pytorch", "keras", "tf1"]


@dataclass(frozen=True)
class Node:
    """One spec layer as the code builds it."""

    kind: str
    fields: tuple[tuple[str, Any], ...]  # spec fields besides kind and name, in spec order
    name: str
    line: int
    code: str  # the constructor or call as written (for the header)
    declared_in: int | None = None  # in_channels / in_features / num_features the code declares
    declared_text: str | None = None  # how it is written ("16 * 4 * 4")
    scope: tuple[str, ...] = ()  # the enclosing blocks (nn.Sequential attributes), outermost first
    inputs: tuple[str, ...] = ()  # qualified names of the nodes feeding it ("" is the network input)

    @property
    def qualified(self) -> str:
        return ".".join(self.scope + (self.name,))

    def get(self, key: str, default: Any = None) -> Any:
        return dict(self.fields).get(key, default)

    def with_fields(self, **changes: Any) -> Node:
        merged = dict(self.fields)
        merged.update(changes)
        return replace(self, fields=tuple(merged.items()))


MERGES = ("add", "concat")  # nodes where branches meet: a parallel block's merge in the spec


CheckKind = Literal["flatten_size", "ignored_input_shape", "unused_layer", "undefined_name"]


@dataclass(frozen=True)
class Check:
    """Something the listing states about itself, to become a claim of the spec."""

    kind: CheckKind
    target: str  # the node it concerns (or the name, for unused layers and undefined names)
    value: int | None
    line: int
    text: str  # the code as written


@dataclass
class Reading:
    """Built up by one reader; emit.py consumes it."""

    framework: Framework
    model: str
    nodes: list[Node] = field(default_factory=list)
    input: tuple[int, int, int] | None = None
    input_from: str | None = None  # where the input size was read (with its line)
    read: list[tuple[int, str]] = field(default_factory=list)  # (line, what was read there)
    assumed: list[str] = field(default_factory=list)
    unreadable: list[tuple[int, str]] = field(default_factory=list)  # (line, why it was not read)
    checks: list[Check] = field(default_factory=list)
    first: tuple[int, int] = (1, 1)  # the model's first and last line

    def note_unreadable(self, line: int, why: str) -> None:
        if (line, why) not in self.unreadable:
            self.unreadable.append((line, why))

    def note_assumed(self, what: str) -> None:
        """An assumption said once however often the code leads to it (each Conv2D's default padding)."""
        if what not in self.assumed:
            self.assumed.append(what)
