"""The library API: audit spec files (load → analyse → judge) and collect what broke.

The CLI and the tests call these functions; nothing here prints.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from .analysis import Analysis, analyse
from .claims import ClaimResult, Verdict, judge_all
from .errors import AuditError
from .facts import load_facts
from .spec import Spec, load_spec
from .train.record import TrainingRecord, load_record


@dataclass(frozen=True)
class SpecAudit:
    spec: Spec
    analysis: Analysis
    claims: tuple[ClaimResult, ...]
    counterpart: Analysis | None
    training: TrainingRecord | None = None  # its recorded training run, when one was read

    def count(self, verdict: Verdict) -> int:
        return sum(1 for c in self.claims if c.verdict == verdict)

    @property
    def verdicts(self) -> Counter[str]:
        return Counter(c.verdict.value for c in self.claims)


@dataclass(frozen=True)
class BrokenSpec:
    path: str
    error: AuditError


@dataclass(frozen=True)
class AuditRun:
    audits: tuple[SpecAudit, ...]
    broken: tuple[BrokenSpec, ...]

    @property
    def exit_code(self) -> int:
        """0: every claim holds; 1: some claim fails; 2: some input was bad."""
        if self.broken:
            return 2
        return 1 if any(a.count(Verdict.FAILS) for a in self.audits) else 0


def load_and_analyse(path: str | Path) -> tuple[Spec, Analysis]:
    spec = load_spec(path)
    return spec, analyse(spec)


def audit_paths(paths: Iterable[str | Path], training_dir: Path | None = None) -> AuditRun:
    """Audit every spec; a broken one is listed and the others are still audited.

    With `training_dir`, a spec's training claims are judged against its recorded run
    `<training_dir>/<spec-id>.json` where one exists; an unreadable record is listed as broken.
    """
    loaded: dict[str, tuple[Spec, Analysis]] = {}
    broken: list[BrokenSpec] = []
    for path in paths:
        try:
            spec, analysis = load_and_analyse(path)
        except AuditError as exc:
            broken.append(BrokenSpec(str(path), exc.located(file=str(path))))
            continue
        if spec.id in loaded:
            broken.append(BrokenSpec(str(path), spec.error(f"spec id {spec.id!r} is also used by {loaded[spec.id][0].path}", "id")))
            continue
        loaded[spec.id] = (spec, analysis)
    records = _training_records(list(loaded), training_dir, broken) if training_dir else {}
    facts = load_facts()
    audits = []
    for spec, analysis in loaded.values():
        counterpart = _counterpart(spec, loaded)
        record = records.get(spec.id)
        claims = judge_all(analysis, counterpart, record, facts=facts, references=_references(spec, loaded))
        audits.append(SpecAudit(spec, analysis, claims, counterpart, record))
    return AuditRun(tuple(audits), tuple(broken))


def _training_records(spec_ids: list[str], training_dir: Path, broken: list[BrokenSpec]) -> dict[str, TrainingRecord]:
    """The recorded training runs `<training_dir>/<spec-id>.json` that exist; an unreadable one is listed as broken."""
    records: dict[str, TrainingRecord] = {}
    for spec_id in spec_ids:
        path = training_dir / f"{spec_id}.json"
        if path.is_file():
            try:
                records[spec_id] = load_record(path)
            except AuditError as exc:
                broken.append(BrokenSpec(str(path), exc))
    return records


def _references(spec: Spec, loaded: dict[str, tuple[Spec, Analysis]]) -> dict[str, Analysis]:
    """The reference networks a spec's claims compare with: those among the specs given, and any a
    `same_as` claim names, found beside this spec's file."""
    refs = {sid: a for sid, (s, a) in loaded.items() if s.doc.source.variant == "reference"}
    for claim in spec.doc.claims:
        wanted = getattr(claim, "reference", None)
        if wanted and wanted not in refs:
            try:
                refs[wanted] = load_and_analyse(Path(spec.path).parent / f"{wanted}.yaml")[1]
            except AuditError:
                continue
    return refs


def _counterpart(spec: Spec, loaded: dict[str, tuple[Spec, Analysis]]) -> Analysis | None:
    """The same post's other reading: among the specs given, else beside this spec's file."""
    other = spec.doc.source.counterpart
    if not other:
        return None
    if other in loaded:
        return loaded[other][1]
    path = Path(spec.path).parent / f"{other}.yaml"
    try:
        return load_and_analyse(path)[1]
    except AuditError:
        return None
