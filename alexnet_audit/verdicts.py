"""The shared vocabulary of the judges: verdicts, a claim's result, and what a judge is given.

Every claim-kind module (claims_numeric, claims_shape, claims_structure, facts, ...) returns a
`ClaimResult` through `result()`; claims.py dispatches to them and combines readings.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any, Mapping

from .results import Analysis
from .diagnose import Diagnosis, Reading
from .facts import FactBase
from .train.record import TrainingRecord


class Verdict(str, Enum):
    HOLDS = "holds"
    FAILS = "fails"
    AMBIGUOUS = "ambiguous"
    UNVERIFIABLE = "unverifiable"

    def __str__(self) -> str:  # print(result.verdict) says "fails", not "Verdict.FAILS"
        return self.value


@dataclass(frozen=True)
class ReadingResult:
    """The claim judged under one reading: against one network (`against`) or one interpretation (`readings`)."""

    label: str  # "the prose (spec seed003-alexnet-prose)", "distinct crop positions", ...
    verdict: Verdict
    measured: Any
    detail: str
    diagnoses: tuple[Diagnosis, ...]


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
    quote: str | None = None  # the source's own words
    readings: tuple[ReadingResult, ...] = ()  # each reading's verdict, when the claim has several

    @property
    def diagnosis(self) -> str | None:
        return self.diagnoses[0].message if self.diagnoses else None

    @property
    def reason(self) -> str:
        """Why the claim is judged as it is: the diagnosis, or else the judge's detail."""
        return self.diagnosis or self.detail

    def as_reading(self, label: str) -> ReadingResult:
        """This result as one reading of a claim judged several times."""
        return ReadingResult(label, self.verdict, self.measured, self.detail, self.diagnoses)


@dataclass(frozen=True)
class Context:
    analysis: Analysis
    reading: Reading
    counterpart: Reading | None
    training: TrainingRecord | None = None  # this spec's recorded training run, if any
    counterpart_analysis: Analysis | None = None
    facts: FactBase | None = None  # the reference base of paper facts, loaded once per run
    references: Mapping[str, Analysis] | None = None  # reference networks (the 2012 paper's), by spec id
    reference_readings: tuple[Reading, ...] = ()  # the same, as readings for the diagnoses (this spec's own left out)


def result(claim: Any, measured: Any, verdict: Verdict, detail: str, diagnoses: list[Diagnosis] | None = None) -> ClaimResult:
    return ClaimResult(claim.id, claim.kind, getattr(claim, "target", None), claim.claimed, measured, verdict,
                       tuple(diagnoses or ()), detail, claim.where, getattr(claim, "quote", None))
