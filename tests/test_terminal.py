"""The terminal views at 80, 100 and 120 columns: every figure whole on one line, nothing cut;
spec text shown literally (rich markup as written, control characters escaped)."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from rich.console import Console, RenderableType
from typer.testing import CliRunner

from alexnet_audit.audit import AuditRun, SpecAudit
from alexnet_audit.cli import app
from alexnet_audit.render.formatting import figure_text
from alexnet_audit.render.terminal import compare_view, inspect_view
from conftest import ROOT
from helpers import LENET, spec_text

WIDTHS = (80, 100, 120)
TORCHVISION = ROOT / "specs/torchvision-alexnet.yaml"

# torchvision's AlexNet on 3x224x224, by hand: (params, MACs) per conv/linear layer.
TV_LAYERS = {
    "conv1": (11 * 11 * 3 * 64 + 64, 55 * 55 * 64 * 11 * 11 * 3),
    "conv2": (5 * 5 * 64 * 192 + 192, 27 * 27 * 192 * 5 * 5 * 64),
    "conv3": (3 * 3 * 192 * 384 + 384, 13 * 13 * 384 * 3 * 3 * 192),
    "conv4": (3 * 3 * 384 * 256 + 256, 13 * 13 * 256 * 3 * 3 * 384),
    "conv5": (3 * 3 * 256 * 256 + 256, 13 * 13 * 256 * 3 * 3 * 256),
    "fc6": (9216 * 4096 + 4096, 9216 * 4096),
    "fc7": (4096 * 4096 + 4096, 4096 * 4096),
    "fc8": (4096 * 1000 + 1000, 4096 * 1000),
}
TV_PARAMS = sum(p for p, _ in TV_LAYERS.values())  # 61,100,840
TV_MACS = sum(m for _, m in TV_LAYERS.values()) + 6 * 6 * 256  # adaptive average pooling: 1 per input element


def _lines(renderable: RenderableType, width: int) -> list[str]:
    console = Console(width=width, record=True, file=io.StringIO(), color_system=None)
    console.print(renderable)
    lines = console.export_text().splitlines()
    assert max(len(line) for line in lines) <= width
    assert not any("…" in line for line in lines), "a cell was cut"
    return lines


def _whole(figure: str, lines: list[str]) -> bool:
    """`figure` on one line, not as part of a longer number."""
    pattern = re.compile(rf"(?<![\d,.]){re.escape(figure)}(?![\d,]|\.\d)")
    return any(pattern.search(line) for line in lines)


@pytest.fixture(scope="module")
def torchvision(shipped_run: AuditRun) -> SpecAudit:
    return next(a for a in shipped_run.audits if a.spec.path == str(TORCHVISION))


def test_hand_counts_match_the_torchvision_figures() -> None:
    assert (TV_PARAMS, TV_MACS) == (61_100_840, 714_197_696)  # torchvision's documented 61.1M parameters


@pytest.mark.parametrize("width", WIDTHS)
def test_inspect_shows_every_figure_whole(torchvision: SpecAudit, width: int) -> None:
    lines = _lines(inspect_view(torchvision, width), width)
    for params, macs in TV_LAYERS.values():
        assert _whole(f"{params:,}", lines) and _whole(f"{macs:,}", lines), (params, macs)
    assert _whole(f"{TV_PARAMS:,}", lines) and _whole(f"{TV_MACS:,}", lines)
    assert _whole("0.71 G", lines)  # the claimed GFLOPS figure, with its unit
    assert _whole(f"{2 * TV_MACS:,}", lines)  # what it is measured against: FLOPs
    for header in ("kernel", "stride", "padding", "receptive field"):
        assert any(header in line for line in lines), header
    assert any("effective stride" in line for line in lines) or any(
        "effective" in a and "stride" in b for a, b in zip(lines, lines[1:]))


@pytest.mark.parametrize("width", WIDTHS)
def test_inspect_of_every_shipped_spec_keeps_claims_and_totals_whole(shipped_run: AuditRun, width: int) -> None:
    for audit in shipped_run.audits:
        lines = _lines(inspect_view(audit, width), width)
        t = audit.analysis.totals
        assert _whole(f"{t.trainable_params:,}", lines) and _whole(f"{t.macs:,}", lines), audit.spec.id
        for lr in audit.analysis.layers:
            assert _whole(f"{lr.params:,}", lines) and _whole(f"{lr.macs:,}", lines), (audit.spec.id, lr.name)
        for c in audit.claims:
            claimed = figure_text(c.claimed)
            if claimed.count(" ") <= 1:  # a figure ("60,965,224", "0.71 G"); a sentence wraps like prose
                assert any(claimed in line for line in lines), (audit.spec.id, c.id, claimed)


@pytest.mark.parametrize("width", WIDTHS)
def test_compare_keeps_every_total_whole_and_stacks_specs_that_do_not_fit(shipped_run: AuditRun, width: int) -> None:
    lines = _lines(compare_view(shipped_run, width), width)
    for audit in shipped_run.audits:
        t = audit.analysis.totals
        for figure in (t.trainable_params, t.macs, t.flops, t.neurons):
            assert _whole(f"{figure:,}", lines), (audit.spec.id, figure)
        assert any(audit.spec.id in line for line in lines)
    tables = sum(1 for line in lines if "specs side by side" in line)
    assert tables > 1  # twelve specs never fit side by side in 120 columns: several tables, whole figures


def test_compare_per_layer_figures_whole_at_80_columns(torchvision: SpecAudit) -> None:
    lines = _lines(compare_view(AuditRun((torchvision,), ()), 80), 80)
    # conv1: 23,296 params = 23.30K; 70,276,800 MACs = 70.28M; 55x55x64 (H x W x C)
    assert _whole("23.30K", lines) and _whole("70.28M", lines) and _whole("55x55x64", lines)
    assert _whole(f"{TV_PARAMS:,}", lines)


def test_code_vs_prose_and_paper_sections_only_where_they_apply(shipped_run: AuditRun, torchvision: SpecAudit) -> None:
    lenet = [a for a in shipped_run.audits if a.spec.id.startswith("seed002-lenet5")]
    paper_and_lenets = [a for a in shipped_run.audits if a.spec.id == "paper-alexnet-2012"] + lenet
    text = "\n".join(_lines(compare_view(AuditRun(tuple(paper_and_lenets), ()), 120), 120))
    assert "seed002-lenet5-table → seed002-lenet5-code" in text  # the post has two readings
    assert "against the 2012 paper" not in text  # LeNets are not read against AlexNet
    alone = "\n".join(_lines(compare_view(AuditRun((torchvision,), ()), 120), 120))  # no counterpart, no paper
    assert "→" not in alone and "2012 paper" not in alone


HOSTILE = r'"[red]R[/] [link=http://x]L[/link] [/] \e[2J \a \0 end"'


def test_spec_text_reaches_the_terminal_as_literal_text(write_spec) -> None:  # type: ignore[no-untyped-def]
    claim = f"  - {{id: u, kind: unverifiable, claimed: {HOSTILE}, needs: {HOSTILE}, where: x}}\n"
    path: Path = write_spec(spec_text(LENET, claims=claim).replace("title: test network", f"title: {HOSTILE}"))
    runner = CliRunner()
    for command in ("inspect", "compare"):
        result = runner.invoke(app, [command, str(path)], env={"COLUMNS": "200"})
        assert result.exit_code == 0, result.output
        assert not any(c in result.output for c in "\x1b\x07\x00")
    shown = runner.invoke(app, ["inspect", str(path)], env={"COLUMNS": "200"}).stdout
    assert shown.count("[red]R[/] [link=http://x]L[/link] [/] \\x1b[2J \\x07 \\x00 end") == 3, shown  # title, claimed, needs


def test_file_names_and_option_values_reach_the_terminal_as_literal_text(tmp_path: Path) -> None:
    bad = tmp_path / "[red]x[link=y] \x1b]52;c;aGk=\x07.yaml"  # an OSC 52 clipboard write
    bad.write_text("id: x\n", encoding="utf-8")
    runner = CliRunner()
    result = runner.invoke(app, ["compare", str(bad)])
    assert result.exit_code == 2
    assert result.stderr.strip() == f"error: {tmp_path}/[red]x[link=y] \\x1b]52;c;aGk=\\x07.yaml:1: title: required field is missing"
    result = runner.invoke(app, ["inspect", str(bad), "--input", "[/]\x1b[2J"])
    assert result.exit_code == 2 and "'[/]\\x1b[2J' is not CxHxW" in result.stderr and "\x1b" not in result.stderr
