"""Property-based fuzzing.

Random valid networks (tests/strategies.py) always build, measure and report; their closed-form
counts agree with fvcore and FlopCounterMode, and their shapes agree with the shapes computed by
hand in the strategy and with a real forward pass. Random broken specs and garbage always exit 2
with one clear line: never a traceback, never a runaway allocation, never code execution.
Every crash these fuzzers found has an explicit regression case at the bottom.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import tempfile
import tracemalloc
from pathlib import Path
from typing import Iterator

import pytest
import torch
from hypothesis import given, note, settings
from hypothesis import strategies as st
from rich.console import Console
from typer.testing import CliRunner

from alexnet_audit.audit import AuditRun, audit_paths
from alexnet_audit.build import build_model
from alexnet_audit.claims import Verdict
from alexnet_audit.cli import app
from alexnet_audit.render.json_out import run_json
from alexnet_audit.render.terminal import compare_view, inspect_view
from alexnet_audit.spec import Spec

from helpers import LENET, spec_text
from conftest import examples
from strategies import BREAKAGES, SENTINEL, Net, broken_specs, nets_with_claims

runner = CliRunner()
MAX_PEAK_BYTES = 64 << 20  # Python-level memory a refused spec may use (an alias bomb would need gigabytes)
# Where a broken spec could blow up memory, the fuzz test traces it (tracemalloc slows an example
# several-fold). Deep nesting is a risk of recursion and time, not memory: its nodes are bounded by
# the file's size, and the test still has it refused in one line.
MEMORY_RISKS = {"alias_bomb", "long_string", "huge_integer", "size_out_of_range", "bad_formula"}


@contextlib.contextmanager
def _in_temp_dir() -> Iterator[Path]:
    """A fresh working directory: a payload that ran would leave its sentinel file here."""
    old = os.getcwd()
    with tempfile.TemporaryDirectory() as tmp:
        os.chdir(tmp)
        try:
            yield Path(tmp)
        finally:
            os.chdir(old)


def _audit_text(text: str) -> AuditRun:
    with _in_temp_dir() as tmp:
        path = tmp / "fuzz.yaml"
        path.write_text(text, encoding="utf-8")
        return audit_paths([path])


def _forward_shapes(spec: Spec) -> list[tuple[int, ...]]:
    """Every node's output shape in a real forward pass of the initialised model, batch of 2."""
    model = build_model(spec).eval()
    shapes: dict[str, tuple[int, ...]] = {}
    hooks = [module.register_forward_hook(lambda _m, _i, out, name=name: shapes.__setitem__(name, tuple(out.shape[1:])))
             for name, module in model.named_layers()]
    with torch.no_grad():
        model(torch.zeros(2, *spec.doc.input))
    for hook in hooks:
        hook.remove()
    return [shapes[name] for name, _ in model.named_layers()]


def _render(renderable: object) -> str:
    console = Console(record=True, file=io.StringIO(), width=160)
    console.print(renderable)
    return console.export_text()


@given(net=nets_with_claims())
def test_random_valid_network_builds_measures_and_reports(net: Net) -> None:
    _builds_measures_and_reports(net)


@given(net=nets_with_claims(graphs=True))
def test_random_valid_graph_builds_measures_and_reports(net: Net) -> None:
    _builds_measures_and_reports(net)


def _builds_measures_and_reports(net: Net) -> None:
    note(net.text)
    run = _audit_text(net.text)
    assert run.broken == (), [str(b.error) for b in run.broken]
    (audit,) = run.audits
    analysis = audit.analysis
    assert analysis.disagreements == ()  # closed form = fvcore = FlopCounterMode; params and shapes match the model
    assert [lr.output_shape for lr in analysis.layers] == list(net.shapes)  # shapes computed by hand
    assert _forward_shapes(audit.spec) == list(net.shapes)  # and by PyTorch, batch of 2
    claims = net.doc.get("claims", [])
    assert [c.id for c in audit.claims] == [c["id"] for c in claims]  # every claim judged, none skipped
    assert all(isinstance(c.verdict, Verdict) for c in audit.claims)
    text = _render(compare_view(run, 160)) + _render(inspect_view(audit, 160))
    assert "fuzz" in text and "claims" in text
    doc = json.loads(run_json(run))
    assert [c["id"] for c in doc["specs"][0]["claims"]] == [c["id"] for c in claims]
    assert [layer["output_shape"] for layer in doc["specs"][0]["layers"]] == [list(s) for s in net.shapes]


def _exits_2_with_one_line(data: bytes, *, trace_memory: bool = True) -> str:
    with _in_temp_dir() as tmp:
        path = tmp / "broken.yaml"
        path.write_bytes(data)
        if trace_memory:
            tracemalloc.start()
        try:
            result = runner.invoke(app, ["compare", str(path)])
            peak = tracemalloc.get_traced_memory()[1] if trace_memory else 0
        finally:
            tracemalloc.stop()
        assert not (tmp / SENTINEL).exists(), "a YAML tag ran code"
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code == 2, (result.exit_code, result.stdout[-500:], result.stderr[-500:])
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr[:2000]
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout
    assert lines[0].startswith(f"error: {path}"), lines[0][:300]
    assert peak < MAX_PEAK_BYTES, f"{peak:,} bytes to refuse a bad spec"
    return lines[0]


# Every way of breaking a spec, every run: a few examples of each rather than a draw among them.
@pytest.mark.parametrize("how", BREAKAGES)
@settings(max_examples=examples(3))
@given(data=st.data())
def test_broken_spec_exits_2_with_one_clear_line(how: str, data: st.DataObject) -> None:
    broken = data.draw(broken_specs(how))
    note(f"{broken.how}: {broken.data[:3000]!r}")
    _exits_2_with_one_line(broken.data, trace_memory=broken.how in MEMORY_RISKS)


# ---------------------------------------------------------------- regressions: crashes the fuzzers found

NUMERIC_CLAIM = "  - {{id: a, kind: params, claimed: '{}', where: x}}\n"

REGRESSIONS = {
    # arith.py recursed once per parenthesis: 199 levels raised RecursionError through pydantic (traceback).
    "formula nested 199 parentheses deep": (
        spec_text(LENET, claims=NUMERIC_CLAIM.format("(" * 199 + "1" + ")" * 199)), "formula nested more than 50 levels deep"),
    "formula with 300 signs": (spec_text(LENET, claims=NUMERIC_CLAIM.format("1+" + "-" * 300 + "1")), "formula nested more than 50 levels deep"),
    "formula with a 150-level power tower": (spec_text(LENET, claims=NUMERIC_CLAIM.format("2^" * 150 + "2")), "nested more than 50 levels"),
    # PyYAML builds ints with int(str): beyond 4,300 digits Python raises ValueError (traceback).
    "integer of 5,000 digits": (
        spec_text(LENET, claims="  - {id: a, kind: params, claimed: " + "9" * 5000 + ", where: x}\n"), "invalid YAML value: Exceeds the limit"),
    # yaml.SafeLoader(text) refused control characters before the try block (traceback).
    "UTF-8 control characters": ("\t\x00\x01", "invalid YAML: unacceptable character #x0000 at position 1"),
    "control character inside a spec": (spec_text(LENET).replace("test network", "test\x07network"), "unacceptable character #x0007"),
    # An input_shape claim that is not a shape crashed claims._judge_input with ValueError (traceback).
    "input_shape claim that is no shape": (
        spec_text(LENET, claims="  - {id: a, kind: input_shape, claimed: 'axb', where: x}\n"), "claims[0]: claimed: cannot read 'axb' as a shape"),
    # output_shape claims that are no shape were judged (exit 1) instead of refused as bad input.
    "output_shape claim that is no shape": (
        spec_text(LENET, claims="  - {id: a, kind: output_shape, target: conv1, claimed: '55x', where: x}\n"), "cannot read '55x' as a shape"),
    "empty shape list": (
        spec_text(LENET, claims="  - {id: a, kind: output_shape, target: conv1, claimed: [], where: x}\n"), "cannot read [] as a shape"),
    "negative shape dimension": (
        spec_text(LENET, claims="  - {id: a, kind: output_shape, target: conv1, claimed: [28, -28, 6], where: x}\n"), "as a shape"),
    "shape dimension of 5,000 digits": (
        spec_text(LENET, claims="  - {id: a, kind: output_shape, target: conv1, claimed: '" + "9" * 5000 + "x2', where: x}\n"), "as a shape"),
    # nn.LocalResponseNorm pads the channel axis by the window: size 10^8 asked for 400 GB (RuntimeError).
    "LRN window of 10^8 channels": (
        spec_text("  - {kind: lrn, size: 100000000}\n  - {kind: flatten}\n  - {kind: linear, out_features: 10}\n"),
        "layers[0].size: Input should be less than or equal to 1024"),
    "LRN scratch beyond the limit": (
        spec_text("  - {kind: lrn_tf, depth_radius: 1000}\n  - {kind: flatten}\n  - {kind: linear, out_features: 10}\n",
                  input="[1, 4096, 4096]"),
        "an LRN window of 2001 channels over a 1x4096x4096 map needs 33,571,209,216 scratch values"),
    # torch refused some initialisers while building (RuntimeError / ValueError, traceback);
    # the schema now refuses the impossible ones at load time, where the line is known.
    "uniform init with low above high": (
        spec_text(LENET.replace("kernel: 5}", "kernel: 5, init: {weight: {dist: uniform, low: 5, high: 1}}}", 1)),
        "spec.yaml:7: layers[0].init.weight: low (5) must be below high (1)"),
    "fan-based init on a bias vector": (
        spec_text(LENET).replace("num_classes: 10\n", "num_classes: 10\ninit: {bias: {dist: glorot_uniform}}\n"),
        "spec.yaml:6: init: layer 'conv1': cannot initialise its bias with glorot_uniform"),
    "non-finite uniform bounds": (
        spec_text(LENET.replace("kernel: 5}", "kernel: 5, init: {weight: {dist: uniform, low: -.inf, high: .inf}}}", 1)),
        "spec.yaml:7: layers[0].init.weight.low: Input should be a finite number"),
    # A key with a newline put a line break into the one-line message.
    "unknown key with a newline": (
        spec_text(LENET).replace("num_classes: 10", 'num_classes: 10\n"bad\\nkey": 1'), "'bad\\nkey': unknown field"),
}


@pytest.mark.parametrize("case", sorted(REGRESSIONS))
def test_regression_exits_2_with_one_clear_line(case: str) -> None:
    text, expected = REGRESSIONS[case]
    line = _exits_2_with_one_line(text.encode("utf-8"))
    assert expected.replace("spec.yaml", "broken.yaml") in line, line[:400]


def test_python_tag_payload_never_runs() -> None:
    payload = f"!!python/object/apply:os.system ['touch {SENTINEL}']"
    line = _exits_2_with_one_line(spec_text(LENET).replace("test network", payload).encode("utf-8"))
    assert "could not determine a constructor for the tag 'tag:yaml.org,2002:python/object/apply:os.system'" in line
