"""The spec format: schema (pydantic), YAML loading with line numbers, validation.

A spec describes one network variant as one source describes it: its layers, where it comes
from, how it was trained, and every claim the source makes about it. `load_spec` turns a YAML
file into a frozen `Spec` or raises `AuditError` naming file, line and field path.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, Union

from pydantic import Discriminator, Field, Tag, ValidationError

from .bounded_read import read_bounded
from .claim_schema import (
    ArithmeticClaim, Claim, FollowedBy, Frozen, LayerHas, Name, NoActivation, StructureCheck, StructureClaim, Text,
)
from .errors import AuditError
from .init import LayerInit
from .layers import LayerSpec
from .yaml_lines import format_path, parse_yaml

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

    dataset: Literal["imagenet", "cifar10", "mnist", "flowers17", "flowers5", "none"]
    optimizer: Literal["adam", "sgd"] = "adam"
    lr: float | None = Field(default=None, gt=0, le=10)  # None: the framework's default (Adam: 0.001)
    momentum: float | None = Field(default=None, ge=0, lt=1)
    weight_decay: float = Field(default=0.0, ge=0, le=1)
    batch_size: Annotated[int, Field(ge=1, le=65536)] = 32
    epochs: Annotated[int, Field(ge=1, le=10000)] = 1
    where: Text | None = None


class Stage(Frozen):
    stage: Name
    layers: Annotated[list[LayerSpec], Field(min_length=1, max_length=512)]


def _item_tag(value: Any) -> str:
    if isinstance(value, dict):
        return "stage_item" if "stage" in value else "layer_item"
    return "stage_item" if isinstance(value, Stage) else "layer_item"


LayerItem = Annotated[
    Union[Annotated[LayerSpec, Tag("layer_item")], Annotated[Stage, Tag("stage_item")]],
    Discriminator(_item_tag),
]

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
    layers: Annotated[list[LayerItem], Field(min_length=1, max_length=512)]
    claims: Annotated[list[Claim], Field(max_length=2000)] = []
    notes: Text | None = None


@dataclass(frozen=True)
class Layer:
    """A layer with its final name and the stage it belongs to (if any)."""

    name: str
    stage: str | None
    spec: Any  # one of the layers.LayerSpec classes
    index: int  # position in the spec's layers list (for error locations)
    sub: int | None  # position inside its stage


@dataclass(frozen=True)
class Spec:
    """A loaded, validated spec: the document plus resolved layer names and line numbers."""

    doc: SpecDoc
    layers: tuple[Layer, ...]
    stages: dict[str, tuple[str, ...]]
    path: str
    lines: dict[tuple[Any, ...], int]

    @property
    def id(self) -> str:
        return self.doc.id

    def line_of(self, *path: Any) -> int | None:
        for cut in range(len(path), -1, -1):
            if path[:cut] in self.lines:
                return self.lines[path[:cut]]
        return None

    def error(self, message: str, *path: Any) -> AuditError:
        return AuditError(message, file=self.path, line=self.line_of(*path), field=format_path(path))

    def layer_path(self, layer: Layer) -> tuple[Any, ...]:
        return ("layers", layer.index) + (("layers", layer.sub) if layer.sub is not None else ())


def _clean_loc(loc: tuple[Any, ...], data: Any) -> tuple[Any, ...]:
    """Drop the union tags pydantic puts in error locations, keeping the real data path."""
    out: list[Any] = []
    cur = data
    for part in loc:
        if isinstance(cur, dict) and part in cur:
            out.append(part)
            cur = cur[part]
        elif isinstance(cur, list) and isinstance(part, int) and part < len(cur):
            out.append(part)
            cur = cur[part]
        elif isinstance(cur, dict) and part not in _TAGS and part not in (cur.get("kind"), cur.get("dist")):
            out.append(part)  # a missing or unknown field: name it
            cur = None
    return tuple(out)


_TAGS = {"layer_item", "stage_item"} | {cls.__name__ for cls in StructureCheck.__args__}  # type: ignore[attr-defined]


def _pydantic_error(exc: ValidationError, data: Any, lines: dict[tuple[Any, ...], int], file: str) -> AuditError:
    err = exc.errors(include_url=False)[0]
    path = _clean_loc(tuple(err["loc"]), data)
    line = None
    for cut in range(len(path), -1, -1):
        if path[:cut] in lines:
            line = lines[path[:cut]]
            break
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


def _resolve_layers(doc: SpecDoc) -> tuple[tuple[Layer, ...], dict[str, tuple[str, ...]]]:
    """Give every layer its final name; unnamed layers get `<stage>_<kind>` or `<kind>_<n>`."""
    layers: list[Layer] = []
    stages: dict[str, tuple[str, ...]] = {}
    counts: dict[str, int] = {}

    def auto(kind: str, prefix: str) -> str:
        counts[prefix + kind] = counts.get(prefix + kind, 0) + 1
        n = counts[prefix + kind]
        return f"{prefix}{kind}" + (str(n) if n > 1 else "") if prefix else f"{kind}_{n}"

    for i, item in enumerate(doc.layers):
        if isinstance(item, Stage):
            names = []
            for j, spec in enumerate(item.layers):
                name = spec.name or auto(spec.kind, item.stage + "_")
                layers.append(Layer(name, item.stage, spec, i, j))
                names.append(name)
            stages[item.stage] = tuple(names)
        else:
            layers.append(Layer(item.name or auto(item.kind, ""), None, item, i, None))
    return tuple(layers), stages


def _check_names(spec: Spec) -> None:
    seen: set[str] = set()
    for layer in spec.layers:
        if layer.name in seen or layer.name in spec.stages:
            raise spec.error(f"name {layer.name!r} is used twice", *spec.layer_path(layer), "name")
        seen.add(layer.name)
    for i, item in enumerate(spec.doc.layers):
        if isinstance(item, Stage) and item.stage in seen:
            raise spec.error(f"stage name {item.stage!r} is also a layer name", "layers", i, "stage")
    known = seen | set(spec.stages)
    for i, claim in enumerate(spec.doc.claims):
        for field, names in _claim_names(claim):
            for name in names:
                if name not in known:
                    raise spec.error(f"{name!r} names no layer or stage of this spec", "claims", i, *field)
    ids = [c.id for c in spec.doc.claims]
    for i, cid in enumerate(ids):
        if cid in ids[:i]:
            raise spec.error(f"claim id {cid!r} is used twice", "claims", i, "id")


def _claim_names(claim: Any) -> list[tuple[tuple[str, ...], list[str]]]:
    out: list[tuple[tuple[str, ...], list[str]]] = []
    if getattr(claim, "target", None):
        out.append((("target",), [claim.target]))
    if isinstance(claim, ArithmeticClaim) and claim.measured and claim.measured.target:
        out.append((("measured", "target"), [claim.measured.target]))
    if isinstance(claim, StructureClaim):
        check = claim.check
        if isinstance(check, FollowedBy):
            out.append((("check", "layers"), check.layers))
        elif isinstance(check, NoActivation):
            out.append((("check", "activation_after"), check.activation_after))
        elif isinstance(check, LayerHas):
            out.append((("check", "layer"), [check.layer]))
    return out


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
    layers, stages = _resolve_layers(doc)
    spec = Spec(doc, layers, stages, file, lines)
    _check_names(spec)
    return spec


def spec_json_schema() -> dict[str, Any]:
    return SpecDoc.model_json_schema()
