"""Judge every claim of a spec against its measured analysis: a verdict and, for a failing
figure, the diagnoses that reproduce it. No claim is ever skipped: each kind has a judge."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from enum import Enum
from fractions import Fraction
from typing import Any, Callable

from .analysis import ACTIVATIONS, WEIGHTED, Analysis, ModuleInfo, followers
from .arith import parse_figure, parse_formula
from .diagnose import Diagnosis, Reading, digit_slip, numeric_diagnoses, shape_diagnoses, shape_slip
from .figures import Quantity, figure, rows_from_analysis
from .layers import Shape, shape_hwc
from .claim_schema import (
    AllHave, ArithmeticClaim, ComputeClaim, Contains, CountClaim, FollowedBy, InputClaim, LayerCountClaim, LayerHas, NoActivation,
    Overlapping, ParamsClaim, ShapeClaim, SpeedupClaim, StructureClaim, TrainingClaim, UnverifiableClaim,
)
from .train.findings import speedup_claim, training_claim
from .train.record import TrainingRecord


class Verdict(str, Enum):
    HOLDS = "holds"
    FAILS = "fails"
    AMBIGUOUS = "ambiguous"
    UNVERIFIABLE = "unverifiable"

    def __str__(self) -> str:  # print(result.verdict) says "fails", not "Verdict.FAILS"
        return self.value


@dataclass(frozen=True)
class ClaimResult:
    id: str
    kind: str
    target: str | None
    claimed: Any  # as the spec wrote it
    measured: Any  # in the claim's own terms (a number, a shape string, a list of layers)
    verdict: Verdict
    diagnoses: tuple[Diagnosis, ...]
    detail: str  # what was compared; readings for `ambiguous`; what is needed for `unverifiable`
    where: str

    @property
    def diagnosis(self) -> str | None:
        return self.diagnoses[0].message if self.diagnoses else None


@dataclass(frozen=True)
class Context:
    analysis: Analysis
    reading: Reading
    counterpart: Reading | None
    training: TrainingRecord | None = None  # this spec's recorded training run, if any
    counterpart_analysis: Analysis | None = None


def judge_all(analysis: Analysis, counterpart: Analysis | None = None,
              training: TrainingRecord | None = None) -> tuple[ClaimResult, ...]:
    """`training`: this spec's recorded training run (reports/training/<id>.json), for the training claims."""
    ctx = Context(
        analysis,
        Reading(analysis.spec, rows_from_analysis(analysis)),
        Reading(counterpart.spec, rows_from_analysis(counterpart)) if counterpart else None,
        training,
        counterpart,
    )
    results: list[ClaimResult] = []
    for claim in analysis.spec.doc.claims:
        results.append(_JUDGES[type(claim)](claim, ctx, results))
    return tuple(results)


def _result(claim: Any, measured: Any, verdict: Verdict, detail: str, diagnoses: list[Diagnosis] | None = None) -> ClaimResult:
    return ClaimResult(claim.id, claim.kind, getattr(claim, "target", None), claim.claimed, measured, verdict,
                       tuple(diagnoses or ()), detail, claim.where)


# ---------------------------------------------------------------- numbers and formulas


@dataclass(frozen=True)
class _Claimed:
    value: Fraction
    tolerance: Fraction
    lhs: Fraction | None  # when the source wrote a formula
    bound: str = "exact"

    def matches(self, v: int | Fraction) -> bool:
        if self.bound == "at_most":
            return Fraction(v) <= self.value + self.tolerance
        if self.bound == "at_least":
            return Fraction(v) >= self.value - self.tolerance
        return abs(Fraction(v) - self.value) <= self.tolerance

    def describe(self) -> str:
        bound = {"exact": "", "at_most": "at most ", "at_least": "at least "}[self.bound]
        tol = f" (within {_fmt_num(self.tolerance)})" if self.tolerance else ""
        return f"{bound}{_fmt_num(self.value)}{tol}"


def _claimed(claim: Any) -> _Claimed:
    text = claim.claimed
    if isinstance(text, str) and re.search(r"[*/^()+=]", text):
        formula = parse_formula(text)
        value = formula.stated if formula.stated is not None else formula.lhs
        tol = Fraction(claim.tolerance) * abs(value) if getattr(claim, "tolerance", None) else Fraction(0)
        return _Claimed(value, tol, formula.lhs, getattr(claim, "bound", "exact"))
    fig = parse_figure(text)
    if getattr(claim, "tolerance", None):
        tol = Fraction(claim.tolerance) * abs(fig.value)
    elif getattr(claim, "approx", False):
        tol = fig.half_unit
    else:
        tol = Fraction(0)
    return _Claimed(fig.value, tol, None, getattr(claim, "bound", "exact"))


def _fmt_num(v: Fraction | int) -> str:
    v = Fraction(v)
    return f"{int(v):,}" if v.denominator == 1 else f"{float(v):,.6g}"


def _judge_number(claim: Any, ctx: Context, quantity: Quantity) -> ClaimResult:
    c = _claimed(claim)
    rows, spec = ctx.reading.rows, ctx.reading.spec
    measured = figure(rows, spec.stages, claim.target, quantity)
    assert isinstance(measured, int)
    diagnoses: list[Diagnosis] = []
    arithmetic_ok = c.lhs is None or c.lhs == c.value
    if not arithmetic_ok:
        assert c.lhs is not None
        slip = digit_slip(int(c.value), int(c.lhs)) if c.lhs.denominator == 1 and c.value.denominator == 1 else None
        right = "; the formula itself matches the measured figure" if c.lhs == measured else ""
        diagnoses.append(Diagnosis("arithmetic_slip", f"the source's own formula evaluates to {_fmt_num(c.lhs)}, "
                                   f"not the {_fmt_num(c.value)} it states" + (f" ({slip})" if slip else "") + right))
    holds = arithmetic_ok and c.matches(measured)
    detail = f"{quantity.replace('_', ' ')}: claimed {c.describe()}, measured {measured:,}"
    if holds:
        return _result(claim, measured, Verdict.HOLDS, detail)
    if not c.matches(measured) and c.lhs != measured:  # a right formula needs no other explanation
        diagnoses += numeric_diagnoses(claimed=c.value, measured=measured, quantity=quantity, target=claim.target,
                                       matches=c.matches, reading=ctx.reading, counterpart=ctx.counterpart,
                                       approximate=c.tolerance > 0)
    return _result(claim, measured, Verdict.FAILS, detail, diagnoses)


def _judge_params(claim: ParamsClaim, ctx: Context, _: list[ClaimResult]) -> ClaimResult:
    quantity: Quantity = "params" if claim.bias == "included" else "params_no_bias"
    if not claim.share:
        return _judge_number(claim, ctx, quantity)
    c = _claimed(claim)
    rows, spec = ctx.reading.rows, ctx.reading.spec
    part, whole = figure(rows, spec.stages, claim.target, quantity), figure(rows, spec.stages, None, quantity)
    assert isinstance(part, int) and isinstance(whole, int)
    share = Fraction(part, whole)
    detail = (f"share of all parameters: claimed {c.describe()}, measured {part:,} of {whole:,} = "
              f"{float(share):.2%}")
    return _result(claim, f"{float(share):.2%}", Verdict.HOLDS if c.matches(share) else Verdict.FAILS, detail)


def _judge_compute(claim: ComputeClaim, ctx: Context, _: list[ClaimResult]) -> ClaimResult:
    if claim.kind != "compute":
        return _judge_number(claim, ctx, claim.kind)
    c = _claimed(claim)
    rows, spec = ctx.reading.rows, ctx.reading.spec
    macs = figure(rows, spec.stages, claim.target, "macs")
    flops = figure(rows, spec.stages, claim.target, "flops")
    assert isinstance(macs, int) and isinstance(flops, int)
    readings = {"MACs": (macs, c.matches(macs)), "FLOPs": (flops, c.matches(flops))}
    detail = "; ".join(f"read as {name} ({v:,}) it {'holds' if ok else 'fails'}" for name, (v, ok) in readings.items())
    if any(ok for _, ok in readings.values()):
        return _result(claim, {"macs": macs, "flops": flops}, Verdict.AMBIGUOUS,
                       "the source does not say MACs or FLOPs: " + detail)
    result = _judge_number(claim, ctx, "macs")
    return ClaimResult(result.id, result.kind, result.target, result.claimed, {"macs": macs, "flops": flops},
                       Verdict.FAILS, result.diagnoses, "the source does not say MACs or FLOPs: " + detail, result.where)


def _judge_count(claim: CountClaim, ctx: Context, _: list[ClaimResult]) -> ClaimResult:
    return _judge_number(claim, ctx, claim.kind)


# ---------------------------------------------------------------- shapes


def _parse_shape(claimed: str | list[int]) -> tuple[int, ...]:
    if isinstance(claimed, list):
        return tuple(claimed)
    parts = re.split(r"\s*[x×X*]\s*", claimed.strip())
    return tuple(int(p) for p in parts)


def _to_chw(dims: tuple[int, ...], layout: str) -> tuple[int, ...]:
    if layout == "hwc" and len(dims) == 3:
        return (dims[2], dims[0], dims[1])
    return dims


def _shape_text(shape: Shape, layout: str) -> str:
    return shape_hwc(shape) if layout == "hwc" else "x".join(map(str, shape))


def _judge_input(claim: InputClaim, ctx: Context, _: list[ClaimResult]) -> ClaimResult:
    dims = _parse_shape(claim.claimed)
    built = tuple(ctx.analysis.spec.doc.input)
    compared = built[1:] if claim.layout == "hw" else built
    claimed = dims if claim.layout in ("hw", "chw") else _to_chw(dims, "hwc")
    shown = _shape_text(compared, claim.layout)
    detail = f"input: claimed {claim.claimed}, the network is built for {shown} ({claim.layout.upper()})"
    if claimed == compared:
        return _result(claim, shown, Verdict.HOLDS, detail)
    diagnoses = []
    other = ctx.counterpart_analysis
    if other is not None:
        theirs = tuple(other.spec.doc.input)
        if (theirs[1:] if claim.layout == "hw" else theirs) == claimed:
            diagnoses.append(Diagnosis("code_vs_prose", f"the post's other reading (spec {other.spec.id}) is built for "
                                       f"{_shape_text(theirs if claim.layout != 'hw' else theirs[1:], claim.layout)}"))
    if slip := shape_slip(claimed, compared):
        diagnoses.append(Diagnosis("digit_slip", slip))
    return _result(claim, shown, Verdict.FAILS, detail, diagnoses)


def _judge_shape(claim: ShapeClaim, ctx: Context, earlier: list[ClaimResult]) -> ClaimResult:
    try:
        dims = _parse_shape(claim.claimed)
    except ValueError:
        dims = ()
    measured = ctx.analysis.output_shape(claim.target)
    shown = _shape_text(measured, claim.layout)
    if not dims:
        return _result(claim, shown, Verdict.FAILS, f"cannot read {claim.claimed!r} as a shape")
    if claim.layout in ("hw", "c"):
        part = measured[1:] if claim.layout == "hw" else measured[:1]
        ok = (len(measured) == 3 or claim.layout == "c") and tuple(dims) == tuple(part)
        detail = f"{claim.layout.upper()} of the output: claimed {'x'.join(map(str, dims))}, measured {'x'.join(map(str, part))}"
        slip = None if ok else shape_slip(tuple(dims), tuple(part))
        return _result(claim, "x".join(map(str, part)), Verdict.HOLDS if ok else Verdict.FAILS, detail,
                       [Diagnosis("digit_slip", slip)] if slip else [])
    if len(measured) == 1:
        # A vector written as "4096x1": every other dimension must be 1.
        ok = sorted(dims)[-1] == measured[0] and all(d == 1 for d in sorted(dims)[:-1])
        chw: tuple[int, ...] = (max(dims),) if ok else dims
    else:
        chw = _to_chw(dims, claim.layout)
        ok = chw == measured
    detail = f"output of {claim.target}: claimed {claim.claimed}, measured {shown} ({claim.layout.upper()})"
    if ok:
        return _result(claim, shown, Verdict.HOLDS, detail)
    failed_before = [
        (r.id, r.target, _to_chw(_parse_shape(r.claimed), _layout_of(ctx, r.id)))
        for r in earlier if r.kind == "output_shape" and r.verdict == Verdict.FAILS and r.target
    ]
    diagnoses = shape_diagnoses(claimed=chw, measured=measured, target=claim.target, reading=ctx.reading,
                                counterpart=ctx.counterpart, earlier=failed_before)
    return _result(claim, shown, Verdict.FAILS, detail, diagnoses)


def _layout_of(ctx: Context, claim_id: str) -> str:
    claim = next(c for c in ctx.analysis.spec.doc.claims if c.id == claim_id)
    return claim.layout  # type: ignore[union-attr]


# ---------------------------------------------------------------- structure, read off the built model

def _is(category: str, wanted: str) -> bool:
    return category == wanted or (wanted == "pool" and category in ("maxpool", "avgpool")) or (
        wanted == "weighted" and category in WEIGHTED)


def _anchor(ctx: Context, name: str) -> int:
    """The position of a named layer, or of a stage's conv/linear layer (else its last layer)."""
    names = [m.name for m in ctx.analysis.modules]
    members = ctx.analysis.spec.stages.get(name, (name,))
    weighted = [n for n in members if ctx.analysis.modules[names.index(n)].category in WEIGHTED]
    return names.index(weighted[0] if weighted else members[-1])


def _weighted_followed_by(modules: tuple[ModuleInfo, ...], by: str) -> list[str]:
    return [m.name for i, m in enumerate(modules) if m.category in WEIGHTED
            and any(_is(f.category, by) for f in followers(modules, i))]


def _judge_layer_count(claim: LayerCountClaim, ctx: Context, _: list[ClaimResult]) -> ClaimResult:
    modules = ctx.analysis.modules
    kinds = claim.of if isinstance(claim.of, list) else [claim.of]
    matching = [(i, m) for i, m in enumerate(modules) if any(_is(m.category, k) for k in kinds)]
    if claim.followed_by:
        matching = [(i, m) for i, m in matching if any(_is(f.category, claim.followed_by) for f in followers(modules, i))]
    measured = len(matching)
    what = f"{' + '.join(kinds)} layers" + (f" followed by {claim.followed_by}" if claim.followed_by else "")
    detail = f"{what}: claimed {claim.claimed}, the built model has {measured} ({', '.join(m.name for _, m in matching) or 'none'})"
    if measured == claim.claimed:
        return _result(claim, measured, Verdict.HOLDS, detail)
    diagnoses = []
    if ctx.counterpart:
        other = ctx.counterpart.rows
        n = sum(1 for r in other if any(_is(r.kind, k) for k in kinds)) if not claim.followed_by else None
        if n == claim.claimed:
            diagnoses.append(Diagnosis("code_vs_prose", f"the post's other reading (spec {ctx.counterpart.spec.id}) has {n}"))
    return _result(claim, measured, Verdict.FAILS, detail, diagnoses)


def _judge_structure(claim: StructureClaim, ctx: Context, _: list[ClaimResult]) -> ClaimResult:
    result = _structure(claim, ctx)
    other = ctx.counterpart_analysis
    if result.verdict != Verdict.FAILS or other is None:
        return result
    try:
        there = _structure(claim, Context(other, Reading(other.spec, rows_from_analysis(other)), None))
    except ValueError:  # the check names a layer that the other reading does not have
        return result
    if there.verdict == Verdict.HOLDS:
        found = Diagnosis("code_vs_prose", f"the post's other reading (spec {other.spec.id}) has it: {there.detail}")
        return replace(result, diagnoses=(found,) + result.diagnoses)
    return result


def _structure(claim: StructureClaim, ctx: Context) -> ClaimResult:
    modules = ctx.analysis.modules
    check = claim.check
    if isinstance(check, FollowedBy):
        have = _weighted_followed_by(modules, check.followed_by)
        wanted = [modules[_anchor(ctx, n)].name for n in check.layers]
        missing = [n for n in wanted if n not in have]
        extra = [n for n in have if n not in wanted] if check.exactly else []
        ok = not missing and not extra
        problems = ([f"not after {', '.join(missing)}"] if missing else []) + ([f"also after {', '.join(extra)}"] if extra else [])
        detail = f"{check.followed_by} follows: {', '.join(have) or 'no conv/linear layer'}" + (f" ({'; '.join(problems)})" if problems else "")
        return _result(claim, have, Verdict.HOLDS if ok else Verdict.FAILS, detail)
    if isinstance(check, AllHave):
        found = [m for m in modules if _is(m.category, check.all_of)]
        wanted = {k: v for k, v in (("kernel", check.kernel), ("stride", check.stride), ("p", check.p)) if v is not None}
        bad = [m for m in found if any(getattr(m, k) != v for k, v in wanted.items())]
        seen = [f"{m.name}: " + ", ".join(f"{k}={getattr(m, k)}" for k in wanted) for m in found]
        ok = bool(found) and not bad
        detail = (f"every {check.all_of} with " + ", ".join(f"{k}={v}" for k, v in wanted.items()) + ": "
                  + ("; ".join(seen) if found else f"the built model has no {check.all_of} layer"))
        return _result(claim, seen, Verdict.HOLDS if ok else Verdict.FAILS, detail)
    if isinstance(check, Overlapping):
        found = [m for m in modules if _is(m.category, check.overlapping)]
        seen = [f"{m.name}: kernel {m.kernel}, stride {m.stride}" for m in found]
        ok = bool(found) and all(m.stride is not None and m.kernel is not None and m.stride < m.kernel for m in found)
        detail = "overlapping windows need stride < kernel: " + ("; ".join(seen) if found else f"no {check.overlapping} layer")
        return _result(claim, seen, Verdict.HOLDS if ok else Verdict.FAILS, detail)
    if isinstance(check, Contains):
        found = [m.name for m in modules if _is(m.category, check.contains)]
        ok = bool(found) == check.present
        detail = f"{check.contains} layers in the built model: {', '.join(found) or 'none'}"
        return _result(claim, found, Verdict.HOLDS if ok else Verdict.FAILS, detail)
    if isinstance(check, LayerHas):
        module = modules[_anchor(ctx, check.layer)]
        wanted = {k: v for k, v in (("kernel", check.kernel), ("stride", check.stride), ("out_channels", check.out_channels),
                                    ("padding", check.padding), ("groups", check.groups)) if v is not None}
        if isinstance(wanted.get("padding"), int):
            wanted["padding"] = (wanted["padding"], wanted["padding"])
        seen = {k: getattr(module, k) for k in wanted}
        bad = [k for k in wanted if seen[k] != wanted[k]]
        detail = f"{module.name}: " + ", ".join(f"{k} {_attr(seen[k])}" + (f" (claimed {_attr(wanted[k])})" if k in bad else "")
                                                for k in wanted)
        diagnoses = []
        if "out_channels" in bad and seen["out_channels"] and wanted["out_channels"] * 2 == seen["out_channels"]:
            diagnoses.append(Diagnosis("half_channels", f"one GPU's share: half of {module.name}'s {seen['out_channels']} channels is {wanted['out_channels']}"))
        return _result(claim, {k: _attr(v) for k, v in seen.items()}, Verdict.FAILS if bad else Verdict.HOLDS, detail, diagnoses)
    assert isinstance(check, NoActivation)
    with_act = {m.name for i, m in enumerate(modules) if m.category in WEIGHTED
                and any(f.category in ACTIVATIONS for f in followers(modules, i))}
    wanted = [modules[_anchor(ctx, n)].name for n in check.activation_after]
    wrong = [n for n in wanted if (n in with_act) != check.present]
    detail = (f"a non-linearity {'follows' if check.present else 'does not follow'} "
              f"{', '.join(wanted)}" + (f": not so for {', '.join(wrong)}" if wrong else ""))
    return _result(claim, sorted(with_act & set(wanted)), Verdict.FAILS if wrong else Verdict.HOLDS, detail)


def _attr(value: Any) -> Any:
    if isinstance(value, tuple) and len(value) == 2 and value[0] == value[1]:
        return value[0]
    return list(value) if isinstance(value, tuple) else value


# ---------------------------------------------------------------- arithmetic written out

_DIMENSIONS = {"height": 1, "width": 2, "channels": 0}


def _judge_arithmetic(claim: ArithmeticClaim, ctx: Context, _: list[ClaimResult]) -> ClaimResult:
    formula = parse_formula(claim.claimed)
    assert formula.stated is not None
    diagnoses: list[Diagnosis] = []
    parts = [f"{claim.claimed.split('=')[0].strip()} evaluates to {_fmt_num(formula.lhs)}, the source states {_fmt_num(formula.stated)}"]
    ok = formula.lhs == formula.stated
    if not ok:
        slip = digit_slip(int(formula.stated), int(formula.lhs)) if formula.lhs.denominator == formula.stated.denominator == 1 else None
        diagnoses.append(Diagnosis("arithmetic_slip", f"the formula evaluates to {_fmt_num(formula.lhs)}" + (f": {slip}" if slip else "")))
    measured: int | None = None
    if claim.measured:
        q = claim.measured.quantity
        if q in _DIMENSIONS:
            shape = ctx.analysis.output_shape(claim.measured.target) if claim.measured.target else ctx.analysis.layers[-1].output_shape
            measured = shape[_DIMENSIONS[q]] if len(shape) == 3 else None
        else:
            value = figure(ctx.reading.rows, ctx.reading.spec.stages, claim.measured.target, q)
            measured = value if isinstance(value, int) else None
        parts.append(f"the measured {q} of {claim.measured.target or 'the network'} is "
                     + (f"{measured:,}" if measured is not None else "not defined (not a feature map)"))
        if measured is None or Fraction(measured) != formula.stated:
            ok = False
            if measured is not None and q not in _DIMENSIONS:
                diagnoses += numeric_diagnoses(claimed=formula.stated, measured=measured, quantity=q, target=claim.measured.target,
                                               matches=lambda v: Fraction(v) == formula.stated, reading=ctx.reading,
                                               counterpart=ctx.counterpart)
            elif measured is not None and formula.stated.denominator == 1 and (slip := digit_slip(int(formula.stated), measured)):
                diagnoses.append(Diagnosis("digit_slip", slip))
            if measured is not None and formula.lhs == measured and formula.lhs != formula.stated:
                diagnoses.insert(0, Diagnosis("arithmetic_slip", f"the formula is right ({_fmt_num(formula.lhs)} = the measured figure); "
                                              f"the result written, {_fmt_num(formula.stated)}, is not"))
    return _result(claim, measured, Verdict.HOLDS if ok else Verdict.FAILS, "; ".join(parts), diagnoses)


# ---------------------------------------------------------------- what this tool cannot measure here


def _judge_training(claim: TrainingClaim, ctx: Context, _: list[ClaimResult]) -> ClaimResult:
    source = ctx.analysis.spec.doc.training
    found = training_claim(claim, ctx.training, source.epochs if source else None)
    return _result(claim, found.measured, Verdict(found.verdict), found.detail)


def _judge_speedup(claim: SpeedupClaim, ctx: Context, _: list[ClaimResult]) -> ClaimResult:
    found = speedup_claim(claim, ctx.training)
    return _result(claim, found.measured, Verdict(found.verdict), found.detail)


def _judge_unverifiable(claim: UnverifiableClaim, ctx: Context, _: list[ClaimResult]) -> ClaimResult:
    return _result(claim, None, Verdict.UNVERIFIABLE, f"needs {claim.needs}")


_JUDGES: dict[type, Callable[[Any, Context, list[ClaimResult]], ClaimResult]] = {
    InputClaim: _judge_input,
    ShapeClaim: _judge_shape,
    ParamsClaim: _judge_params,
    ComputeClaim: _judge_compute,
    CountClaim: _judge_count,
    LayerCountClaim: _judge_layer_count,
    StructureClaim: _judge_structure,
    ArithmeticClaim: _judge_arithmetic,
    TrainingClaim: _judge_training,
    SpeedupClaim: _judge_speedup,
    UnverifiableClaim: _judge_unverifiable,
}
