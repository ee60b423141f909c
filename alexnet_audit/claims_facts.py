"""Judges of what the network alone does not settle: facts about the paper (the reference base),
the training schedule, training results, experiments, and what nothing here can measure."""

from __future__ import annotations

import math

from .claim_schema import FactClaim, IterationClaim, SpeedupClaim, TrainingClaim, UnverifiableClaim
from .diagnose import Diagnosis
from .facts import judge_fact
from .train.findings import speedup_claim, training_claim
from .verdicts import ClaimResult, Context, Verdict, result


def judge_fact_claim(claim: FactClaim, ctx: Context, _: list[ClaimResult]) -> ClaimResult:
    if ctx.facts is None:
        return result(claim, None, Verdict.UNVERIFIABLE, "needs the reference base of paper facts, which this run did not load")
    found = judge_fact(ctx.facts, claim.fact, claim.claimed, bound=claim.bound, approx=claim.approx)
    if found.holds is None:
        return result(claim, None, Verdict.UNVERIFIABLE, found.detail)
    diagnoses = [Diagnosis("other_fact", f"the figure is another fact's: {other}") for other in found.others]
    if not found.holds and not diagnoses:
        diagnoses.append(Diagnosis("contradicts_reference", f"the reference contradicts {claim.claimed}: {found.statement}"))
    return result(claim, found.measured, Verdict.HOLDS if found.holds else Verdict.FAILS, found.detail, diagnoses)


def judge_iterations(claim: IterationClaim, ctx: Context, _: list[ClaimResult]) -> ClaimResult:
    training = ctx.analysis.spec.doc.training
    batch = claim.batch_size or (training.batch_size if training else None)
    epochs = claim.epochs or (training.epochs if training else None)
    if batch is None or epochs is None:
        return result(claim, None, Verdict.UNVERIFIABLE, "needs the batch size and the number of epochs (the spec's "
                      "training block or the claim's own batch_size and epochs)")
    # Keras's validation_split holds out the last fraction: int(n * (1 - split)) images train.
    train_images = int(claim.dataset_size * (1 - claim.validation_split))
    steps = math.ceil(train_images / batch)
    total = steps * epochs
    split = (f" less the {claim.validation_split:.0%} validation split leave {train_images:,}" if claim.validation_split else "")
    detail = (f"{claim.dataset_size:,} images{split}; {train_images:,} / {batch} = {steps} steps per epoch "
              f"(rounded up); {epochs} epoch{'s' if epochs > 1 else ''} = {total:,} iterations")
    if claim.relation == "total":
        ok = claim.claimed == total
        detail += f"; claimed {claim.claimed:,} in all"
    else:
        ok = 1 <= claim.claimed <= total
        detail += f"; claimed iteration {claim.claimed:,} " + ("is within the schedule" if ok else "is not in the schedule")
    diagnoses = []
    if not ok and claim.relation == "within":
        need = math.ceil(claim.claimed / steps)
        diagnoses.append(Diagnosis("schedule", f"iteration {claim.claimed:,} needs at least {need} epochs of {steps} steps, "
                                   f"not the {epochs} the source trains; counted in epochs, the plot would need at least "
                                   f"{claim.claimed} epochs"))
    return result(claim, total, Verdict.HOLDS if ok else Verdict.FAILS, detail, diagnoses)


def judge_training(claim: TrainingClaim, ctx: Context, _: list[ClaimResult]) -> ClaimResult:
    source = ctx.analysis.spec.doc.training
    found = training_claim(claim, ctx.training, source.epochs if source else None)
    return result(claim, found.measured, Verdict(found.verdict), found.detail)


def judge_speedup(claim: SpeedupClaim, ctx: Context, _: list[ClaimResult]) -> ClaimResult:
    found = speedup_claim(claim, ctx.training)
    return result(claim, found.measured, Verdict(found.verdict), found.detail)


def judge_unverifiable(claim: UnverifiableClaim, ctx: Context, _: list[ClaimResult]) -> ClaimResult:
    return result(claim, None, Verdict.UNVERIFIABLE, f"needs {claim.needs}")
