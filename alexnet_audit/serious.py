"""Which failing claims matter most: a whole network's figures before a layer's, then the
figures furthest from what was measured (the report's index leads with them)."""

from __future__ import annotations

from fractions import Fraction
from typing import Any, Sequence

from .arith import ArithError, parse_figure, parse_formula
from .audit import SpecAudit
from .claim_schema import written_as_formula
from .claims import ClaimResult, Verdict


def _number(claimed: Any) -> Fraction | None:
    """A figure as a number: a formula's stated result, a figure with its unit; None if not numeric."""
    try:
        if written_as_formula(claimed):
            formula = parse_formula(claimed)
            return formula.stated if "=" in claimed else formula.lhs
        return parse_figure(claimed).value
    except (ArithError, TypeError):
        return None


def off_by(c: ClaimResult) -> Fraction | None:
    """How far a numeric figure is from the measurement, relative to the measurement."""
    if c.measured is None or isinstance(c.measured, (dict, list)):
        return None
    claimed, measured = _number(c.claimed), _number(c.measured)
    if claimed is None or not measured:
        return None
    return abs(claimed - measured) / abs(measured)


_WHOLE = ("params", "macs", "flops", "compute", "neurons", "connections")


def seriousness(c: ClaimResult) -> int:
    """0: a whole-network figure or the input; 1: the architecture (layers, structure);
    2: a layer's output shape; 3: a layer's figure or a written-out formula."""
    if c.kind == "input_shape" or (c.kind in _WHOLE and c.target is None):
        return 0
    if c.kind in ("structure", "layer_count"):
        return 1
    return 2 if c.kind == "output_shape" else 3


def serious_errors(audits: Sequence[SpecAudit]) -> list[tuple[SpecAudit, ClaimResult]]:
    """Every failing claim, most serious first: by `seriousness`, then by how far off it is."""
    failing = [(a, c, i) for a in audits for i, c in enumerate(a.claims) if c.verdict == Verdict.FAILS]

    def key(item: tuple[SpecAudit, ClaimResult, int]) -> tuple[int, Fraction, str, int]:
        a, c, i = item
        return (seriousness(c), -(off_by(c) or Fraction(-1)), a.spec.id, i)

    return [(a, c) for a, c, _ in sorted(failing, key=key)]
