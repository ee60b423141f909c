"""Markdown reports: byte-identical regeneration, atomic writes, the staleness check, the
training section, the ranking of errors, and a golden page."""

from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path
from typing import Callable

import pytest
from typer.testing import CliRunner

from alexnet_audit.audit import AuditRun, audit_paths
from alexnet_audit.cli import app
from alexnet_audit.render import markdown
from alexnet_audit.render.markdown import MARKER, Versions, report_files, spec_page
from alexnet_audit.serious import off_by, serious_errors
from alexnet_audit.train.record import (
    CheckRecord, Curves, DataInfo, Metrics, Schedule, Settings, TrainingRecord, record_json,
)
from helpers import LENET, spec_text
from test_compare_diff import CODE, PROSE

runner = CliRunner()
GOLDEN = Path(__file__).parent / "golden" / "report-spec-page.md"

# helpers.LENET, by hand: conv1 5*5*3*6+6 = 456, conv2 5*5*6*16+16 = 2,416, fc1 400*120+120 = 48,120,
# fc2 120*84+84 = 10,164, fc3 84*10+10 = 850: 62,006 parameters. MACs: conv1 28*28*6*75 = 352,800,
# conv2 10*10*16*150 = 240,000, fc1 48,000, fc2 10,080, fc3 840: 651,720.
CLAIMS = """  - {id: conv1-params, kind: params, target: conv1, claimed: "5*5*3*6+6=456", where: table}
  - {id: fc1-params, kind: params, target: fc1, claimed: 4812, where: table}
  - {id: total-params, kind: params, claimed: "50,000", where: intro}
  - {id: conv-count, kind: layer_count, of: conv, claimed: 3, where: intro}
  - {id: accuracy, kind: unverifiable, claimed: "99%", needs: a trained model, where: results}
"""

WriteSpec = Callable[..., Path]


def _run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


def _specs(write_spec: WriteSpec) -> list[str]:
    return [str(write_spec(spec_text(LENET, claims=CLAIMS), "t.yaml")), str(write_spec(PROSE, "tiny-prose.yaml")),
            str(write_spec(CODE, "tiny-code.yaml"))]


def _snapshot(directory: Path) -> dict[str, bytes]:
    return {p.relative_to(directory).as_posix(): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}


def _row(page: str, first: str) -> list[str]:
    """The cells of the first table row whose first cell is `first`."""
    rows = [[c.strip() for c in line.strip().strip("|").split("|")] for line in page.splitlines() if line.startswith("|")]
    return next(r for r in rows if r[0] == first)


def test_regeneration_is_byte_identical(write_spec: WriteSpec, tmp_path: Path) -> None:
    specs = _specs(write_spec)
    out = tmp_path / "r"
    assert _run("report", *specs, "-o", str(out))[0] == 0
    first = _snapshot(out)
    assert set(first) == {f"{name}.{ext}" for name in ("index", "t", "tiny-code", "tiny-prose") for ext in ("md", "png")}
    assert all(first[name].startswith(b"\x89PNG") for name in first if name.endswith(".png"))
    # Regenerated over the first set with the specs in the other order (report writes the whole
    # set again, never skipping a file that exists): neither an existing set nor the order of the
    # arguments changes a byte, markdown and PNG alike.
    inodes = {name: (out / name).stat().st_ino for name in first}
    assert _run("report", *reversed(specs), "-o", str(out))[0] == 0
    assert _snapshot(out) == first
    # Each file was renamed into place anew (a new inode), so the equality above compared fresh output.
    assert all((out / name).stat().st_ino != inodes[name] for name in first)


def test_index_and_pages_hold_the_figures(write_spec: WriteSpec, tmp_path: Path, quick_charts: None) -> None:
    out = tmp_path / "r"
    _run("report", *_specs(write_spec), "-o", str(out))
    index = (out / "index.md").read_text()
    cells = _row(index, "[t](t.md)")
    # spec, source, variant, input, params, MACs, FLOPs, neurons, holds, fails, ambiguous, unverifiable, training
    assert cells[3:] == ["32x32x3", "62,006", "651,720", "1,303,440", f"{6 * 28 * 28 + 16 * 10 * 10 + 120 + 84 + 10:,}",
                         "1", "3", "0", "1", "—"]
    assert "![Trainable parameters and MACs of every spec](index.png)" in index
    for page in ("t.md", "tiny-code.md", "tiny-prose.md"):
        assert f"]({page})" in index
    code = (out / "tiny-code.md").read_text()
    assert code.startswith(MARKER + "\n")
    assert "![Parameters and MACs per layer](tiny-code.png)" in code
    assert "kernel: 5x5 → 3x3; padding: 0 → 1; pooling: max 2x2/2 → avg 3x3/3" in code
    assert _row(code, "params") == ["params", "754", "1,250", "+496"]
    assert "No training result recorded" in code
    # A tiny LeNet-like network is no AlexNet: its page has no section against the 2012 paper, as
    # `compare` shows none.
    assert "## Deviations from the 2012 paper" not in code and "## Code vs prose" in code


def test_a_serious_errors_row_keeps_each_figure_in_its_cell(write_spec: WriteSpec, tmp_path: Path, quick_charts: None) -> None:
    out = tmp_path / "r"
    _run("report", *_specs(write_spec), "-o", str(out))
    lines = (out / "index.md").read_text().splitlines()
    # cells: #, post, spec, claim, claimed, measured, off by, diagnosis
    rows = {r[3]: r[4:] for r in ([c.strip() for c in ln.strip().strip("|").split("|")] for ln in lines if ln.startswith("|"))
            if r[2] == "[t](t.md)"}
    # Without a diagnosis the detail is the reason: LeNet's 2 conv layers against the 3 claimed,
    # each figure still in its own cell; off by (3 - 2) / 2 = 50%.
    assert rows["conv-count"] == ["`3`", "`2`", "50.0%", "conv layers: claimed 3, the built model has 2 (conv1, conv2)"]
    # A diagnosis states neither figure: both keep their cells; off by (48,120 - 4,812) / 48,120 = 90%.
    assert rows["fc1-params"] == ["`4,812`", "`48,120`", "90.0%",
                                  "a digit dropped: 48,120 written as 4,812 (the '0' at position 5 is missing)"]


def test_errors_ranked_whole_network_first(write_spec: WriteSpec) -> None:
    run = audit_paths([write_spec(spec_text(LENET, claims=CLAIMS))])
    ranked = [(c.id, off_by(c)) for _, c in serious_errors(run.audits)]
    assert ranked == [("total-params", Fraction(62_006 - 50_000, 62_006)), ("conv-count", Fraction(1, 2)),
                      ("fc1-params", Fraction(48_120 - 4_812, 48_120))]


def test_golden_spec_page(write_spec: WriteSpec, update_golden: bool) -> None:
    audit = audit_paths([write_spec(spec_text(LENET, claims=CLAIMS))]).audits[0]
    page = spec_page(audit, paper=None, training=None, known={"t"}, versions=Versions("test", "test"))
    if update_golden:
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_text(page, encoding="utf-8")
    assert page == GOLDEN.read_text(encoding="utf-8"), "run pytest --update-golden to accept the new page"


def _record(spec_id: str) -> TrainingRecord:
    return TrainingRecord(
        tool="alexnet-audit test", spec=spec_id, date="2000-01-01T00:00:00+00:00", torch="test",
        data=DataInfo(name="digits", source="sklearn digits", classes=10, train_images=1437, held_out_images=360,
                      held_out="the last 20%", stored_shape=[1, 8, 8], input=[3, 32, 32]),
        settings=Settings(optimizer="adam", lr=0.001, momentum=0.0, weight_decay=0.0, batch_size=32, loss="cross_entropy",
                          from_source=False, where=None, seed=0, device="cpu", precision="fp32", channels_last=False,
                          compiled=False, batchnorm_recalibrated_on=0),
        schedule=Schedule(steps=150, requested_steps=150, epochs=3.35, stopped_by="steps", seconds=1.0, images_per_s=4800.0),
        metrics=Metrics(train_accuracy=0.9, held_out_accuracy=0.875, held_out_top5_accuracy=0.99, held_out_correct=315,
                        held_out_n=360, chance=0.1),
        verdict="converges", cause=None,
        checks=[CheckRecord(name="loss falls", passed=True, detail="2.30 -> 0.40")],
        experiments=[], curves=Curves(loss=[2.3, 0.4], train_accuracy=[0.1, 0.9]), seconds=2.0,
    )


def test_training_results_are_included_when_recorded(write_spec: WriteSpec, tmp_path: Path, quick_charts: None) -> None:
    out = tmp_path / "r"
    training = out / "training"
    training.mkdir(parents=True)
    (training / "t.json").write_text(record_json(_record("t")))
    (training / "t.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    _run("report", *_specs(write_spec), "-o", str(out))
    page = (out / "t.md").read_text()
    assert "**converges**" in page and "87.5% (315 of 360)" in page and "![Training curves](training/t.png)" in page
    assert "| [t](t.md)" in (out / "index.md").read_text() and "converges" in (out / "index.md").read_text()
    assert "No training result recorded" in (out / "tiny-prose.md").read_text()


def test_an_unreadable_training_record_is_bad_input(write_spec: WriteSpec, tmp_path: Path, quick_charts: None) -> None:
    out = tmp_path / "r"
    (out / "training").mkdir(parents=True)
    (out / "training" / "tiny-code.json").write_text('{"spec": "tiny-code"}')
    result = runner.invoke(app, ["report", *_specs(write_spec), "-o", str(out)])
    assert result.exit_code == 2 and "tiny-code.json" in result.stderr
    assert not (out / "index.md").exists()  # nothing written from a run with bad input


def test_an_interrupted_write_leaves_the_old_reports(write_spec: WriteSpec, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch, quick_charts: None) -> None:
    out = tmp_path / "r"
    specs = _specs(write_spec)
    _run("report", *specs, "-o", str(out))
    before = _snapshot(out)
    write_spec(spec_text(LENET.replace("out_channels: 6", "out_channels: 8"), claims=CLAIMS), "t.yaml")

    def refuse(src: object, dst: object) -> None:
        raise OSError(28, "No space left on device")

    with monkeypatch.context() as m:
        m.setattr(os, "replace", refuse)
        code, _, err = _run("report", *specs, "-o", str(out))
    assert code == 2 and "No space left on device" in err and err.count("\n") == 1
    assert _snapshot(out) == before  # every old file whole, no temporary file left behind

    calls = []

    def chart_then_crash(analysis: object) -> bytes:
        calls.append(analysis)
        if len(calls) == 2:
            raise RuntimeError("renderer crashed")
        return b""

    with monkeypatch.context() as m:
        m.setattr(markdown, "layer_chart", chart_then_crash)
        result = runner.invoke(app, ["report", *specs, "-o", str(out)])
    assert result.exit_code == 3 and "internal error: RuntimeError: renderer crashed" in result.stderr  # a bug of ours
    assert _snapshot(out) == before  # everything is rendered before anything is written


def test_check_flags_stale_missing_and_left_over_reports(write_spec: WriteSpec, tmp_path: Path, quick_charts: None) -> None:
    out = tmp_path / "r"
    specs = [str(write_spec(spec_text(LENET, claims=CLAIMS), "t.yaml")), str(write_spec(spec_text(LENET, id="u"), "u.yaml"))]
    _run("report", *specs, "-o", str(out))
    (out / "README.md").write_text("not generated: never touched\n")
    (out / "baseline.json").write_text("{}\n")
    assert _run("report", *specs, "-o", str(out), "--check")[0] == 0

    write_spec(spec_text(LENET.replace("out_features: 120", "out_features: 100"), claims=CLAIMS), "t.yaml")
    (out / "u.png").unlink()
    code, stdout, err = _run("report", *specs[:1], "-o", str(out), "--check")
    assert code == 1 and "are stale" in err
    assert [line.split(": ", 1)[1].rsplit("/", 1)[-1] for line in stdout.splitlines()] == [
        "index.md: out of date", "index.png: out of date", "t.md: out of date", "t.png: out of date",
        "u.md: left over (no spec produces it)"]  # u.png is gone already
    assert "u.png: missing" in _run("report", *specs, "-o", str(out), "--check")[1]

    assert _run("report", *specs[:1], "-o", str(out))[0] == 0  # regenerating removes the left-overs
    assert not (out / "u.md").exists()
    assert (out / "README.md").exists() and (out / "baseline.json").exists()
    assert _run("report", *specs[:1], "-o", str(out), "--check")[0] == 0


def test_bad_input_and_unwritable_output_exit_2(write_spec: WriteSpec, tmp_path: Path, quick_charts: None) -> None:
    good = str(write_spec(spec_text(LENET), "t.yaml"))
    blocker = tmp_path / "file"
    blocker.write_text("")
    code, _, err = _run("report", good, "-o", str(blocker / "reports"))
    assert code == 2 and "cannot write" in err and err.count("\n") == 1
    code, _, err = _run("report", good, str(write_spec("id: x\n", "broken.yaml")), "-o", str(tmp_path / "r"))
    assert code == 2 and not (tmp_path / "r").exists()  # nothing written for a partial set
    code, _, err = _run("report", str(write_spec(spec_text(LENET, id="index"), "index.yaml")), "-o", str(tmp_path / "r"))
    assert code == 2 and "overwrite the report index page" in err


def test_the_shipped_specs_report_links_every_spec(shipped_run: AuditRun) -> None:
    index = markdown.index_page(sorted(shipped_run.audits, key=lambda a: a.spec.id),
                                {a.spec.id: None for a in shipped_run.audits}, Versions("test", "test"))
    for audit in shipped_run.audits:
        assert f"[{audit.spec.id}]({audit.spec.id}.md)" in index
    assert "60,965,224" in index  # the paper's network, counted by hand in test_reference_specs


def test_report_files_needs_no_directory(write_spec: WriteSpec, tmp_path: Path, quick_charts: None) -> None:
    run = audit_paths([write_spec(spec_text(LENET))])
    files = report_files(run, tmp_path / "absent", Versions("test", "test"))
    assert sorted(files) == ["index.md", "index.png", "t.md", "t.png"]
    assert not (tmp_path / "absent").exists()
