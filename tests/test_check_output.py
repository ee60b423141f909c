"""What `check` prints: one line per failing claim (or change) with its claimed and measured
figures and why, each fact once, whatever the claim's kind; and `inspect`'s claims table, once too."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from rich.console import Console
from typer.testing import CliRunner

from alexnet_audit.audit import audit_paths
from alexnet_audit.cli import app
from alexnet_audit.render.terminal import inspect_view

from helpers import LENET, spec_text

WriteSpec = Callable[..., Path]


def _check(*args: str) -> tuple[int, list[str]]:
    result = CliRunner().invoke(app, ["check", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout.splitlines()


def _line(lines: list[str], claim: str) -> str:
    (line,) = [ln for ln in lines if ln.startswith(f"  {claim}: ") or f": {claim}: " in ln]
    return line


def test_a_failed_same_as_prints_its_differences_once(write_spec: WriteSpec) -> None:
    half = (LENET.replace("out_channels: 6", "out_channels: 3").replace("out_channels: 16", "out_channels: 8")
            .replace("out_features: 120", "out_features: 60").replace("out_features: 84", "out_features: 42"))
    claim = "  - {id: same, kind: same_as, reference: ref, claimed: this is the reference network, where: x}\n"
    reference = spec_text(LENET, id="ref").replace("framework: pytorch}", "framework: pytorch, variant: reference}")
    code, lines = _check(str(write_spec(spec_text(half, claims=claim))), str(write_spec(reference, "ref.yaml")))
    assert code == 1
    # LeNet's widths 6, 16, 120, 84 against 3, 8, 60, 42; the last layer (10 classes) is not compared.
    assert _line(lines, "t/same") == (
        "  t/same: claimed this is the reference network: compared with ref layer by layer (widths, windows, strides, "
        "normalisation and pooling; the last layer's width follows the classes): every layer has half the reference's "
        "width (a half-width network); conv1 (conv1) has kernels 3, the reference 6; conv2 (conv2) has kernels 8, the "
        "reference 16; fc1 (fc1) has width 60, the reference 120; fc2 (fc2) has width 42, the reference 84")


# conv1 5*5*3*6 + 6 = 456; fc1 400*120 + 120 = 48,120; two convolutions, three linear layers.
CLAIMS = """  - {id: fc1-params, kind: params, target: fc1, claimed: 4812, where: x}
  - {id: convs, kind: layer_count, of: conv, claimed: 3, where: x}
  - {id: pools, kind: structure, claimed: a max pool follows conv1 and fc1, check: {followed_by: maxpool, layers: [conv1, fc1]}, where: x}
  - {id: share, kind: params, target: fc1, share: true, bound: at_most, claimed: 50%, where: x}
"""


def test_each_kind_of_failure_states_each_figure_once(write_spec: WriteSpec) -> None:
    code, lines = _check(str(write_spec(spec_text(LENET, claims=CLAIMS))))
    assert code == 1
    # A diagnosis explains the figures printed before it.
    assert _line(lines, "t/fc1-params") == ("  t/fc1-params: claimed 4,812, measured 48,120: a digit dropped: 48,120 "
                                            "written as 4,812 (the '0' at position 5 is missing)")
    # Without one, the detail is the comparison: it states the measured figure, and the claimed
    # one where it quotes it, and neither is printed again before it.
    assert _line(lines, "t/convs") == "  t/convs: conv layers: claimed 3, the built model has 2 (conv1, conv2)"
    assert _line(lines, "t/pools") == ("  t/pools: claimed a max pool follows conv1 and fc1: maxpool follows: conv1, conv2 "
                                       "(not after fc1)")
    # all parameters: 456 + 2,416 + 48,120 + 10,164 + 850 = 62,006; fc1's 48,120 of them is 77.61%
    assert _line(lines, "t/share") == ("  t/share: share of all parameters: claimed 50% (at most 0.5), measured 48,120 "
                                       "of 62,006 = 77.61%")


def test_a_claim_failing_on_the_other_reading_states_each_readings_figure_once(write_spec: WriteSpec) -> None:
    head = ("id: {id}\ntitle: t\nsource: {{seed: test, section: s, framework: pytorch, variant: {v}, counterpart: {other}}}\n"
            "input: [3, 32, 32]\nnum_classes: 10\nlayers:\n")
    claim = "  - {id: fc1-width, kind: output_shape, target: fc1, layout: c, claimed: '120', against: [prose, code], where: x}\n"
    prose = head.format(id="post-prose", v="prose", other="post-code") + LENET + "claims:\n" + claim
    code = head.format(id="post-code", v="code", other="post-prose") + LENET.replace("out_features: 120", "out_features: 50")
    status, lines = _check(str(write_spec(prose, "prose.yaml")), str(write_spec(code, "code.yaml")))
    assert status == 1
    assert _line(lines, "post-prose/fc1-width") == (
        "  post-prose/fc1-width: against the prose (spec post-prose), it holds: C of the output: claimed 120, measured 120; "
        "against the code (spec post-code), it fails: C of the output: claimed 120, measured 50")


def test_a_change_against_the_baseline_states_its_figures_once(write_spec: WriteSpec, tmp_path: Path) -> None:
    base = tmp_path / "baseline.json"
    holds = "  - {id: convs, kind: layer_count, of: conv, claimed: 2, where: x}\n"
    _check(str(write_spec(spec_text(LENET, claims=holds))), "--write-baseline", str(base))
    status, lines = _check(str(write_spec(spec_text(LENET, claims=holds.replace("claimed: 2", "claimed: 3")))),
                           "--baseline", str(base))
    assert status == 1
    assert lines[:2] == ["1 change(s) against the baseline",
                         "  new failure: t/convs: was holds, now fails: conv layers: claimed 3, the built model has 2 (conv1, conv2)"]


def test_inspect_gives_each_readings_verdict_once(write_spec: WriteSpec) -> None:
    # As written, 2 conv layers (holds); read with the linear layers, 2 + 3 = 5 (fails): ambiguous.
    claim = ("  - {id: convs, kind: layer_count, of: conv, claimed: 2, where: x, "
             "readings: [{label: with the linear layers, of: [conv, linear]}]}\n")
    (audit,) = audit_paths([write_spec(spec_text(LENET, claims=claim))]).audits
    console = Console(width=1000, record=True, color_system=None)
    console.print(inspect_view(audit, width=1000))
    text = console.export_text()
    assert "read as written, it holds (conv layers: claimed 2, the built model has 2 (conv1, conv2))" in text
    assert "read with the linear layers, it fails (conv + linear layers: claimed 2, the built model has 5" in text
    assert "as written: holds" not in text and text.count("it holds") == 1
