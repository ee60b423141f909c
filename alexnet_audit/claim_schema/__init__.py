"""The claims a spec may make: one pydantic model per claim kind, and the shared spec types.

Each claim records one checkable statement of a source; `claims.py` judges it. Checks are done
at load (`_parse` validators) so a malformed figure is a located user error, not a later crash.
"""

from __future__ import annotations

from typing import Annotated, Any, Union, get_args

from pydantic import Field, TypeAdapter

from .base import (
    Against, ClaimBase, LayerName, Name, NamesLayer, Number, NumericClaim, Text, shape_dims, written_as_formula,
)
from .names import FieldPath, layer_names
from .network import (
    AllHave, ArithmeticClaim, ComputeClaim, Contains, CountClaim, CountedKind, FollowedBy, InputClaim,
    IterationClaim, LayerCountClaim, LayerHas, Measured, NoActivation, Overlapping, PaddingClaim, ParamsClaim,
    PoolsOver, Quantity, ShapeClaim, SizeRuleClaim, StructureCheck, StructureClaim, Terms, WeightShapeClaim,
)
from .statements import (
    FactClaim, ListingClaim, MemoryClaim, MemoryDtype, SameAsClaim, SpeedupClaim, TrainingClaim, UnverifiableClaim,
    byte_figure,
)

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


def alternative_claim(claim: "ClaimBase", reading: dict[str, Any]) -> Any:
    """`claim` as one of its readings reads it: the reading's fields replace the claim's own."""
    fields = claim.model_dump(exclude={"readings", "against"}, exclude_none=True)
    kind = reading.get("kind", fields["kind"])
    if kind != fields["kind"]:  # another kind keeps only the fields it has (id, where, quote, claimed, ...)
        known: dict[str, Any] = next((m.model_fields for m in get_args(get_args(Claim)[0]) if kind in get_args(m.model_fields["kind"].annotation)), {})
        fields = {k: v for k, v in fields.items() if k in known}
    fields.update({k: v for k, v in reading.items() if k != "label"})
    return CLAIM_ADAPTER.validate_python(fields)


def claim_layer_names(claim: "ClaimBase") -> list[tuple[FieldPath, str]]:
    """Every layer, stage or block a claim names, with its field path: its own fields, the names
    of `against` entries mapped from, and what each of its readings names in the fields it sets."""
    found = layer_names(claim)
    for j, reading in enumerate(claim.readings or ()):
        found += [(("readings", j, *path), name) for path, name in layer_names(alternative_claim(claim, reading))
                  if path[0] in reading]
    return found


def renamed_claim(claim: "ClaimBase", names: dict[str, str]) -> Any:
    """The claim, without `against`, naming the layers as the other reading does (`names`: this
    spec's name -> that reading's; a name not in it stays)."""
    data = claim.model_dump(exclude={"against"}, exclude_none=True)
    for path, name in claim_layer_names(claim):
        if path[0] == "against":
            continue
        parent: Any = data
        for step in path[:-1]:
            parent = parent[step]
        parent[path[-1]] = names.get(name, name)
    return CLAIM_ADAPTER.validate_python(data)


__all__ = [
    "Against", "AllHave", "ArithmeticClaim", "CLAIM_ADAPTER", "Claim", "ClaimBase", "ComputeClaim", "Contains",
    "CountClaim", "CountedKind", "FactClaim", "FieldPath", "FollowedBy", "InputClaim", "IterationClaim", "LayerCountClaim",
    "LayerHas", "LayerName", "ListingClaim", "Measured", "MemoryClaim", "MemoryDtype", "Name", "NamesLayer", "NoActivation", "Number",
    "NumericClaim", "Overlapping", "PaddingClaim", "ParamsClaim", "PoolsOver", "Quantity", "SameAsClaim",
    "ShapeClaim", "SizeRuleClaim", "SpeedupClaim", "StructureCheck", "StructureClaim", "Terms", "Text",
    "TrainingClaim", "UnverifiableClaim", "WeightShapeClaim", "alternative_claim", "byte_figure", "claim_layer_names",
    "layer_names", "renamed_claim", "shape_dims", "written_as_formula",
]
