"""The library API: audit spec files (load → analyse → judge) and collect what broke.

The CLI and the tests call these functions; nothing here prints. The judges are imported only
once a spec has loaded, and torch and fvcore only once one is measured, so a run whose specs are
all bad, or all read from the analysis cache (cache.py), never imports them.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import ValidationError

from .errors import AuditError
from .spec import Spec, SpecDoc, load_spec

if TYPE_CHECKING:
    from .cache import AnalysisCache, Stamp
    from .claims import ClaimResult, Verdict
    from .facts import FactBase
    from .node_counts import NodeCounts
    from .results import Analysis
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
    cache: CacheUse | None = None  # what the analysis cache gave, when one was used

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


@dataclass(frozen=True)
class CacheUse:
    """What the analysis cache gave a run: its directory, how many of the run's specs it gave (of how
    many analysed), and one line for each problem met (measured afresh each time)."""

    directory: Path
    reused: int
    analysed: int
    notes: tuple[str, ...]


class _Measurer:
    """One run's measuring: entries from the cache where they are whole, else fvcore's counts, one
    per distinct node of the run. torch and fvcore load only when a spec is measured."""

    def __init__(self, cache: AnalysisCache | None, input_shape: Shape | None) -> None:
        self.cache = cache
        self.input_shape = input_shape
        self.counts: NodeCounts | None = None
        self.stamp: Stamp | None = None
        self.reused = self.analysed = 0
        self.notes: list[str] = []
        self.writable = True
        self.used: set[str] = set()  # the keys this run read or wrote: pruning keeps them
        self.wrote = False

    def analyse(self, spec: Spec, *, given: bool = True) -> Analysis:
        """`given`: one of the run's own specs (counted in CacheUse), not a counterpart or reference."""
        if self.cache is None:
            return _analyse(spec, self._counts())  # nothing to count: use() gives no CacheUse
        key = self._key(spec)
        self.used.add(key)
        found = self.cache.read(key, spec)
        self._note(found.note)
        if found.analysis is not None:
            self.reused += given
            analysis = found.analysis
        else:
            analysis = _analyse(spec, self._counts())  # a spec that cannot be measured raises here: not counted, not stored
            if self.writable:
                failed = self.cache.write(key, analysis)
                self.writable = failed is None  # one note for a directory that refuses writes, not one per spec
                self.wrote = self.wrote or self.writable
                self._note(failed)
        self.analysed += given
        return analysis

    def load_and_analyse(self, path: str | Path) -> Analysis:
        return self.analyse(_load(path, self.input_shape), given=False)

    def prune(self) -> None:
        """After a run that wrote entries, hold the cache to its bounds (cache_prune.py)."""
        if self.cache is not None and self.wrote:
            from .cache_prune import prune

            prune(self.cache, self.used, time.time())

    def use(self) -> CacheUse | None:
        return CacheUse(self.cache.directory, self.reused, self.analysed, tuple(self.notes)) if self.cache else None

    def _key(self, spec: Spec) -> str:
        from .cache import Stamp, cache_key

        self.stamp = self.stamp or Stamp.installed()
        return cache_key(spec, self.stamp)

    def _counts(self) -> NodeCounts:
        if self.counts is None:
            from .node_counts import NodeCounts  # torch and fvcore, once a spec is measured

            self.counts = NodeCounts()
        return self.counts

    def _note(self, note: str | None) -> None:
        if note and note not in self.notes:
            self.notes.append(note)


def _load(path: str | Path, input_shape: Shape | None) -> Spec:
    spec = load_spec(path)
    return with_input(spec, input_shape) if input_shape else spec


def _analyse(spec: Spec, counts: NodeCounts) -> Analysis:
    from .analysis import analyse

    return analyse(spec, counts)


def audit_paths(paths: Iterable[str | Path], training_dir: Path | None = None,
                input_shape: Shape | None = None, cache: AnalysisCache | None = None) -> AuditRun:
    """Audit every spec; a broken one is listed and the others are still audited.

    With `training_dir`, a spec's training claims are judged against its recorded run
    `<training_dir>/<spec-id>.json` where one exists; an unreadable record is listed as broken.
    With `input_shape` (C, H, W), every spec is built for that input instead of its own.
    With `cache`, analyses are read from it where an entry matches and written to it otherwise
    (`AuditRun.cache` says how many were reused); without, every spec is measured.
    An unexpected exception (a bug here, not in the spec) breaks only the spec it came from.
    """
    loaded: dict[str, tuple[Spec, Analysis]] = {}
    broken: list[BrokenSpec] = []
    measurer = _Measurer(cache, input_shape)
    for path in paths:
        try:
            spec = _load(path, input_shape)
            analysis = measurer.analyse(spec)
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
            audits.append(_judge(spec, analysis, loaded, records.get(spec.id), facts, measurer))
        except AuditError as exc:
            broken.append(BrokenSpec(spec.path, exc.located(file=spec.path)))
        except Exception as exc:  # noqa: BLE001 - isolate our own bug to this spec
            broken.append(BrokenSpec(spec.path, internal_error(exc, spec.path), traceback.format_exc()))
    measurer.prune()
    return AuditRun(tuple(audits), tuple(broken), training_dir, measurer.use())


def _facts() -> FactBase:
    from .facts import load_facts

    return load_facts()


def _judge(spec: Spec, analysis: Analysis, loaded: dict[str, tuple[Spec, Analysis]], record: TrainingRecord | None,
           facts: FactBase | None, measurer: _Measurer) -> SpecAudit:
    from .claims import judge_all

    counterpart = _counterpart(spec, loaded, measurer)
    claims = judge_all(analysis, counterpart, record, facts=facts, references=_references(spec, loaded, measurer))
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


def _references(spec: Spec, loaded: dict[str, tuple[Spec, Analysis]], measurer: _Measurer) -> dict[str, Analysis]:
    """The reference networks a spec's claims compare with: those among the specs given, and any a
    `same_as` claim names, found beside this spec's file."""
    refs = {sid: a for sid, (s, a) in loaded.items() if s.doc.source.variant == "reference"}
    for claim in spec.doc.claims:
        wanted = getattr(claim, "reference", None)
        if wanted and wanted not in refs:
            try:
                refs[wanted] = measurer.load_and_analyse(Path(spec.path).parent / f"{wanted}.yaml")
            except AuditError:
                continue
    return refs


def _counterpart(spec: Spec, loaded: dict[str, tuple[Spec, Analysis]], measurer: _Measurer) -> Analysis | None:
    """The same post's other reading: among the specs given, else beside this spec's file."""
    other = spec.doc.source.counterpart
    if not other:
        return None
    if other in loaded:
        return loaded[other][1]
    path = Path(spec.path).parent / f"{other}.yaml"
    try:
        return measurer.load_and_analyse(path)
    except AuditError:
        return None
