"""No data lost: an audit of many specs where some are broken still reports every good spec and
lists every broken one, in the order given, through the library (audit_paths) and the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from alexnet_audit.audit import audit_paths
from alexnet_audit.cli import app

from helpers import LENET, spec_text

runner = CliRunner()

CLAIMS = """  - {id: params, kind: params, claimed: 62006, where: x}
  - {id: conv1-shape, kind: output_shape, target: conv1, claimed: 28x28x6, where: x}
  - {id: convs, kind: layer_count, of: conv, claimed: 3, where: x}
"""  # LeNet on 3x32x32 by hand: 456 + 2,416 + 48,120 + 10,164 + 850 = 62,006 parameters; 2 convs, not 3

GOOD = {f"good-{i:02d}": spec_text(LENET, claims=CLAIMS, id=f"good-{i:02d}") for i in range(4)}
GOOD["good-with-broken-counterpart"] = spec_text(LENET, claims=CLAIMS, id="good-with-broken-counterpart").replace(
    "framework: pytorch}", "framework: pytorch, counterpart: broken-counterpart}")

BROKEN: dict[str, bytes | None] = {  # None: the path does not exist
    "invalid-yaml": b"id: t\nlayers: [1, 2\n",
    "unknown-kind": spec_text(LENET, id="unknown-kind").replace("kind: relu}", "kind: relux}", 1).encode(),
    "impossible": spec_text(LENET, input="[3, 12, 12]", id="impossible").encode(),
    "garbage": bytes(range(256)) * 4,
    "python-tag": b"!!python/object/apply:os.system ['echo pwned']\n",
    "alias-bomb": b"a: &a [x, x, x, x, x, x, x, x, x]\n" + b"".join(
        f"{c}: &{c} [{', '.join(['*' + p] * 9)}]\n".encode() for p, c in zip("abcdefgh", "bcdefghi")),
    "empty": b"",
    "duplicate-id": spec_text(LENET, id="good-03").encode(),  # the id of a good spec given before it
    "missing": None,
    "broken-counterpart": b"id: [\n",
}
ORDERS = {
    "broken first": lambda good, broken: broken + good,
    "broken last": lambda good, broken: good + broken,
    "interleaved": lambda good, broken: [p for pair in zip(good, broken) for p in pair] + good[len(broken):] + broken[len(good):],
}


def _write(tmp_path: Path, order: str) -> tuple[list[Path], list[Path], list[Path]]:
    """All paths in audit order, the good ones and the broken ones (each in that order)."""
    good = []
    for name, text in GOOD.items():
        path = tmp_path / f"{name}.yaml"
        path.write_text(text, encoding="utf-8")
        good.append(path)
    broken = []
    for name, data in BROKEN.items():
        path = tmp_path / f"{name}.yaml"
        if data is not None:
            path.write_bytes(data)
        broken.append(path)
    (tmp_path / "a-directory.yaml").mkdir()
    broken.append(tmp_path / "a-directory.yaml")
    paths = ORDERS[order](good, broken)
    # The duplicate id is broken only where it comes after the good spec whose id it takes.
    first_03 = paths.index(tmp_path / "good-03.yaml")
    dup = paths.index(tmp_path / "duplicate-id.yaml")
    if dup < first_03:
        paths[dup], paths[first_03] = paths[first_03], paths[dup]
    return paths, [p for p in paths if p in good], [p for p in paths if p in broken]


@pytest.mark.parametrize("order", sorted(ORDERS))
def test_library_reports_every_good_spec_and_lists_every_broken_one(order: str, tmp_path: Path) -> None:
    paths, good, broken = _write(tmp_path, order)
    run = audit_paths(paths)
    assert [a.spec.id for a in run.audits] == [p.stem for p in good]
    assert [b.path for b in run.broken] == [str(p) for p in broken]
    assert (len(run.audits), len(run.broken)) == (len(good), len(broken)) == (5, 11)
    for b in run.broken:
        assert str(b.error).startswith(b.path), str(b.error)
    for audit in run.audits:
        assert [c.id for c in audit.claims] == ["params", "conv1-shape", "convs"]
        assert [c.verdict.value for c in audit.claims] == ["holds", "holds", "fails"]
    assert run.exit_code == 2


@pytest.mark.parametrize("order", sorted(ORDERS))
def test_cli_reports_every_good_spec_and_lists_every_broken_one(order: str, tmp_path: Path) -> None:
    paths, good, broken = _write(tmp_path, order)
    out = tmp_path / "out" / "result.json"
    out.parent.mkdir()
    result = runner.invoke(app, ["compare", *map(str, paths), "--json", str(out)])
    assert result.exit_code == 2
    errors = result.stderr.strip().splitlines()
    assert len(errors) == len(broken)
    for line, path in zip(errors, broken):
        assert line.startswith(f"error: {path}"), line
    for path in good:  # a column per good spec in the comparison table
        assert path.stem in result.stdout, path.stem
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert [s["id"] for s in doc["specs"] if s["id"]] == [p.stem for p in good]
    assert [s["path"] for s in doc["specs"] if s["id"] is None] == [str(p) for p in broken]
    assert all(s["errors"] for s in doc["specs"] if s["id"] is None)
