"""Judge every claim of a spec against its measured analysis: a verdict and, for a failing
figure, the diagnoses that reproduce it. No claim is ever skipped: each kind has a judge.

A claim may be judged several times: against each network it names (`against: [prose, code]`,
the spec's own reading and its counterpart) and under each interpretation it lists
(`readings`). Each is a `ReadingResult` on the claim's result, and the verdict combines them:
against several networks the claim fails when it fails on any; its interpretations make it
ambiguous when they disagree.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Callable, Mapping

from .results import Analysis
from .claim_schema import (
    Against, ArithmeticClaim, ComputeClaim, CountClaim, FactClaim, InputClaim, IterationClaim, LayerCountClaim, MemoryClaim,
    PaddingClaim, ParamsClaim, SameAsClaim, ShapeClaim, SizeRuleClaim, SpeedupClaim, StructureClaim, TrainingClaim,
    ListingClaim, UnverifiableClaim, WeightShapeClaim, alternative_claim, claim_layer_names, renamed_claim,
)
from .claims_facts import judge_fact_claim, judge_iterations, judge_speedup, judge_training, judge_unverifiable
from .claims_numeric import judge_arithmetic, judge_compute, judge_count, judge_memory, judge_params
from .claims_shape import judge_input, judge_padding, judge_shape, judge_size_rule, judge_weight_shape
from .claims_structure import judge_layer_count, judge_listing, judge_same_as, judge_structure
from .diagnose import Diagnosis, Reading
from .facts import FactBase
from .figures import rows_from_analysis
from .train.record import TrainingRecord
from .verdicts import ClaimResult, Context, ReadingResult, Verdict, result

__all__ = ["ClaimResult", "ReadingResult", "Verdict", "judge_all"]


def judge_all(analysis: Analysis, counterpart: Analysis | None = None, training: TrainingRecord | None = None, *,
              facts: FactBase | None = None, references: Mapping[str, Analysis] | None = None) -> tuple[ClaimResult, ...]:
    """`training`: this spec's recorded training run, for the training claims; `facts`: the reference
    base (facts.load_facts, loaded once per run); `references`: reference networks by spec id."""
    ctx = context(analysis, counterpart, training, facts=facts, references=references)
    results: list[ClaimResult] = []
    for claim in analysis.spec.doc.claims:
        results.append(judge_claim(claim, ctx, results))
    return tuple(results)


def context(analysis: Analysis, counterpart: Analysis | None = None, training: TrainingRecord | None = None, *,
            facts: FactBase | None = None, references: Mapping[str, Analysis] | None = None) -> Context:
    """What judging the spec's claims needs (judge_all's arguments). Its readings keep the variants
    the diagnoses re-plan, so every claim judged against one context shares them."""
    refs = dict(references or {})
    return Context(
        analysis,
        Reading(analysis.spec, rows_from_analysis(analysis)),
        Reading(counterpart.spec, rows_from_analysis(counterpart)) if counterpart else None,
        training,
        counterpart,
        facts,
        refs,
        tuple(Reading(a.spec, rows_from_analysis(a)) for sid, a in sorted(refs.items()) if sid != analysis.spec.id),
    )


def judge_claim(claim: Any, ctx: Context, earlier: list[ClaimResult]) -> ClaimResult:
    if claim.against:
        return _against(claim, ctx, earlier)
    return _interpretations(claim, ctx, earlier)


# ---------------------------------------------------------------- several interpretations


def _interpretations(claim: Any, ctx: Context, earlier: list[ClaimResult]) -> ClaimResult:
    first = _JUDGES[type(claim)](claim, ctx, earlier)
    if not claim.readings:
        return first
    readings = [first.as_reading("as written")]
    for reading in claim.readings:
        alt = alternative_claim(claim, reading)
        found = _JUDGES[type(alt)](alt, ctx, earlier)
        readings.append(found.as_reading(reading["label"]))
    verdicts = {r.verdict for r in readings if r.verdict != Verdict.UNVERIFIABLE}
    if not verdicts:
        verdict = Verdict.UNVERIFIABLE
    elif verdicts == {Verdict.HOLDS} or verdicts == {Verdict.FAILS}:
        verdict = verdicts.pop()
    else:
        verdict = Verdict.AMBIGUOUS
    detail = ("its readings disagree: " if verdict == Verdict.AMBIGUOUS else "") + "; ".join(
        f"read {r.label}, it {r.verdict.value} ({r.detail})" for r in readings)
    diagnoses = first.diagnoses if verdict == Verdict.FAILS else tuple(
        Diagnosis(d.code, f"read {r.label}: {d.message}") for r in readings if r.verdict == Verdict.FAILS for d in r.diagnoses)
    return replace(first, verdict=verdict, detail=detail, diagnoses=diagnoses, readings=tuple(readings),
                   measured={r.label: r.measured for r in readings})


# ---------------------------------------------------------------- several networks


def _against(claim: Any, ctx: Context, earlier: list[ClaimResult]) -> ClaimResult:
    own = ctx.analysis.spec.doc.source.variant
    readings: list[ReadingResult] = []
    base: ClaimResult | None = None
    for entry in claim.against:
        which = entry if isinstance(entry, Against) else Against(reading=entry)
        on = renamed_claim(claim, {**(which.names or {}), **({claim.target: which.target} if which.target else {})})
        if which.reading == own:
            found = _interpretations(on, ctx, earlier)
            label = f"the {own} (spec {ctx.analysis.spec.id})"
        elif (other := ctx.counterpart_analysis) is not None and ctx.counterpart is not None \
                and other.spec.doc.source.variant == which.reading:
            label = f"the {which.reading} (spec {other.spec.id})"
            found = _on_counterpart(on, ctx, other, ctx.counterpart)
        else:
            label = f"the {which.reading}"
            readings.append(ReadingResult(label, Verdict.UNVERIFIABLE, None, f"needs the post's {which.reading} reading: "
                                          "a counterpart spec of that variant, named in source.counterpart", ()))
            continue
        base = base or found
        readings.append(found.as_reading(label))
    verdicts = [r.verdict for r in readings]
    verdict = next((v for v in (Verdict.FAILS, Verdict.AMBIGUOUS, Verdict.HOLDS) if v in verdicts), Verdict.UNVERIFIABLE)
    detail = "; ".join(f"against {r.label}, it {r.verdict.value}: {r.detail}" for r in readings)
    diagnoses = tuple(Diagnosis(d.code, f"against {r.label}: {d.message}")
                      for r in readings if r.verdict in (Verdict.FAILS, Verdict.AMBIGUOUS) for d in r.diagnoses)
    if base is None:
        base = result(claim, None, verdict, detail)
    return replace(base, verdict=verdict, detail=detail, diagnoses=diagnoses, readings=tuple(readings),
                   measured={r.label: r.measured for r in readings}, target=getattr(claim, "target", None))


def _on_counterpart(claim: Any, ctx: Context, other: Analysis, reading: Reading) -> ClaimResult:
    """The claim judged on the post's other reading (`other`, read as ctx.counterpart, whose
    re-planned variants every claim shares), whose own counterpart is this spec."""
    known = {layer.name for layer in other.spec.layers} | set(other.spec.stages)
    missing = list(dict.fromkeys(n for _, n in claim_layer_names(claim) if n not in known))
    if missing:
        return result(claim, None, Verdict.UNVERIFIABLE,
                      f"spec {other.spec.id} has no layer or stage {', '.join(missing)}; name its counterpart with "
                      "against: [{reading: ..., target: NAME}]")
    there = Context(other, reading, ctx.reading, None,  # the counterpart's training record is not this spec's
                    ctx.analysis, ctx.facts, ctx.references, ctx.reference_readings)
    return _interpretations(claim, there, [])


_JUDGES: dict[type, Callable[[Any, Context, list[ClaimResult]], ClaimResult]] = {
    InputClaim: judge_input,
    ShapeClaim: judge_shape,
    ParamsClaim: judge_params,
    ComputeClaim: judge_compute,
    CountClaim: judge_count,
    LayerCountClaim: judge_layer_count,
    StructureClaim: judge_structure,
    ArithmeticClaim: judge_arithmetic,
    TrainingClaim: judge_training,
    SpeedupClaim: judge_speedup,
    UnverifiableClaim: judge_unverifiable,
    FactClaim: judge_fact_claim,
    PaddingClaim: judge_padding,
    WeightShapeClaim: judge_weight_shape,
    SizeRuleClaim: judge_size_rule,
    IterationClaim: judge_iterations,
    MemoryClaim: judge_memory,
    SameAsClaim: judge_same_as,
    ListingClaim: judge_listing,
}
