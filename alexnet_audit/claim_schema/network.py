"""Claims about the network itself: sizes, shapes, counts, structure, formulas, padding, weights."""

from __future__ import annotations

from typing import Annotated, Literal, Union

from pydantic import Field, model_validator

from ..strict import Frozen
from .base import ClaimBase, LayerName, Number, NumericClaim, Text, check_figure, check_formula, shape_dims


class InputClaim(ClaimBase):
    """The input size a source states, against the input the network is built for."""

    kind: Literal["input_shape"]
    claimed: Union[str, list[int]]
    layout: Literal["hwc", "chw", "hw"] = "hwc"

    @model_validator(mode="after")
    def _parse(self) -> "InputClaim":
        shape_dims(self.claimed)
        return self


class ShapeClaim(ClaimBase):
    kind: Literal["output_shape"]
    target: LayerName
    claimed: Union[str, list[int]]  # "55x55x96" or [55, 55, 96]
    layout: Literal["hwc", "chw", "hw", "c"] = "hwc"

    @model_validator(mode="after")
    def _parse(self) -> "ShapeClaim":
        shape_dims(self.claimed)
        return self


class ParamsClaim(NumericClaim):
    kind: Literal["params"]
    bias: Literal["included", "excluded"] = "included"
    share: bool = False  # the claim is the target's share of all parameters ("under 1%")


class ComputeClaim(NumericClaim):
    """MACs or FLOPs; `compute` when the source does not say which (then the verdict is ambiguous)."""

    kind: Literal["macs", "flops", "compute"]


class CountClaim(NumericClaim):
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


class LayerCountClaim(ClaimBase):
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
    layers: Annotated[list[LayerName], Field(min_length=1)]
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

    activation_after: Annotated[list[LayerName], Field(min_length=1)]
    present: bool = True


class Contains(Frozen):
    """The network holds at least one layer of a kind."""

    contains: Literal["lrn", "batchnorm", "dropout", "maxpool", "avgpool", "pool", "relu", "tanh", "sigmoid", "softmax"]
    present: bool = True


class LayerHas(Frozen):
    """One layer's hyper-parameters, as read off the built module."""

    layer: LayerName
    kernel: int | None = None
    stride: int | None = None
    out_channels: int | None = None
    padding: Union[int, tuple[int, int], None] = None  # (top, bottom) where asymmetric
    groups: int | None = None


class PoolsOver(Frozen):
    """What a pooling layer's window spans: neighbouring cells of each map (`space`) or
    neighbouring maps (`channels`), and how many inputs one window takes."""

    pools: LayerName
    over: Literal["space", "channels"]
    window: int | None = Field(default=None, ge=1)


StructureCheck = Union[FollowedBy, AllHave, Overlapping, NoActivation, Contains, LayerHas, PoolsOver]


class StructureClaim(ClaimBase):
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
    target: LayerName | None = None
    quantity: Quantity
    terms: Terms | None = None


class ArithmeticClaim(ClaimBase):
    """A formula the source writes out; compared with its own result and, if `measured` is
    given, with the figure this tool measures."""

    kind: Literal["arithmetic"]
    claimed: Annotated[str, Field(max_length=400)]
    measured: Measured | None = None

    @model_validator(mode="after")
    def _parse(self) -> "ArithmeticClaim":
        if check_formula(self.claimed).stated is None:
            raise ValueError("claimed: an arithmetic claim needs '= result'")
        return self


class PaddingClaim(ClaimBase):
    """The zero padding a source states for a layer, per side: whole pixels, compared with the built layer."""

    kind: Literal["padding"]
    target: LayerName
    claimed: Number

    @model_validator(mode="after")
    def _parse(self) -> "PaddingClaim":
        check_figure(self.claimed)
        return self


class WeightShapeClaim(ClaimBase):
    """The shape of a layer's weight tensor: conv (out, in / groups, kh, kw), linear (out, in)."""

    kind: Literal["weight_shape"]
    target: LayerName
    claimed: Union[str, list[int]]

    @model_validator(mode="after")
    def _parse(self) -> "WeightShapeClaim":
        shape_dims(self.claimed)
        return self


class SizeRuleClaim(ClaimBase):
    """How the output-size formula (n + 2p - k) / s + 1 is rounded when it is not whole, checked
    on every listed conv/pool layer (default: all) over a range of input sizes."""

    kind: Literal["size_rule"]
    claimed: Literal["floor", "ceil"]
    layers: Annotated[list[LayerName], Field(min_length=1)] | None = None
    sizes: tuple[Annotated[int, Field(ge=1)], Annotated[int, Field(le=4096)]] = (1, 256)


class IterationClaim(ClaimBase):
    """A training iteration (step) count against the source's own schedule: epochs x
    ceil(training images / batch), the training images being what a validation split leaves."""

    kind: Literal["iterations"]
    claimed: Annotated[int, Field(ge=0, le=10**9)]
    dataset_size: Annotated[int, Field(ge=1, le=10**9)]
    validation_split: float = Field(default=0.0, ge=0, lt=1)
    batch_size: Annotated[int, Field(ge=1, le=10**6)] | None = None  # default: the spec's training block
    epochs: Annotated[int, Field(ge=1, le=10**4)] | None = None  # default: the spec's training block
    relation: Literal["total", "within"] = "within"  # "within": an iteration the schedule reaches


