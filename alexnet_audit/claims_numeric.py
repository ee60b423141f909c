"""Judges of figures: parameters, MACs/FLOPs, neurons, connections, memory, and formulas written out.

Every figure is read by one tolerance rule (`facts.precision`): at the precision it is written
with when the source rounds it, exactly otherwise.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace
from fractions import Fraction
from typing import Any, cast

from .arith import parse_formula
from .claim_schema import (
    ArithmeticClaim, ComputeClaim, CountClaim, MemoryClaim, ParamsClaim, byte_figure, written_as_formula,
)
from .diagnose import Diagnosis, digit_slip, numeric_diagnoses, padding_needed
from .facts import overlaps, precision
from .figures import Quantity, figure
from .verdicts import ClaimResult, Context, Verdict, result

# A figure pasted without its unit ("7.61" from a GFLOPS column) is also read at these scales.
_DROPPED_UNITS = (("K", 10**3), ("M", 10**6), ("G", 10**9))


@dataclass(frozen=True)
class Claimed:
    value: Fraction
    tolerance: Fraction
    lhs: Fraction | None  # when the source wrote a formula
    bound: str = "exact"
    unitless_decimal: bool = False  # "7.61": a figure whose unit may have been left behind

    def matches(self, v: int | Fraction) -> bool:
        return overlaps((self.value, self.tolerance), (Fraction(v), Fraction(0)), self.bound)

    def describe(self) -> str:
        bound = {"exact": "", "at_most": "at most ", "at_least": "at least "}[self.bound]
        tol = f" (within {fmt_num(self.tolerance)})" if self.tolerance else ""
        return f"{bound}{fmt_num(self.value)}{tol}"


def claimed_figure(claim: Any) -> Claimed:
    text = claim.claimed
    approx = getattr(claim, "approx", False)
    relative = getattr(claim, "tolerance", None)
    bound = getattr(claim, "bound", "exact")
    lhs: Fraction | None = None
    if written_as_formula(text):
        formula = parse_formula(text)
        lhs = formula.lhs
        value, tol = (lhs, Fraction(0)) if formula.stated is None else precision(text.split("=")[1].strip(), approx)
    else:
        value, tol = precision(text, approx)
    unitless = isinstance(text, (str, float)) and re.fullmatch(r"\s*\d+\.\d+\s*", str(text)) is not None
    return Claimed(value, Fraction(relative) * abs(value) if relative else tol, lhs, bound, unitless)


def fmt_num(v: Fraction | int) -> str:
    v = Fraction(v)
    return f"{int(v):,}" if v.denominator == 1 else f"{float(v):,.6g}"


def _formula_agrees(c: Claimed) -> bool:
    """The source's formula gives its own stated result, at the precision the result is written with."""
    return c.lhs is None or abs(c.lhs - c.value) <= c.tolerance


def judge_number(claim: Any, ctx: Context, quantity: Quantity) -> ClaimResult:
    c = claimed_figure(claim)
    rows, spec = ctx.reading.rows, ctx.reading.spec
    measured = figure(rows, spec.stages, claim.target, quantity)
    assert isinstance(measured, int)
    diagnoses: list[Diagnosis] = []
    arithmetic_ok = _formula_agrees(c)
    if not arithmetic_ok:
        assert c.lhs is not None
        slip = digit_slip(int(c.value), int(c.lhs)) if c.lhs.denominator == 1 and c.value.denominator == 1 else None
        right = "; the formula itself matches the measured figure" if c.lhs == measured else ""
        diagnoses.append(Diagnosis("arithmetic_slip", f"the source's own formula evaluates to {fmt_num(c.lhs)}, "
                                   f"not the {fmt_num(c.value)} it states" + (f" ({slip})" if slip else "") + right))
    holds = arithmetic_ok and c.matches(measured)
    detail = f"{quantity.replace('_', ' ')}: claimed {c.describe()}, measured {measured:,}"
    if holds:
        return result(claim, measured, Verdict.HOLDS, detail)
    if arithmetic_ok and c.unitless_decimal:
        for unit, scale in _DROPPED_UNITS:
            scaled = replace(c, value=c.value * scale, tolerance=c.tolerance * scale)
            if scaled.matches(measured):
                return result(claim, measured, Verdict.HOLDS, f"{detail}; the figure is written without its unit: read as "
                              f"{claim.claimed} {unit} ({scaled.describe()}) it matches")
    if not c.matches(measured) and c.lhs != measured:  # a right formula needs no other explanation
        diagnoses += numeric_diagnoses(claimed=c.value, measured=measured, quantity=quantity, target=claim.target,
                                       matches=c.matches, reading=ctx.reading, counterpart=ctx.counterpart,
                                       approximate=c.tolerance > 0, references=ctx.reference_readings)
    return result(claim, measured, Verdict.FAILS, detail, diagnoses)


def judge_params(claim: ParamsClaim, ctx: Context, _: list[ClaimResult]) -> ClaimResult:
    quantity: Quantity = "params" if claim.bias == "included" else "params_no_bias"
    if not claim.share:
        return judge_number(claim, ctx, quantity)
    c = claimed_figure(claim)
    rows, spec = ctx.reading.rows, ctx.reading.spec
    part, whole = figure(rows, spec.stages, claim.target, quantity), figure(rows, spec.stages, None, quantity)
    assert isinstance(part, int) and isinstance(whole, int)
    share = Fraction(part, whole)
    detail = (f"share of all parameters: claimed {claim.claimed} ({c.describe()}), measured {part:,} of {whole:,} = "
              f"{float(share):.2%}")
    return result(claim, f"{float(share):.2%}", Verdict.HOLDS if c.matches(share) else Verdict.FAILS, detail)


def judge_compute(claim: ComputeClaim, ctx: Context, _: list[ClaimResult]) -> ClaimResult:
    if claim.kind != "compute":
        return judge_number(claim, ctx, claim.kind)
    c = claimed_figure(claim)
    rows, spec = ctx.reading.rows, ctx.reading.spec
    macs = figure(rows, spec.stages, claim.target, "macs")
    flops = figure(rows, spec.stages, claim.target, "flops")
    assert isinstance(macs, int) and isinstance(flops, int)
    readings = {"MACs": (macs, c.matches(macs)), "FLOPs": (flops, c.matches(flops))}
    detail = "; ".join(f"read as {name} ({v:,}) it {'holds' if ok else 'fails'}" for name, (v, ok) in readings.items())
    if any(ok for _, ok in readings.values()):
        return result(claim, {"macs": macs, "flops": flops}, Verdict.AMBIGUOUS, "the source does not say MACs or FLOPs: " + detail)
    found = judge_number(claim, ctx, "macs")
    return replace(found, measured={"macs": macs, "flops": flops}, verdict=Verdict.FAILS,
                   detail="the source does not say MACs or FLOPs: " + detail)


def judge_count(claim: CountClaim, ctx: Context, _: list[ClaimResult]) -> ClaimResult:
    if claim.kind == "connections" and claim.bias == "included":
        found = judge_number(claim, ctx, "connections_with_bias")
        default = figure(ctx.reading.rows, ctx.reading.spec.stages, claim.target, "connections")
        assert isinstance(default, int)
        return replace(found, detail=found.detail.replace("connections with bias:", "connections, each bias counted as one "
                       "more connection and every RBF unit's inputs (LeCun et al. 1998's convention, `bias: included`):", 1)
                       + f"; this tool's default count (weight-input pairs, no bias) is {default:,}")
    return judge_number(claim, ctx, claim.kind)


# ---------------------------------------------------------------- memory

_DTYPE_BYTES = {"float32": 4, "float16": 2, "bfloat16": 2, "float64": 8, "int8": 1}
_UNIT_BYTES = {"B": 1, "KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12, "KiB": 2**10, "MiB": 2**20, "GiB": 2**30, "TiB": 2**40}


def judge_memory(claim: MemoryClaim, ctx: Context, _: list[ClaimResult]) -> ClaimResult:
    rows, spec = ctx.reading.rows, ctx.reading.spec
    size = _DTYPE_BYTES[claim.dtype]
    if claim.of == "params":
        elements = figure(rows, spec.stages, claim.target, "params")
        assert isinstance(elements, int)
        what = f"{elements:,} trainable parameters x {size} bytes ({claim.dtype})"
    else:
        chosen = [r for r in rows if claim.target is None or r.name in spec.stages.get(claim.target, (claim.target,))]
        elements = sum(math.prod(r.output_shape) for r in chosen) + (math.prod(spec.doc.input) if claim.target is None else 0)
        what = (f"{elements:,} activations of one image x {size} bytes ({claim.dtype}): "
                + ("the input and every layer's output, each held once" if claim.target is None else f"the outputs of {claim.target}'s layers"))
    measured = elements * size
    number, unit = byte_figure(claim.claimed)
    value, tol = precision(number, True)  # a figure with a unit is rounded to it: "248 KB" is 247.5 to 248.5 KB
    units = [unit] if unit.endswith("iB") or unit == "B" else [unit, unit[0] + "iB"]
    verdicts: list[tuple[str, bool]] = []
    for u in units:
        c = Claimed(value * _UNIT_BYTES[u], tol * _UNIT_BYTES[u], None, claim.bound)
        verdicts.append((u, c.matches(measured)))
    readings = "; ".join(f"read as {fmt_num(value)} {u} = {fmt_num(value * _UNIT_BYTES[u])} bytes it {'holds' if ok else 'fails'}"
                         for u, ok in verdicts)
    detail = f"{what} = {measured:,} bytes; {readings}"
    oks = [ok for _, ok in verdicts]
    verdict = Verdict.HOLDS if all(oks) else Verdict.AMBIGUOUS if any(oks) else Verdict.FAILS
    diagnoses = [] if any(oks) else [Diagnosis("unexplained", f"{measured:,} bytes is {measured / _UNIT_BYTES[units[-1]]:,.4g} {units[-1]}"
                                               + (f" and {measured / _UNIT_BYTES[units[0]]:,.4g} {units[0]}" if len(units) > 1 else ""))]
    return result(claim, measured, verdict, detail, diagnoses)


# ---------------------------------------------------------------- arithmetic written out

_DIMENSIONS = {"height": 1, "width": 2, "channels": 0}


def judge_arithmetic(claim: ArithmeticClaim, ctx: Context, _: list[ClaimResult]) -> ClaimResult:
    formula = parse_formula(claim.claimed)
    assert formula.stated is not None
    stated_text = claim.claimed.split("=")[1].strip()
    stated, tol = precision(stated_text, False)
    diagnoses: list[Diagnosis] = []
    at = f" (at the precision written, within {fmt_num(tol)})" if tol else ""
    parts = [f"{claim.claimed.split('=')[0].strip()} evaluates to {fmt_num(formula.lhs)}, the source states {stated_text}{at}"]
    ok = abs(formula.lhs - stated) <= tol
    if not ok:
        slip = digit_slip(int(stated), int(formula.lhs)) if formula.lhs.denominator == stated.denominator == 1 else None
        diagnoses.append(Diagnosis("arithmetic_slip", f"the formula evaluates to {fmt_num(formula.lhs)}" + (f": {slip}" if slip else "")))
    measured: int | None = None
    if claim.measured:
        q, target = claim.measured.quantity, claim.measured.target
        # Every measured quantity but a dimension is one figures.py counts; mypy cannot narrow by `in`.
        counted = None if q in _DIMENSIONS else cast(Quantity, q)
        if counted is None:
            shape = ctx.analysis.output_shape(target) if target else ctx.analysis.layers[-1].output_shape
            measured = shape[_DIMENSIONS[q]] if len(shape) == 3 else None
        else:
            value = figure(ctx.reading.rows, ctx.reading.spec.stages, target, counted)
            measured = value if isinstance(value, int) else None
        parts.append(f"the measured {q} of {target or 'the network'} is "
                     + (f"{measured:,}" if measured is not None else "not defined (not a feature map)"))
        if measured is None or abs(Fraction(measured) - stated) > tol:
            ok = False
            if measured is not None and counted is not None:
                diagnoses += numeric_diagnoses(claimed=stated, measured=measured, quantity=counted, target=target,
                                               matches=lambda v: abs(Fraction(v) - stated) <= tol, reading=ctx.reading,
                                               counterpart=ctx.counterpart, references=ctx.reference_readings)
            elif measured is not None and target and q in ("height", "width") and stated.denominator == 1:
                diagnoses += padding_needed(ctx.reading.spec, target, int(stated), measured, axis=_DIMENSIONS[q], written=True)
                if slip := digit_slip(int(stated), measured):
                    diagnoses.append(Diagnosis("digit_slip", slip))
            elif measured is not None and stated.denominator == 1 and (slip := digit_slip(int(stated), measured)):
                diagnoses.append(Diagnosis("digit_slip", slip))
            if measured is not None and formula.lhs == measured and abs(formula.lhs - stated) > tol:
                diagnoses.insert(0, Diagnosis("arithmetic_slip", f"the formula is right ({fmt_num(formula.lhs)} = the measured figure); "
                                              f"the result written, {stated_text}, is not"))
        if claim.measured.terms and target:
            wrong = _terms_differ(claim, ctx)
            if wrong:
                ok = False
                parts.append("the formula's own terms are not the layer's: " + "; ".join(wrong))
                diagnoses.insert(0, Diagnosis("other_terms", f"the formula is built from other figures than {target}'s: "
                                              + "; ".join(wrong) + (" (the result agrees with the layer only by coincidence)"
                                                                     if measured is not None and Fraction(measured) == stated else "")))
    return result(claim, measured, Verdict.HOLDS if ok else Verdict.FAILS, "; ".join(parts), diagnoses)


def _terms_differ(claim: ArithmeticClaim, ctx: Context) -> list[str]:
    """Each term the source's formula uses that is not what the target layer has."""
    assert claim.measured and claim.measured.terms and claim.measured.target
    terms, target = claim.measured.terms, claim.measured.target
    axis = 2 if claim.measured.quantity == "width" else 1
    names = [m.name for m in ctx.analysis.modules]
    layer_name = ctx.analysis.spec.stages.get(target, (target,))[-1]
    i = names.index(layer_name)
    module = ctx.analysis.modules[i]
    size_in = ctx.analysis.layers[i].input_shape
    have = {"input": size_in[axis] if len(size_in) == 3 else None, "kernel": module.kernel, "stride": module.stride,
            "padding": Fraction(sum(module.padding), 2) if module.padding else None}
    wrong = []
    for field, label in (("input", "input size"), ("kernel", "window"), ("stride", "stride"), ("padding", "padding per side")):
        written, built = getattr(terms, field), have[field]
        if written is None:
            continue
        if built is None or Fraction(written).limit_denominator(1000) != Fraction(built):
            shown = "none" if built is None else fmt_num(Fraction(built))
            wrong.append(f"{label} {fmt_num(Fraction(written).limit_denominator(1000))} in the formula, {shown} in {module.name}")
    return wrong
