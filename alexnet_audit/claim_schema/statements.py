"""Claims about training, memory, the papers, and a listing's own code."""

from __future__ import annotations

import re
from typing import Annotated, Literal, Union

from pydantic import Field, model_validator

from .base import ClaimBase, LayerName, Name, Number, Text, check_figure


class TrainingClaim(ClaimBase):
    """An accuracy/error a source reports after training on a named data set and schedule."""

    kind: Literal["training"]
    metric: Literal["train_accuracy", "test_accuracy", "val_accuracy", "train_error", "top5_error", "top1_error"]
    claimed: Number
    dataset: Literal["imagenet", "cifar10", "cifar100", "mnist", "fashion-mnist", "flowers17", "flowers5"]
    epochs: Annotated[int, Field(ge=1, le=10000)] | None = None
    approx: bool = False

    @model_validator(mode="after")
    def _parse(self) -> "TrainingClaim":
        check_figure(self.claimed)
        return self


class SpeedupClaim(ClaimBase):
    """"ReLU reaches 25% training error N times faster than tanh": an experiment to run."""

    kind: Literal["speedup"]
    claimed: Number  # the ratio
    baseline: Literal["tanh", "sigmoid"]
    target_error: float = Field(gt=0, lt=1)
    dataset: Literal["cifar10", "cifar100", "mnist", "fashion-mnist", "imagenet"]

    @model_validator(mode="after")
    def _parse(self) -> "SpeedupClaim":
        if check_figure(self.claimed).value <= 0:
            raise ValueError("claimed: a speedup is a positive ratio")
        return self


class UnverifiableClaim(ClaimBase):
    """A claim this tool cannot measure (history, competition results); `needs` says what would."""

    kind: Literal["unverifiable"]
    claimed: Number
    needs: Text


class FactClaim(ClaimBase):
    """A statement about the paper and its world (its GPUs, venue, data, results), judged against
    the reference base (alexnet_audit/reference/facts.yaml)."""

    kind: Literal["fact"]
    fact: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{0,80}$")]
    claimed: Number
    approx: bool = False
    bound: Literal["exact", "at_most", "at_least"] = "exact"


MemoryDtype = Literal["float32", "float16", "bfloat16", "float64", "int8"]
_BYTES = re.compile(r"^\s*([\d,]*\.?\d+)\s*([KMGT]i?B|B|bytes)\s*$", re.IGNORECASE)


def byte_figure(claimed: Union[int, float, str]) -> tuple[str, str]:
    """A size as written ("528 MB", "93MB", "1 GB", "3.9 MiB") split into its number and unit."""
    m = _BYTES.match(str(claimed))
    if not m:
        raise ValueError(f"claimed: cannot read {claimed!r} as a size in bytes (a number and B, KB, MB, GB, KiB, MiB or GiB)")
    unit = m.group(2)
    return m.group(1), ("B" if unit.lower() in ("b", "bytes") else unit[0].upper() + unit[1:-1].lower() + "B")


class MemoryClaim(ClaimBase):
    """Memory: the parameters' bytes at a dtype, or one image's activations (every layer's output
    held once) at a dtype. MB/GB are read both as 10^6/10^9 and as MiB/GiB."""

    kind: Literal["memory"]
    of: Literal["params", "activations"]
    claimed: Union[int, float, str]
    dtype: MemoryDtype = "float32"
    target: LayerName | None = None
    approx: bool = False
    bound: Literal["exact", "at_most", "at_least"] = "exact"

    @model_validator(mode="after")
    def _parse(self) -> "MemoryClaim":
        number, _ = byte_figure(self.claimed)
        check_figure(number)
        return self


class SameAsClaim(ClaimBase):
    """The network is the reference network it is presented as ("this is AlexNet"): widths,
    kernels, strides, normalisation and its constants, pooling, compared layer by layer."""

    kind: Literal["same_as"]
    reference: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]*$")]
    claimed: Text  # the statement, paraphrased in English


class ListingClaim(ClaimBase):
    """What reading a listing statically found about the code itself (`alexnet-audit import`): a
    layer it defines that its forward pass never applies, or a name it uses but never defines."""

    kind: Literal["listing"]
    check: Literal["unused_layer", "undefined_name"]
    name: Name  # the layer's attribute, or the variable
    line: Annotated[int, Field(ge=1)]  # where the listing defines (or uses) it
    claimed: Text  # the statement the code makes by writing it ("fc4 is part of the network")

