"""The spec format: schema (pydantic), YAML loading with line numbers, validation.

A spec describes one network variant as one source describes it: its layers, where it comes
from, how it was trained, and every claim the source makes about it. `load_spec` turns a YAML
file into a frozen `Spec` or raises `AuditError` naming file, line and field path.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, Union

import yaml
from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, ValidationError, model_validator

from .arith import ArithError, parse_figure, parse_formula
from .errors import AuditError
from .init import LayerInit
from .layers import LayerSpec

MAX_SPEC_BYTES = 1 << 20
MAX_YAML_NODES = 20_000
MAX_YAML_DEPTH = 40
MAX_INPUT_SIDE = 4096
MAX_INPUT_CHANNELS = 64

Name = Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")]
Text = Annotated[str, Field(max_length=2000)]
Number = Union[int, float, str]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Source(_Model):
    seed: Annotated[str, Field(max_length=200)]  # seed file name, or "paper" / "torchvision"
    section: Text
    framework: Literal["pytorch", "keras", "tf1", "paper"]
    variant: Literal["code", "prose", "reference"] = "code"
    counterpart: str | None = None  # the id of the same post's other reading (code <-> prose)
    url: str | None = None


class Training(_Model):
    """The training settings the source used (or a sensible default where it is silent)."""

    dataset: Literal["imagenet", "cifar10", "mnist", "flowers17", "flowers5", "none"]
    optimizer: Literal["adam", "sgd"] = "adam"
    lr: float | None = Field(default=None, gt=0)  # None: the framework's default (Adam: 0.001)
    momentum: float | None = Field(default=None, ge=0, lt=1)
    weight_decay: float = Field(default=0.0, ge=0)
    batch_size: Annotated[int, Field(ge=1, le=65536)] = 32
    epochs: Annotated[int, Field(ge=1, le=10000)] = 1
    where: Text | None = None


class Stage(_Model):
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

# ---------------------------------------------------------------- claims


class _Claim(_Model):
    id: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]{1,80}$")]
    where: Text  # section of the source where the claim stands
    quote: Text | None = None  # the figure exactly as written, when it differs from `claimed`
    note: Text | None = None


class _Numeric(_Claim):
    """A number or a formula `lhs = result`, optionally approximate."""

    claimed: Number
    target: Name | None = None  # a layer or stage; None: the whole network
    approx: bool = False
    tolerance: float | None = Field(default=None, gt=0, lt=1)  # relative; implies approx
    bound: Literal["exact", "at_most", "at_least"] = "exact"  # "about 1M or less": at_most

    @model_validator(mode="after")
    def _parse(self) -> "_Numeric":
        try:
            if isinstance(self.claimed, str) and "=" in self.claimed:
                parse_formula(self.claimed)
            elif isinstance(self.claimed, str) and any(op in self.claimed for op in "*/^()+"):
                parse_formula(self.claimed)
            else:
                parse_figure(self.claimed)
        except ArithError as exc:
            raise ValueError(f"claimed: {exc}") from None
        return self


_SHAPE_DIM = re.compile(r"^[0-9]{1,9}$")


def _check_shape(claimed: Union[str, list[int]]) -> None:
    """A shape as written: 1 to 4 whole sizes, "55x55x96" or [55, 55, 96] (what claims.py can read)."""
    dims = re.split(r"\s*[x×X*]\s*", claimed.strip()) if isinstance(claimed, str) else claimed
    if not 1 <= len(dims) <= 4 or not all(_SHAPE_DIM.match(str(d)) for d in dims):
        raise ValueError(f"claimed: cannot read {claimed!r} as a shape (1 to 4 sizes, e.g. 55x55x96 or [55, 55, 96])")


class InputClaim(_Claim):
    """The input size a source states, against the input the network is built for."""

    kind: Literal["input_shape"]
    claimed: Union[str, list[int]]
    layout: Literal["hwc", "chw", "hw"] = "hwc"

    @model_validator(mode="after")
    def _parse(self) -> "InputClaim":
        _check_shape(self.claimed)
        return self


class ShapeClaim(_Claim):
    kind: Literal["output_shape"]
    target: Name
    claimed: Union[str, list[int]]  # "55x55x96" or [55, 55, 96]
    layout: Literal["hwc", "chw", "hw", "c"] = "hwc"

    @model_validator(mode="after")
    def _parse(self) -> "ShapeClaim":
        _check_shape(self.claimed)
        return self


class ParamsClaim(_Numeric):
    kind: Literal["params"]
    bias: Literal["included", "excluded"] = "included"
    share: bool = False  # the claim is the target's share of all parameters ("under 1%")


class ComputeClaim(_Numeric):
    """MACs or FLOPs; `compute` when the source does not say which (then the verdict is ambiguous)."""

    kind: Literal["macs", "flops", "compute"]


class CountClaim(_Numeric):
    kind: Literal["neurons", "connections"]


CountedKind = Literal["conv", "linear", "maxpool", "avgpool", "pool", "lrn", "batchnorm", "dropout", "weighted"]


class LayerCountClaim(_Claim):
    """"5 conv layers", "3 of them followed by max-pooling"."""

    kind: Literal["layer_count"]
    # one kind, or several counted together ("7 layers": conv, pool and linear)
    of: Union[CountedKind, Annotated[list[CountedKind], Field(min_length=1)]]
    followed_by: Literal["maxpool", "avgpool", "pool", "lrn", "batchnorm", "dropout", "relu"] | None = None
    claimed: int


class FollowedBy(_Model):
    """Each listed layer is followed by a `by` module before the next conv/linear layer;
    with `exactly`, no other conv/linear layer is."""

    followed_by: Literal["lrn", "maxpool", "avgpool", "pool", "batchnorm", "dropout", "relu", "tanh", "softmax"]
    layers: Annotated[list[Name], Field(min_length=1)]
    exactly: bool = False


class AllHave(_Model):
    """Every module of a kind has these attributes (e.g. all max pools 3x3 with stride 2)."""

    all_of: Literal["maxpool", "avgpool", "pool", "conv", "dropout", "lrn"]
    kernel: int | None = None
    stride: int | None = None
    p: float | None = None


class Overlapping(_Model):
    """Every pooling window overlaps its neighbour: stride smaller than the kernel."""

    overlapping: Literal["maxpool", "avgpool", "pool"]


class NoActivation(_Model):
    """Whether the listed conv/linear layers are followed by a non-linearity."""

    activation_after: Annotated[list[Name], Field(min_length=1)]
    present: bool = True


class Contains(_Model):
    """The network holds at least one layer of a kind."""

    contains: Literal["lrn", "batchnorm", "dropout", "maxpool", "avgpool", "pool", "relu", "tanh", "sigmoid", "softmax"]
    present: bool = True


class LayerHas(_Model):
    """One layer's hyper-parameters, as read off the built module."""

    layer: Name
    kernel: int | None = None
    stride: int | None = None
    out_channels: int | None = None
    padding: Union[int, tuple[int, int], None] = None  # (top, bottom) where asymmetric
    groups: int | None = None


StructureCheck = Union[FollowedBy, AllHave, Overlapping, NoActivation, Contains, LayerHas]


class StructureClaim(_Claim):
    kind: Literal["structure"]
    claimed: Text  # the statement, paraphrased in English
    check: StructureCheck


Quantity = Literal["height", "width", "channels", "params", "params_no_bias", "macs", "flops", "neurons"]


class Measured(_Model):
    target: Name | None = None
    quantity: Quantity


class ArithmeticClaim(_Claim):
    """A formula the source writes out; compared with its own result and, if `measured` is
    given, with the figure this tool measures."""

    kind: Literal["arithmetic"]
    claimed: Annotated[str, Field(max_length=400)]
    measured: Measured | None = None

    @model_validator(mode="after")
    def _parse(self) -> "ArithmeticClaim":
        try:
            formula = parse_formula(self.claimed)
        except ArithError as exc:
            raise ValueError(f"claimed: {exc}") from None
        if formula.stated is None:
            raise ValueError("claimed: an arithmetic claim needs '= result'")
        return self


class TrainingClaim(_Claim):
    """An accuracy/error a source reports after training on a named data set and schedule."""

    kind: Literal["training"]
    metric: Literal["train_accuracy", "test_accuracy", "val_accuracy", "train_error", "top5_error", "top1_error"]
    claimed: Number
    dataset: Literal["imagenet", "cifar10", "mnist", "flowers17", "flowers5"]
    epochs: int | None = None
    approx: bool = False


class SpeedupClaim(_Claim):
    """"ReLU reaches 25% training error N times faster than tanh": an experiment to run."""

    kind: Literal["speedup"]
    claimed: Number  # the ratio
    baseline: Literal["tanh", "sigmoid"]
    target_error: float = Field(gt=0, lt=1)
    dataset: Literal["cifar10", "mnist", "imagenet"]


class UnverifiableClaim(_Claim):
    """A claim this tool cannot measure (history, competition results); `needs` says what would."""

    kind: Literal["unverifiable"]
    claimed: Number
    needs: Text


Claim = Annotated[
    Union[
        InputClaim, ShapeClaim, ParamsClaim, ComputeClaim, CountClaim, LayerCountClaim, StructureClaim,
        ArithmeticClaim, TrainingClaim, SpeedupClaim, UnverifiableClaim,
    ],
    Field(discriminator="kind"),
]

# ---------------------------------------------------------------- the document


class SpecDoc(_Model):
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


def format_path(path: tuple[Any, ...]) -> str:
    out = ""
    for part in path:
        if not isinstance(part, int) and not str(part).isprintable():
            part = repr(str(part))  # a key with a newline or control character stays on one line
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


# ---------------------------------------------------------------- YAML with line numbers


def _index_lines(node: yaml.Node, path: tuple[Any, ...], lines: dict[tuple[Any, ...], int], budget: list[int], depth: int) -> None:
    """Record the 1-based line of every node; refuse alias bombs, deep nesting and duplicate keys."""
    budget[0] -= 1
    if budget[0] < 0:
        raise AuditError(f"the YAML has more than {MAX_YAML_NODES} nodes (anchors and aliases count each time they are used)")
    if depth > MAX_YAML_DEPTH:
        raise AuditError(f"the YAML nests deeper than {MAX_YAML_DEPTH} levels", line=node.start_mark.line + 1)
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key, value in node.value:
            k = key.value if isinstance(key, yaml.ScalarNode) else str(key.start_mark)
            if k in seen:
                raise AuditError(f"duplicate key {k!r}", line=key.start_mark.line + 1, field=format_path(path + (k,)))
            seen.add(k)
            _index_lines(value, path + (k,), lines, budget, depth + 1)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _index_lines(item, path + (i,), lines, budget, depth + 1)


def parse_yaml(text: str, file: str) -> tuple[Any, dict[tuple[Any, ...], int]]:
    """Safe YAML to plain data plus a line for every path; any YAML problem is an AuditError."""
    loader: yaml.SafeLoader | None = None
    try:
        loader = yaml.SafeLoader(text)  # the reader refuses control characters here already
        node = loader.get_single_node()
        if node is None:
            raise AuditError("the file is empty", file=file)
        lines: dict[tuple[Any, ...], int] = {}
        _index_lines(node, (), lines, [MAX_YAML_NODES], 0)
        data = loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = (exc.problem or exc.context or "invalid YAML").strip()
        raise AuditError(f"invalid YAML: {problem}", file=file, line=mark.line + 1 if mark else None) from None
    except yaml.reader.ReaderError as exc:
        char = f"#x{exc.character:04x}" if isinstance(exc.character, int) else repr(exc.character)
        raise AuditError(f"invalid YAML: unacceptable character {char} at position {exc.position}: {exc.reason}", file=file) from None
    except yaml.YAMLError as exc:
        raise AuditError("invalid YAML: " + " ".join(str(exc).split()), file=file) from None
    except RecursionError:
        raise AuditError("the YAML nests too deeply", file=file) from None
    except ValueError as exc:  # e.g. an integer longer than Python's int-from-string limit
        raise AuditError("invalid YAML value: " + " ".join(str(exc).split()), file=file) from None
    except AuditError as exc:
        raise exc.located(file=file) from None
    finally:
        if loader is not None:
            loader.dispose()
    return data, lines


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
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise AuditError(f"cannot read the file: {exc.strerror or exc}", file=file) from None
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
