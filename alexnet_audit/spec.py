"""The spec format: schema (pydantic), YAML loading with line numbers, validation.

A spec describes one network variant as one source describes it: its layers, where it comes
from, how it was trained, and every claim the source makes about it. `load_spec` turns a YAML
file into a frozen `Spec` or raises `AuditError` naming file, line and field path.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

from pydantic import Field, ValidationError

from .bounded_read import read_bounded
from .claim_schema import Claim, StructureCheck, Text, claim_layer_names
from .errors import AuditError
from .graph import ITEM_TAGS, MAX_ITEMS, Group, Item, Layer, flatten, is_graph
from .init import LayerInit
from .strict import Frozen, error_path
from .yaml_lines import format_path, line_at, parse_yaml

MAX_SPEC_BYTES = 1 << 20
MAX_INPUT_SIDE = 4096
MAX_INPUT_CHANNELS = 64


class Source(Frozen):
    seed: Annotated[str, Field(max_length=200)]  # seed file name, or "paper" / "torchvision"
    section: Text
    framework: Literal["pytorch", "keras", "tf1", "paper"]
    variant: Literal["code", "prose", "reference"] = "code"
    # the id of the same post's other reading (code <-> prose); an id, so never a path elsewhere
    counterpart: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$")] | None = None
    url: str | None = None


class Training(Frozen):
    """The training settings the source used (or a sensible default where it is silent)."""

    dataset: Literal["imagenet", "cifar10", "cifar100", "mnist", "fashion-mnist", "flowers17", "flowers5", "none"]
    optimizer: Literal["adam", "sgd"] = "adam"
    lr: float | None = Field(default=None, gt=0)  # None: the framework's default (Adam: 0.001); finite (Frozen)
    momentum: float | None = Field(default=None, ge=0, lt=1)
    weight_decay: float = Field(default=0.0, ge=0, le=1)
    batch_size: Annotated[int, Field(ge=1, le=65536)] = 32
    epochs: Annotated[int, Field(ge=1, le=10000)] = 1
    where: Text | None = None


# ---------------------------------------------------------------- the document


class SpecDoc(Frozen):
    """A spec file as written."""

    id: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$")]
    title: Text
    source: Source
    input: tuple[
        Annotated[int, Field(ge=1, le=MAX_INPUT_CHANNELS)],
        Annotated[int, Field(ge=1, le=MAX_INPUT_SIDE)],
        Annotated[int, Field(ge=1, le=MAX_INPUT_SIDE)],
    ]
    num_classes: Annotated[int, Field(ge=1, le=100_000)]
    init: LayerInit | None = None  # default for conv/linear layers that state none
    training: Training | None = None
    layers: Annotated[list[Item], Field(min_length=1, max_length=MAX_ITEMS)]
    claims: Annotated[list[Claim], Field(max_length=2000)] = []
    notes: Text | None = None


@dataclass(frozen=True)
class Spec:
    """A loaded, validated spec: the document plus resolved layer names and line numbers."""

    doc: SpecDoc
    layers: tuple[Layer, ...]  # every node in execution order, merge points included
    stages: dict[str, tuple[str, ...]]  # stages and named blocks: qualified name -> member nodes
    path: str
    lines: dict[tuple[Any, ...], int]
    blocks: frozenset[str] = frozenset()  # which of `stages` are blocks

    @property
    def is_graph(self) -> bool:
        return is_graph(self.layers)

    @property
    def id(self) -> str:
        return self.doc.id

    def line_of(self, *path: Any) -> int | None:
        return line_at(self.lines, path)

    def error(self, message: str, *path: Any) -> AuditError:
        return AuditError(message, file=self.path, line=self.line_of(*path), field=format_path(path))


def _is_tag(node: dict[Any, Any], part: Any) -> bool:
    """Whether a part of an error location names the union member pydantic tried at `node`."""
    return part in _TAGS or part in (node.get("kind"), node.get("dist"))


_TAGS = ITEM_TAGS | {cls.__name__ for cls in get_args(StructureCheck)}


def _pydantic_error(exc: ValidationError, data: Any, lines: dict[tuple[Any, ...], int], file: str) -> AuditError:
    err = exc.errors(include_url=False)[0]
    path = error_path(tuple(err["loc"]), data, _is_tag)
    line = line_at(lines, path)
    message = err["msg"]
    if err["type"] == "union_tag_invalid":
        ctx = err.get("ctx", {})
        message = f"unknown kind {ctx.get('tag')!r}; expected one of {ctx.get('expected_tags')}"
    elif err["type"] == "missing":
        message = "required field is missing"
    elif err["type"] == "extra_forbidden":
        message = "unknown field"
    elif err["type"] == "string_type" and isinstance(err.get("input"), bool):
        message += " (YAML reads bare yes/no/on/off/true/false as booleans: quote it)"
    elif err["type"] == "value_error":
        message = str(err.get("ctx", {}).get("error", message))
    return AuditError(message, file=file, line=line, field=format_path(path) or None)


def _check_names(spec: Spec, groups: tuple[Group, ...]) -> None:
    # Groups first: two blocks of one name would otherwise show as their auto-named layers clashing.
    seen: set[str] = set()
    for group in groups:
        if group.name in seen:
            raise spec.error(f"{_what(group)} name {group.name!r} is used twice", *group.path, _what(group))
        seen.add(group.name)
    layers: set[str] = set()
    for layer in spec.layers:
        if layer.name in layers:
            raise spec.error(f"name {layer.name!r} is used twice", *layer.path, "name")
        layers.add(layer.name)
    for group in groups:
        if group.name in layers:
            raise spec.error(f"{_what(group)} name {group.name!r} is also a layer name", *group.path, _what(group))
    seen |= layers
    for i, claim in enumerate(spec.doc.claims):
        for field, name in claim_layer_names(claim):
            if name not in seen:
                raise spec.error(f"{name!r} names no layer, stage or block of this spec", "claims", i, *field)
    ids = [c.id for c in spec.doc.claims]
    for i, cid in enumerate(ids):
        if cid in ids[:i]:
            raise spec.error(f"claim id {cid!r} is used twice", "claims", i, "id")


def _what(group: Group) -> str:
    return "block" if group.is_block else "stage"


def load_spec(path: str | Path) -> Spec:
    """Read, parse and validate one spec file. Raises AuditError on any mistake in it."""
    file = str(path)
    raw = read_bounded(Path(path), MAX_SPEC_BYTES, "the file")
    if len(raw) > MAX_SPEC_BYTES:
        raise AuditError(f"the file is larger than {MAX_SPEC_BYTES} bytes", file=file)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise AuditError(f"not UTF-8 text (byte {exc.start})", file=file) from None
    return spec_from_text(text, file)


def spec_from_text(text: str, file: str = "<spec>") -> Spec:
    data, lines = parse_yaml(text, file)
    if not isinstance(data, dict):
        raise AuditError("a spec must be a mapping (id, title, source, input, layers, ...)", file=file, line=1)
    try:
        doc = SpecDoc.model_validate(data)
    except ValidationError as exc:
        raise _pydantic_error(exc, data, lines, file) from None
    layers, groups = flatten(doc.layers)
    stages = {g.name: g.members for g in groups}
    spec = Spec(doc, layers, stages, file, lines, frozenset(g.name for g in groups if g.is_block))
    _check_names(spec, groups)
    return spec


def spec_json_schema() -> dict[str, Any]:
    return SpecDoc.model_json_schema()
