"""The claims a spec may make: one pydantic model per claim kind, and the shared spec types.

Each claim records one checkable statement of a source; `claims.py` judges it. Checks are done
at load (`_parse` validators) so a malformed figure is a located user error, not a later crash.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .arith import ArithError, Figure, parse_figure, parse_formula
from .strict import refuse_bools

Name = Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")]
Text = Annotated[str, Field(max_length=2000)]
Number = Union[int, float, str]


class Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    @model_validator(mode="before")
    @classmethod
    def _no_bools(cls, data: object) -> object:
        return refuse_bools(cls, data)


class _Claim(Frozen):
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


def _check_figure(claimed: Number) -> Figure:
    """A plain figure ("99.2%", 6, "0.9"): training and speedup claims are no formulas."""
    try:
        return parse_figure(claimed)
    except ArithError as exc:
        raise ValueError(f"claimed: {exc}") from None


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


StructureCheck = Union[FollowedBy, AllHave, Overlapping, NoActivation, Contains, LayerHas]


class StructureClaim(_Claim):
    kind: Literal["structure"]
    claimed: Text  # the statement, paraphrased in English
    check: StructureCheck


Quantity = Literal["height", "width", "channels", "params", "params_no_bias", "macs", "flops", "neurons"]


class Measured(Frozen):
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
    dataset: Literal["cifar10", "mnist", "imagenet"]

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


Claim = Annotated[
    Union[
        InputClaim, ShapeClaim, ParamsClaim, ComputeClaim, CountClaim, LayerCountClaim, StructureClaim,
        ArithmeticClaim, TrainingClaim, SpeedupClaim, UnverifiableClaim,
    ],
    Field(discriminator="kind"),
]
