"""What every claim has (id, where, quote, readings, against), numeric figures, and pasted shapes."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Any, Literal, TypeGuard, Union

from pydantic import Field, ValidationError, model_validator

from ..arith import ArithError, Figure, Formula, parse_figure, parse_formula
from ..strict import Frozen

# A layer, stage or block, qualified by its enclosing blocks: `conv1`, `layer1.0.conv1`.
Name = Annotated[str, Field(pattern=r"^[A-Za-z0-9_]{1,64}(\.[A-Za-z0-9_]{1,64}){0,15}$")]


@dataclass(frozen=True)
class NamesLayer:
    """Marks a field type whose values name a layer, stage or block of the claim's own spec (the
    loader refuses an unknown one; the post's other reading renames it): see claim_schema.names."""


# A name of the claim's own spec. A `Name` that is not (a listing's attribute, the other
# reading's layer) stays a plain `Name`.
LayerName = Annotated[Name, NamesLayer()]
Text = Annotated[str, Field(max_length=2000)]
Number = Union[int, float, str]


class Against(Frozen):
    """One network a claim is judged against: the spec's own reading or its counterpart, with the
    target's name there when it differs (the code's `f1` for the prose's `fc6`)."""

    reading: Literal["prose", "code"]
    target: Name | None = None
    names: dict[LayerName, Name] | None = None  # layer names of this spec -> that reading's (conv1 -> c1)


class ClaimBase(Frozen):
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
    def _check_readings(self) -> "ClaimBase":
        for i, reading in enumerate(self.readings or ()):
            if not isinstance(reading.get("label"), str) or not reading["label"].strip():
                raise ValueError(f"readings[{i}]: each reading needs a label saying how it reads the statement")
            try:
                # The union of every kind is defined after the kinds, so it is looked up at validation.
                from . import alternative_claim

                alternative_claim(self, reading)
            except ValidationError as exc:
                first = exc.errors()[0]
                where = ".".join(str(p) for p in first["loc"] if not isinstance(p, int) and p in reading) or "fields"
                raise ValueError(f"readings[{i}] ({where}): {first['msg']}") from None
        return self


class NumericClaim(ClaimBase):
    """A number or a formula `lhs = result`, optionally approximate."""

    claimed: Number
    target: LayerName | None = None  # a layer or stage; None: the whole network
    approx: bool = False
    tolerance: float | None = Field(default=None, gt=0, lt=1)  # relative; implies approx
    bound: Literal["exact", "at_most", "at_least"] = "exact"  # "about 1M or less": at_most

    @model_validator(mode="after")
    def _parse(self) -> "NumericClaim":
        if written_as_formula(self.claimed):
            check_formula(self.claimed)
        else:
            check_figure(self.claimed)
        return self


def check_figure(claimed: Number) -> Figure:
    """A plain figure ("99.2%", 6, "0.9"): training and speedup claims are no formulas."""
    try:
        return parse_figure(claimed)
    except ArithError as exc:
        raise ValueError(f"claimed: {exc}") from None


def written_as_formula(claimed: Any) -> TypeGuard[str]:
    """Whether a claimed figure is a formula or an expression ("6*6*256", "2 * 48 = 96"), not a figure."""
    return isinstance(claimed, str) and any(op in claimed for op in "=*/^()+")


def check_formula(claimed: str) -> Formula:
    """A formula ("6*6*256*4096 = 37.7M") or an expression, its mistake reported as the claimed field's."""
    try:
        return parse_formula(claimed)
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
