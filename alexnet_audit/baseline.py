"""The CI gate: every claim's verdict, against a recorded baseline or on its own.

Without a baseline any failing claim fails the check. With one (written by
`check --write-baseline`), only what changed does: a claim that did not fail now fails, a known
failure no longer fails (so the baseline gets updated), any other verdict change, a claim added
or removed. The baseline covers the specs it was written for: a spec left out of a later check
counts as its claims removed.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

from .audit import AuditRun
from .claims import ClaimResult, Verdict
from .bounded_read import read_bounded
from .errors import AuditError
from .render.safe import plain

FORMAT = "alexnet-audit-baseline/1"
_VERDICTS = {v.value for v in Verdict}
MAX_BASELINE_BYTES = 16 << 20
# The id patterns of the spec format: anything else in a baseline was not written by this tool.
_SPEC_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}\Z")
_CLAIM_ID = re.compile(r"^[A-Za-z0-9_.-]{1,80}\Z")


@dataclass(frozen=True)
class Baseline:
    """Spec id -> claim id -> verdict, as recorded."""

    verdicts: dict[str, dict[str, str]]


def baseline_of(run: AuditRun) -> Baseline:
    return Baseline({a.spec.id: {c.id: c.verdict.value for c in a.claims} for a in run.audits})


def baseline_json(baseline: Baseline) -> str:
    return json.dumps({"format": FORMAT, "specs": baseline.verdicts}, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def load_baseline(path: Path) -> Baseline:
    """Read a baseline file; a missing, unreadable or malformed one is an AuditError."""
    raw = read_bounded(path, MAX_BASELINE_BYTES, "the baseline")
    if len(raw) > MAX_BASELINE_BYTES:
        raise AuditError(f"the baseline is larger than {MAX_BASELINE_BYTES} bytes", file=str(path))
    try:
        data: Any = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise AuditError("the baseline is not UTF-8 text", file=str(path)) from None
    except json.JSONDecodeError as exc:
        raise AuditError(f"the baseline is not JSON: {exc.msg}", file=str(path), line=exc.lineno) from None
    except RecursionError:
        raise AuditError("the baseline is nested too deeply to be one", file=str(path)) from None
    except ValueError as exc:  # an integer too long to convert, which no baseline holds
        raise AuditError(f"the baseline is not JSON: {exc}", file=str(path)) from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise AuditError(f"not a baseline file: expected \"format\": \"{FORMAT}\" (write one with --write-baseline)", file=str(path))
    specs = data.get("specs")
    if not isinstance(specs, dict):
        raise AuditError("\"specs\" must map spec ids to their claims' verdicts", file=str(path), field="specs")
    for spec_id, claims in specs.items():
        if not _SPEC_ID.match(spec_id):
            raise AuditError(f"{plain(repr(spec_id)[:80])} is not a spec id", file=str(path), field="specs")
        if not isinstance(claims, dict):
            raise AuditError("must map claim ids to verdicts", file=str(path), field=f"specs.{spec_id}")
        for claim_id, verdict in claims.items():
            if not _CLAIM_ID.match(claim_id):
                raise AuditError(f"{plain(repr(claim_id)[:80])} is not a claim id", file=str(path), field=f"specs.{spec_id}")
            if not isinstance(verdict, str) or verdict not in _VERDICTS:
                shown = plain(repr(verdict)[:80]) if isinstance(verdict, str) else f"a JSON {type(verdict).__name__}"
                raise AuditError(f"{shown} is not a verdict ({', '.join(sorted(_VERDICTS))})", file=str(path),
                                 field=f"specs.{spec_id}.{claim_id}")
    return Baseline(specs)


class ChangeKind(str, Enum):
    NEW_FAILURE = "new failure"
    NO_LONGER_FAILS = "no longer fails"
    VERDICT_CHANGED = "verdict changed"
    ADDED = "added"
    REMOVED = "removed"


@dataclass(frozen=True)
class Change:
    spec: str
    claim: str
    kind: ChangeKind
    before: str | None  # the verdict in the baseline
    result: ClaimResult | None  # the claim as judged now

    @property
    def message(self) -> str:
        now = self.result
        return self.head + (f": {now.reason}" if now and self.explained else "")

    @property
    def explained(self) -> bool:
        """Whether the change comes with why the claim is judged as it is now (it fails, or its verdict moved)."""
        return self.kind in (ChangeKind.NEW_FAILURE, ChangeKind.VERDICT_CHANGED)

    @property
    def head(self) -> str:
        """What changed, without why."""
        now = self.result
        if self.kind == ChangeKind.NEW_FAILURE:
            return f"{self.spec}/{self.claim}: was {self.before}, now fails"
        if self.kind == ChangeKind.NO_LONGER_FAILS:
            assert now
            return f"{self.spec}/{self.claim}: failed in the baseline, now {now.verdict.value}; update the baseline"
        if self.kind == ChangeKind.VERDICT_CHANGED:
            assert now
            return f"{self.spec}/{self.claim}: was {self.before}, now {now.verdict.value}"
        if self.kind == ChangeKind.ADDED:
            assert now
            return f"{self.spec}/{self.claim}: not in the baseline (now {now.verdict.value}); update the baseline"
        return f"{self.spec}/{self.claim}: in the baseline ({self.before}), no longer among the claims checked"


def _change(spec: str, claim: str, before: str | None, now: ClaimResult | None) -> Change | None:
    if now is None:
        return Change(spec, claim, ChangeKind.REMOVED, before, None)
    if before is None:
        return Change(spec, claim, ChangeKind.ADDED, None, now)
    after = now.verdict.value
    if after == before:
        return None
    if after == Verdict.FAILS.value:
        return Change(spec, claim, ChangeKind.NEW_FAILURE, before, now)
    if before == Verdict.FAILS.value:
        return Change(spec, claim, ChangeKind.NO_LONGER_FAILS, before, now)
    return Change(spec, claim, ChangeKind.VERDICT_CHANGED, before, now)


def changes(baseline: Baseline, run: AuditRun) -> tuple[Change, ...]:
    """Every difference between the baseline and this run, in spec then claim order."""
    out: list[Change] = []
    current = {a.spec.id: {c.id: c for c in a.claims} for a in run.audits}
    for spec_id in sorted(set(current) | set(baseline.verdicts)):
        now, before = current.get(spec_id, {}), baseline.verdicts.get(spec_id, {})
        for claim_id in list(now) + sorted(set(before) - set(now)):
            change = _change(spec_id, claim_id, before.get(claim_id), now.get(claim_id))
            if change:
                out.append(change)
    return tuple(out)


@dataclass(frozen=True)
class CheckOutcome:
    run: AuditRun
    baseline: Baseline | None
    changes: tuple[Change, ...]

    @property
    def failing(self) -> tuple[tuple[str, ClaimResult], ...]:
        return tuple((a.spec.id, c) for a in self.run.audits for c in a.claims if c.verdict == Verdict.FAILS)

    def change_of(self, spec_id: str, claim_id: str) -> Change | None:
        return next((c for c in self.changes if c.spec == spec_id and c.claim == claim_id), None)

    @property
    def exit_code(self) -> int:
        """0: nothing to act on; 1: a failing claim (no baseline) or a change (baseline); 2: bad input."""
        if self.run.broken:
            return 2
        if self.baseline is not None:
            return 1 if self.changes else 0
        return 1 if self.failing else 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "baseline": self.baseline is not None,
            "changes": [{"spec": c.spec, "claim": c.claim, "kind": c.kind.value, "before": c.before,
                         "after": c.result.verdict.value if c.result else None, "message": c.message} for c in self.changes],
            "failing": [{"spec": spec, "claim": c.id} for spec, c in self.failing],
            "exit_code": self.exit_code,
        }


def gate(run: AuditRun, baseline: Baseline | None) -> CheckOutcome:
    return CheckOutcome(run, baseline, changes(baseline, run) if baseline is not None else ())
