"""The CI gate: exit codes without and with a baseline, each kind of change, JUnit XML."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Callable

from typer.testing import CliRunner

from alexnet_audit.audit import audit_paths
from alexnet_audit.baseline import ChangeKind, baseline_of, changes
from alexnet_audit.cli import app
from helpers import LENET, spec_text

runner = CliRunner()

# conv1: 5*5*3*6 + 6 = 456 parameters (holds); fc1: 400*120 + 120 = 48,120, written 4,812 (fails,
# a dropped digit); the accuracy cannot be measured here (unverifiable).
HOLDS = "  - {id: conv1-params, kind: params, target: conv1, claimed: 456, where: table}\n"
FAILS = "  - {id: fc1-params, kind: params, target: fc1, claimed: 4812, where: table}\n"
UNVERIFIABLE = "  - {id: accuracy, kind: unverifiable, claimed: '99%', needs: a trained model, where: text}\n"
CLAIMS = HOLDS + FAILS + UNVERIFIABLE

WriteSpec = Callable[..., Path]


def _run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


def test_without_a_baseline_any_failing_claim_fails(write_spec: WriteSpec) -> None:
    code, out, _ = _run("check", str(write_spec(spec_text(LENET, claims=CLAIMS))))
    assert code == 1
    assert "t/fc1-params" in out and "a digit dropped" in out
    assert _run("check", str(write_spec(spec_text(LENET, claims=HOLDS + UNVERIFIABLE))))[0] == 0


def test_write_baseline_records_every_verdict(write_spec: WriteSpec, tmp_path: Path) -> None:
    spec, base = write_spec(spec_text(LENET, claims=CLAIMS)), tmp_path / "baseline.json"
    code, out, _ = _run("check", str(spec), "--write-baseline", str(base))
    assert code == 0 and "baseline written" in out  # recording accepts the failures it records
    assert json.loads(base.read_text()) == {
        "format": "alexnet-audit-baseline/1",
        "specs": {"t": {"conv1-params": "holds", "fc1-params": "fails", "accuracy": "unverifiable"}},
    }
    code, out, err = _run("check", str(spec), "--baseline", str(base))
    assert (code, out.splitlines()[0], err) == (0, "no change against the baseline", "")
    first = base.read_bytes()
    _run("check", str(spec), "--write-baseline", str(base))
    assert base.read_bytes() == first  # rewriting is idempotent


def _changes_after(write_spec: WriteSpec, claims: str) -> list[tuple[str, ChangeKind, str | None]]:
    before = baseline_of(audit_paths([write_spec(spec_text(LENET, claims=CLAIMS), "before.yaml")]))
    after = audit_paths([write_spec(spec_text(LENET, claims=claims), "after.yaml")])
    return [(c.claim, c.kind, c.before) for c in changes(before, after)]


def test_a_claim_that_held_now_fails(write_spec: WriteSpec) -> None:
    broken = HOLDS.replace("claimed: 456", "claimed: 465")
    assert _changes_after(write_spec, broken + FAILS + UNVERIFIABLE) == [("conv1-params", ChangeKind.NEW_FAILURE, "holds")]


def test_a_known_failure_that_now_holds(write_spec: WriteSpec) -> None:
    fixed = FAILS.replace("claimed: 4812", "claimed: 48120")
    assert _changes_after(write_spec, HOLDS + fixed + UNVERIFIABLE) == [("fc1-params", ChangeKind.NO_LONGER_FAILS, "fails")]


def test_a_claim_added_and_one_removed(write_spec: WriteSpec) -> None:
    added = "  - {id: conv-count, kind: layer_count, of: conv, claimed: 2, where: text}\n"
    assert _changes_after(write_spec, HOLDS + FAILS + UNVERIFIABLE + added) == [("conv-count", ChangeKind.ADDED, None)]
    assert _changes_after(write_spec, HOLDS + UNVERIFIABLE) == [("fc1-params", ChangeKind.REMOVED, "fails")]


def test_each_change_fails_the_check_and_names_itself(write_spec: WriteSpec, tmp_path: Path) -> None:
    base = tmp_path / "baseline.json"
    _run("check", str(write_spec(spec_text(LENET, claims=CLAIMS))), "--write-baseline", str(base))
    cases = {
        "new failure": HOLDS.replace("456", "465") + FAILS + UNVERIFIABLE,
        "no longer fails": HOLDS + FAILS.replace("4812", "48120") + UNVERIFIABLE,
        "added": CLAIMS + "  - {id: conv-count, kind: layer_count, of: conv, claimed: 2, where: text}\n",
        "removed": HOLDS + FAILS,
    }
    for kind, claims in cases.items():
        code, out, _ = _run("check", str(write_spec(spec_text(LENET, claims=claims))), "--baseline", str(base))
        assert code == 1, kind
        assert f"{kind}: t/" in out, (kind, out)


def test_a_spec_gone_from_the_run_is_its_claims_removed(write_spec: WriteSpec) -> None:
    before = baseline_of(audit_paths([write_spec(spec_text(LENET, claims=CLAIMS))]))
    found = changes(before, audit_paths([]))
    assert [(c.spec, c.claim, c.kind) for c in found] == [
        ("t", claim, ChangeKind.REMOVED) for claim in ("accuracy", "conv1-params", "fc1-params")]


def test_bad_input_exits_2_with_one_line(write_spec: WriteSpec, tmp_path: Path) -> None:
    spec = write_spec(spec_text(LENET, claims=CLAIMS))
    bad = tmp_path / "bad.json"
    for text, message in (("{not json", "the baseline is not JSON"), ('{"format": "other"}', "not a baseline file"),
                          ('{"format": "alexnet-audit-baseline/1", "specs": {"t": {"a": "maybe"}}}', "specs.t.a: 'maybe' is not a verdict")):
        bad.write_text(text)
        code, _, err = _run("check", str(spec), "--baseline", str(bad))
        assert code == 2 and message in err and err.count("\n") == 1, err
    code, _, err = _run("check", str(spec), "--baseline", str(tmp_path / "missing.json"))
    assert code == 2 and "cannot read the baseline" in err
    broken = write_spec("id: x\n", "broken.yaml")
    assert _run("check", str(spec), str(broken))[0] == 2


def _cases(path: Path) -> dict[str, ET.Element]:
    root = ET.parse(path).getroot()
    assert root.tag == "testsuites"
    return {f"{c.get('classname')}/{c.get('name')}": c for c in root.iter("testcase")}


def test_junit_has_one_case_per_claim_and_marks_failures(write_spec: WriteSpec, tmp_path: Path) -> None:
    xml = tmp_path / "junit.xml"
    code, _, _ = _run("check", str(write_spec(spec_text(LENET, claims=CLAIMS))), "--junit", str(xml))
    assert code == 1
    root = ET.parse(xml).getroot()
    assert (root.get("tests"), root.get("failures"), root.get("errors"), root.get("skipped")) == ("3", "1", "0", "0")
    cases = _cases(xml)
    assert list(cases) == ["t/conv1-params", "t/fc1-params", "t/accuracy"]
    failure = cases["t/fc1-params"].find("failure")
    assert failure is not None and "a digit dropped: 48,120 written as 4,812" in failure.get("message", "")
    assert cases["t/conv1-params"].find("failure") is None
    accuracy = cases["t/accuracy"]
    assert accuracy.find("skipped") is None and accuracy.find("failure") is None  # never silently skipped
    assert "verdict: unverifiable" in (accuracy.findtext("system-out") or "")
    assert "needs a trained model" in (accuracy.findtext("system-out") or "")


def test_junit_with_a_baseline_fails_only_changes(write_spec: WriteSpec, tmp_path: Path) -> None:
    base, xml = tmp_path / "baseline.json", tmp_path / "junit.xml"
    _run("check", str(write_spec(spec_text(LENET, claims=CLAIMS))), "--write-baseline", str(base))
    code, _, _ = _run("check", str(write_spec(spec_text(LENET, claims=FAILS + UNVERIFIABLE))), "--baseline", str(base),
                      "--junit", str(xml), "--json", str(tmp_path / "out.json"))
    assert code == 1
    cases = _cases(xml)
    assert set(cases) == {"t/fc1-params", "t/accuracy", "t/conv1-params"}
    assert cases["t/fc1-params"].find("failure") is None  # a known failure
    assert "known failure" in (cases["t/fc1-params"].findtext("system-out") or "")
    removed = cases["t/conv1-params"].find("failure")
    assert removed is not None and removed.get("type") == "removed"
    doc = json.loads((tmp_path / "out.json").read_text())
    assert doc["specs"][0]["id"] == "t"  # the compare contract, plus the gate's findings
    assert doc["check"]["changes"] == [{"spec": "t", "claim": "conv1-params", "kind": "removed", "before": "holds",
                                        "after": None, "message": doc["check"]["changes"][0]["message"]}]
    assert doc["check"]["exit_code"] == 1
