"""The claims a spec may make: one pydantic model per claim kind, and the shared spec types.

Each claim records one checkable statement of a source; `claims.py` judges it. Checks are done
at load (`_parse` validators) so a malformed figure is a located user error, not a later crash.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal, Union, get_args

from pydantic import Field, TypeAdapter, ValidationError, model_validator

from .arith import ArithError, Figure, parse_figure, parse_formula
from .strict import Frozen

# A layer, stage or block, qualified by its enclosing blocks: `conv1`, `layer1.0.conv1`.
Name = Annotated[str, Field(pattern=r"^[A-Za-z0-9_]{1,64}(\.[A-Za-z0-9_]{1,64}){0,15}$")]
Text = Annotated[str, Field(max_length=2000)]
Number = Union[int, float, str]


class Against(Frozen):
    """One network a claim is judged against: the spec's own reading or its counterpart, with the
    target's name there when it differs (the code's `f1` for the prose's `fc6`)."""

    reading: Literal["prose", "code"]
    target: Name | None = None
    names: dict[Name, Name] | None = None  # layer names of this spec -> that reading's (conv1 -> c1)


class _Claim(Frozen):
    id: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]{1,80}$")]
    where: Text  # section of the source where the claim stands
    quote: Text | None = None  # the source's own words that make the statement, in its language
    note: Text | None = None
    # A statement of the prose is also a claim about the code the post presents as that network:
    # judged against each reading listed, each with its own verdict.
    against: Annotated[list[Union[Literal["prose", "code"], Against]], Field(min_length=1, max_length=2)] | None = None
    # Plausible interpretations of the statement, each a label and the fields it changes; when
    # their verdicts disagree the claim is ambiguous.
    readings: Annotated[list[dict[str, Any]], Field(min_length=1, max_length=8)] | None = None

    @model_validator(mode="after")
    def _check_readings(self) -> "_Claim":
        for i, reading in enumerate(self.readings or ()):
            if not isinstance(reading.get("label"), str) or not reading["label"].strip():
                raise ValueError(f"readings[{i}]: each reading needs a label saying how it reads the statement")
            try:
                alternative_claim(self, reading)
            except ValidationError as exc:
                first = exc.errors()[0]
                where = ".".join(str(p) for p in first["loc"] if not isinstance(p, int) and p in reading) or "fields"
                raise ValueError(f"readings[{i}] ({where}): {first['msg']}") from None
        return self


def alternative_claim(claim: "_Claim", reading: dict[str, Any]) -> Any:
    """`claim` as one of its readings reads it: the reading's fields replace the claim's own."""
    fields = claim.model_dump(exclude={"readings", "against"}, exclude_none=True)
    kind = reading.get("kind", fields["kind"])
    if kind != fields["kind"]:  # another kind keeps only the fields it has (id, where, quote, claimed, ...)
        known = next((m.model_fields for m in get_args(get_args(Claim)[0]) if kind in get_args(m.model_fields["kind"].annotation)), {})
        fields = {k: v for k, v in fields.items() if k in known}
    fields.update({k: v for k, v in reading.items() if k != "label"})
    return CLAIM_ADAPTER.validate_python(fields)


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


def _check_figure(claimed: Number) -> Figure:
    """A plain figure ("99.2%", 6, "0.9"): training and speedup claims are no formulas."""
    try:
        return parse_figure(claimed)
    except ArithError as exc:
        raise ValueError(f"claimed: {exc}") from None


_SHAPE_DIM = re.compile(r"^-?[0-9]{1,9}$")
_PASTED = re.compile(r"^\s*(?:torch\.Size\s*\(\s*)?[\[(]\s*(.*?)\s*[\])]\s*\)?\s*$")


def shape_dims(claimed: Union[str, list[int]]) -> tuple[int, ...]:
    """A shape as people write or paste it: "55x55x96", [55, 55, 96], "1x6x28x28",
    "torch.Size([1, 6, 28, 28])", torchsummary's "[-1, 64, 55, 55]", Keras's "(None, 55, 55, 96)".
    A leading batch dimension (1, -1 or None) of a 4-dimensional shape is dropped."""
    if isinstance(claimed, list):
        parts = [str(d) for d in claimed]
    elif m := _PASTED.match(claimed):
        parts = [p.strip() for p in m.group(1).split(",") if p.strip()]
    else:
        parts = re.split(r"\s*[x×X*]\s*", claimed.strip())
    parts = ["-1" if p == "None" else p for p in parts]
    if not 1 <= len(parts) <= 5 or not all(_SHAPE_DIM.match(p) for p in parts):
        raise ValueError(f"claimed: cannot read {claimed!r} as a shape (1 to 4 sizes, e.g. 55x55x96 or [55, 55, 96])")
    dims = [int(p) for p in parts]
    if len(dims) >= 4 and dims[0] in (1, -1):
        dims = dims[1:]
    if len(dims) > 4 or any(d < 0 for d in dims):
        raise ValueError(f"claimed: cannot read {claimed!r} as a shape (only a leading batch dimension may be -1 or None)")
    return tuple(dims)


def _check_shape(claimed: Union[str, list[int]]) -> None:
    shape_dims(claimed)


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
    """Neurons, or connections. A connection is one weight applied to one input; `bias: included`
    reads connections by LeCun et al.'s (1998) convention, each bias one more connection of its
    unit (a weight on a constant input) and every RBF unit's inputs counted."""

    kind: Literal["neurons", "connections"]
    bias: Literal["included", "excluded"] = "excluded"

    @model_validator(mode="after")
    def _bias_only_for_connections(self) -> "CountClaim":
        if self.kind == "neurons" and self.bias == "included":
            raise ValueError("bias: only a connections claim counts biases (neurons are outputs)")
        return self


CountedKind = Literal["conv", "linear", "maxpool", "avgpool", "pool", "lrn", "batchnorm", "dropout", "weighted"]


class LayerCountClaim(_Claim):
    """"5 conv layers", "3 of them followed by max-pooling"."""

    kind: Literal["layer_count"]
    # one kind, or several counted together ("7 layers": conv, pool and linear)
    of: Union[CountedKind, Annotated[list[CountedKind], Field(min_length=1)]]
    followed_by: Literal["maxpool", "avgpool", "pool", "lrn", "batchnorm", "dropout", "relu"] | None = None
    claimed: int


class FollowedBy(Frozen):
    """Each listed layer is followed by a `by` module before the next conv/linear layer;
    with `exactly`, no other conv/linear layer is."""

    followed_by: Literal["lrn", "maxpool", "avgpool", "pool", "batchnorm", "dropout", "relu", "tanh", "softmax"]
    layers: Annotated[list[Name], Field(min_length=1)]
    exactly: bool = False


class AllHave(Frozen):
    """Every module of a kind has these attributes (e.g. all max pools 3x3 with stride 2)."""

    all_of: Literal["maxpool", "avgpool", "pool", "conv", "dropout", "lrn"]
    kernel: int | None = None
    stride: int | None = None
    p: float | None = None


class Overlapping(Frozen):
    """Every pooling window overlaps its neighbour: stride smaller than the kernel."""

    overlapping: Literal["maxpool", "avgpool", "pool"]


class NoActivation(Frozen):
    """Whether the listed conv/linear layers are followed by a non-linearity."""

    activation_after: Annotated[list[Name], Field(min_length=1)]
    present: bool = True


class Contains(Frozen):
    """The network holds at least one layer of a kind."""

    contains: Literal["lrn", "batchnorm", "dropout", "maxpool", "avgpool", "pool", "relu", "tanh", "sigmoid", "softmax"]
    present: bool = True


class LayerHas(Frozen):
    """One layer's hyper-parameters, as read off the built module."""

    layer: Name
    kernel: int | None = None
    stride: int | None = None
    out_channels: int | None = None
    padding: Union[int, tuple[int, int], None] = None  # (top, bottom) where asymmetric
    groups: int | None = None


class PoolsOver(Frozen):
    """What a pooling layer's window spans: neighbouring cells of each map (`space`) or
    neighbouring maps (`channels`), and how many inputs one window takes."""

    pools: Name
    over: Literal["space", "channels"]
    window: int | None = Field(default=None, ge=1)


StructureCheck = Union[FollowedBy, AllHave, Overlapping, NoActivation, Contains, LayerHas, PoolsOver]


class StructureClaim(_Claim):
    kind: Literal["structure"]
    claimed: Text  # the statement, paraphrased in English
    check: StructureCheck


Quantity = Literal["height", "width", "channels", "params", "params_no_bias", "macs", "flops", "neurons"]


class Terms(Frozen):
    """The figures a size formula such as (W - F + 2P) / S + 1 is built from, as the source wrote
    them; each is compared with the target layer's own (its input size, window, stride, padding)."""

    input: int | None = Field(default=None, ge=1)
    kernel: int | None = Field(default=None, ge=1)
    stride: int | None = Field(default=None, ge=1)
    padding: float | None = Field(default=None, ge=0)  # per side; may be fractional as written


class Measured(Frozen):
    target: Name | None = None
    quantity: Quantity
    terms: Terms | None = None


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
    dataset: Literal["imagenet", "cifar10", "cifar100", "mnist", "fashion-mnist", "flowers17", "flowers5"]
    epochs: Annotated[int, Field(ge=1, le=10000)] | None = None
    approx: bool = False

    @model_validator(mode="after")
    def _parse(self) -> "TrainingClaim":
        _check_figure(self.claimed)
        return self


class SpeedupClaim(_Claim):
    """"ReLU reaches 25% training error N times faster than tanh": an experiment to run."""

    kind: Literal["speedup"]
    claimed: Number  # the ratio
    baseline: Literal["tanh", "sigmoid"]
    target_error: float = Field(gt=0, lt=1)
    dataset: Literal["cifar10", "cifar100", "mnist", "fashion-mnist", "imagenet"]

    @model_validator(mode="after")
    def _parse(self) -> "SpeedupClaim":
        if _check_figure(self.claimed).value <= 0:
            raise ValueError("claimed: a speedup is a positive ratio")
        return self


class UnverifiableClaim(_Claim):
    """A claim this tool cannot measure (history, competition results); `needs` says what would."""

    kind: Literal["unverifiable"]
    claimed: Number
    needs: Text


class FactClaim(_Claim):
    """A statement about the paper and its world (its GPUs, venue, data, results), judged against
    the reference base (alexnet_audit/reference/facts.yaml)."""

    kind: Literal["fact"]
    fact: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{0,80}$")]
    claimed: Number
    approx: bool = False
    bound: Literal["exact", "at_most", "at_least"] = "exact"


class PaddingClaim(_Claim):
    """The zero padding a source states for a layer, per side: whole pixels, compared with the built layer."""

    kind: Literal["padding"]
    target: Name
    claimed: Number

    @model_validator(mode="after")
    def _parse(self) -> "PaddingClaim":
        try:
            parse_figure(self.claimed)
        except ArithError as exc:
            raise ValueError(f"claimed: {exc}") from None
        return self


class WeightShapeClaim(_Claim):
    """The shape of a layer's weight tensor: conv (out, in / groups, kh, kw), linear (out, in)."""

    kind: Literal["weight_shape"]
    target: Name
    claimed: Union[str, list[int]]

    @model_validator(mode="after")
    def _parse(self) -> "WeightShapeClaim":
        _check_shape(self.claimed)
        return self


class SizeRuleClaim(_Claim):
    """How the output-size formula (n + 2p - k) / s + 1 is rounded when it is not whole, checked
    on every listed conv/pool layer (default: all) over a range of input sizes."""

    kind: Literal["size_rule"]
    claimed: Literal["floor", "ceil"]
    layers: Annotated[list[Name], Field(min_length=1)] | None = None
    sizes: tuple[Annotated[int, Field(ge=1)], Annotated[int, Field(le=4096)]] = (1, 256)


class IterationClaim(_Claim):
    """A training iteration (step) count against the source's own schedule: epochs x
    ceil(training images / batch), the training images being what a validation split leaves."""

    kind: Literal["iterations"]
    claimed: Annotated[int, Field(ge=0, le=10**9)]
    dataset_size: Annotated[int, Field(ge=1, le=10**9)]
    validation_split: float = Field(default=0.0, ge=0, lt=1)
    batch_size: Annotated[int, Field(ge=1, le=10**6)] | None = None  # default: the spec's training block
    epochs: Annotated[int, Field(ge=1, le=10**4)] | None = None  # default: the spec's training block
    relation: Literal["total", "within"] = "within"  # "within": an iteration the schedule reaches


MemoryDtype = Literal["float32", "float16", "bfloat16", "float64", "int8"]
_BYTES = re.compile(r"^\s*([\d,]*\.?\d+)\s*([KMGT]i?B|B|bytes)\s*$", re.IGNORECASE)


def byte_figure(claimed: Union[int, float, str]) -> tuple[str, str]:
    """A size as written ("528 MB", "93MB", "1 GB", "3.9 MiB") split into its number and unit."""
    m = _BYTES.match(str(claimed))
    if not m:
        raise ValueError(f"claimed: cannot read {claimed!r} as a size in bytes (a number and B, KB, MB, GB, KiB, MiB or GiB)")
    unit = m.group(2)
    return m.group(1), ("B" if unit.lower() in ("b", "bytes") else unit[0].upper() + unit[1:-1].lower() + "B")


class MemoryClaim(_Claim):
    """Memory: the parameters' bytes at a dtype, or one image's activations (every layer's output
    held once) at a dtype. MB/GB are read both as 10^6/10^9 and as MiB/GiB."""

    kind: Literal["memory"]
    of: Literal["params", "activations"]
    claimed: Union[int, float, str]
    dtype: MemoryDtype = "float32"
    target: Name | None = None
    approx: bool = False
    bound: Literal["exact", "at_most", "at_least"] = "exact"

    @model_validator(mode="after")
    def _parse(self) -> "MemoryClaim":
        number, _ = byte_figure(self.claimed)
        try:
            parse_figure(number)
        except ArithError as exc:
            raise ValueError(f"claimed: {exc}") from None
        return self


class SameAsClaim(_Claim):
    """The network is the reference network it is presented as ("this is AlexNet"): widths,
    kernels, strides, normalisation and its constants, pooling, compared layer by layer."""

    kind: Literal["same_as"]
    reference: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]*$")]
    claimed: Text  # the statement, paraphrased in English


class ListingClaim(_Claim):
    """What reading a listing statically found about the code itself (`alexnet-audit import`): a
    layer it defines that its forward pass never applies, or a name it uses but never defines."""

    kind: Literal["listing"]
    check: Literal["unused_layer", "undefined_name"]
    name: Name  # the layer's attribute, or the variable
    line: Annotated[int, Field(ge=1)]  # where the listing defines (or uses) it
    claimed: Text  # the statement the code makes by writing it ("fc4 is part of the network")


Claim = Annotated[
    Union[
        InputClaim, ShapeClaim, ParamsClaim, ComputeClaim, CountClaim, LayerCountClaim, StructureClaim,
        ArithmeticClaim, TrainingClaim, SpeedupClaim, UnverifiableClaim, FactClaim, PaddingClaim,
        WeightShapeClaim, SizeRuleClaim, IterationClaim, MemoryClaim, SameAsClaim,
        ListingClaim,
    ],
    Field(discriminator="kind"),
]
CLAIM_ADAPTER: TypeAdapter[Any] = TypeAdapter(Claim)
