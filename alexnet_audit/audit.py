"""The library API: audit spec files (load → analyse → judge) and collect what broke.

The CLI and the tests call these functions; nothing here prints. torch, fvcore and the judges
are imported only once a spec has loaded, so a run whose specs are all bad stays quick.
"""

from __future__ import annotations

import traceback
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import ValidationError

from .errors import AuditError
from .spec import Spec, SpecDoc, load_spec

if TYPE_CHECKING:
    from .analysis import Analysis
    from .claims import ClaimResult, Verdict
    from .facts import FactBase
    from .node_counts import NodeCounts
    from .train.record import TrainingRecord

Shape = tuple[int, int, int]


@dataclass(frozen=True)
class SpecAudit:
    spec: Spec
    analysis: Analysis
    claims: tuple[ClaimResult, ...]
    counterpart: Analysis | None
    training: TrainingRecord | None = None  # its recorded training run, when one was read

    def count(self, verdict: Verdict) -> int:
        return sum(1 for c in self.claims if c.verdict == verdict)


@dataclass(frozen=True)
class BrokenSpec:
    path: str
    error: AuditError
    # The traceback when the cause is a bug in this tool rather than in the spec (exit 3).
    internal: str | None = None


@dataclass(frozen=True)
class AuditRun:
    audits: tuple[SpecAudit, ...]
    broken: tuple[BrokenSpec, ...]
    training_dir: Path | None = None  # where training records were looked for, if anywhere

    @property
    def exit_code(self) -> int:
        """0: every claim holds; 1: some claim fails; 2: some input was bad; 3: a bug of ours."""
        if any(b.internal for b in self.broken):
            return 3
        if self.broken:
            return 2
        from .claims import Verdict

        return 1 if any(a.count(Verdict.FAILS) for a in self.audits) else 0


def internal_error(exc: BaseException, file: str | None = None) -> AuditError:
    """The one line that names an unexpected exception as ours, not the user's."""
    text = " ".join(str(exc).split())[:300]
    return AuditError(f"internal error: {type(exc).__name__}{': ' + text if text else ''} "
                      "(a bug in alexnet-audit; --debug shows the traceback)", file=file)


def with_input(spec: Spec, shape: Shape) -> Spec:
    """The spec built for another input size (a what-if); the schema's limits still apply."""
    data = spec.doc.model_dump(mode="python", exclude_unset=True)
    try:
        doc = SpecDoc.model_validate({**data, "input": list(shape)})
    except ValidationError as exc:
        raise AuditError(f"--input {'x'.join(map(str, shape))}: {exc.errors()[0]['msg']}", file=spec.path, field="input") from None
    return replace(spec, doc=doc)


def load_and_analyse(path: str | Path, input_shape: Shape | None = None,
                     counts: NodeCounts | None = None) -> tuple[Spec, Analysis]:
    """One spec, loaded and measured; `counts` carries fvcore's node counts from spec to spec."""
    spec = _load(path, input_shape)
    return spec, _analyse(spec, counts if counts is not None else _node_counts())


def _load(path: str | Path, input_shape: Shape | None) -> Spec:
    spec = load_spec(path)
    return with_input(spec, input_shape) if input_shape else spec


def _analyse(spec: Spec, counts: NodeCounts) -> Analysis:
    from .analysis import analyse

    return analyse(spec, counts)


def _node_counts() -> NodeCounts:
    from .node_counts import NodeCounts  # torch and fvcore, once a spec has loaded

    return NodeCounts()


def audit_paths(paths: Iterable[str | Path], training_dir: Path | None = None,
                input_shape: Shape | None = None) -> AuditRun:
    """Audit every spec; a broken one is listed and the others are still audited.

    With `training_dir`, a spec's training claims are judged against its recorded run
    `<training_dir>/<spec-id>.json` where one exists; an unreadable record is listed as broken.
    With `input_shape` (C, H, W), every spec is built for that input instead of its own.
    An unexpected exception (a bug here, not in the spec) breaks only the spec it came from.
    """
    loaded: dict[str, tuple[Spec, Analysis]] = {}
    broken: list[BrokenSpec] = []
    counts: NodeCounts | None = None  # one fvcore trace per distinct node of the run
    for path in paths:
        try:
            spec = _load(path, input_shape)
            counts = counts if counts is not None else _node_counts()
            analysis = _analyse(spec, counts)
        except AuditError as exc:
            broken.append(BrokenSpec(str(path), exc.located(file=str(path))))
            continue
        except Exception as exc:  # noqa: BLE001 - isolate our own bug to this spec
            broken.append(BrokenSpec(str(path), internal_error(exc, str(path)), traceback.format_exc()))
            continue
        if spec.id in loaded:
            broken.append(BrokenSpec(str(path), spec.error(f"spec id {spec.id!r} is also used by {loaded[spec.id][0].path}", "id")))
            continue
        loaded[spec.id] = (spec, analysis)
    records = _training_records(list(loaded), training_dir, broken) if training_dir and loaded else {}
    facts = _facts() if loaded else None
    audits = []
    for spec, analysis in loaded.values():
        try:
            audits.append(_judge(spec, analysis, loaded, records.get(spec.id), input_shape, facts, counts))
        except AuditError as exc:
            broken.append(BrokenSpec(spec.path, exc.located(file=spec.path)))
        except Exception as exc:  # noqa: BLE001 - isolate our own bug to this spec
            broken.append(BrokenSpec(spec.path, internal_error(exc, spec.path), traceback.format_exc()))
    return AuditRun(tuple(audits), tuple(broken), training_dir)


def _facts() -> FactBase:
    from .facts import load_facts

    return load_facts()


def _judge(spec: Spec, analysis: Analysis, loaded: dict[str, tuple[Spec, Analysis]], record: TrainingRecord | None,
           input_shape: Shape | None, facts: FactBase | None, counts: NodeCounts | None) -> SpecAudit:
    from .claims import judge_all

    counterpart = _counterpart(spec, loaded, input_shape, counts)
    claims = judge_all(analysis, counterpart, record, facts=facts, references=_references(spec, loaded, input_shape, counts))
    return SpecAudit(spec, analysis, claims, counterpart, record)


def _training_records(spec_ids: list[str], training_dir: Path, broken: list[BrokenSpec]) -> dict[str, TrainingRecord]:
    """The recorded training runs `<training_dir>/<spec-id>.json` that exist; an unreadable one is listed as broken."""
    from .train.record import load_record

    records: dict[str, TrainingRecord] = {}
    for spec_id in spec_ids:
        path = training_dir / f"{spec_id}.json"
        if path.is_file():
            try:
                records[spec_id] = load_record(path)
            except AuditError as exc:
                broken.append(BrokenSpec(str(path), exc))
    return records


def _references(spec: Spec, loaded: dict[str, tuple[Spec, Analysis]], input_shape: Shape | None,
                counts: NodeCounts | None) -> dict[str, Analysis]:
    """The reference networks a spec's claims compare with: those among the specs given, and any a
    `same_as` claim names, found beside this spec's file."""
    refs = {sid: a for sid, (s, a) in loaded.items() if s.doc.source.variant == "reference"}
    for claim in spec.doc.claims:
        wanted = getattr(claim, "reference", None)
        if wanted and wanted not in refs:
            try:
                refs[wanted] = load_and_analyse(Path(spec.path).parent / f"{wanted}.yaml", input_shape, counts)[1]
            except AuditError:
                continue
    return refs


def _counterpart(spec: Spec, loaded: dict[str, tuple[Spec, Analysis]], input_shape: Shape | None,
                 counts: NodeCounts | None) -> Analysis | None:
    """The same post's other reading: among the specs given, else beside this spec's file."""
    other = spec.doc.source.counterpart
    if not other:
        return None
    if other in loaded:
        return loaded[other][1]
    path = Path(spec.path).parent / f"{other}.yaml"
    try:
        return load_and_analyse(path, input_shape, counts)[1]
    except AuditError:
        return None
