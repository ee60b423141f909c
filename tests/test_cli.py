"""The CLI's exit codes and outputs, through typer's CliRunner."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from alexnet_audit import __version__
from alexnet_audit.audit import AuditRun
from alexnet_audit.cli import app
from conftest import ROOT, SPECS

runner = CliRunner()
PAPER = str(ROOT / "specs/paper-alexnet-2012.yaml")
# The CLI over the shipped specs: each analysed once per session (conftest.analysed_once).
pytestmark = pytest.mark.usefixtures("analysed_once")


def test_compare_all_shipped_specs_exits_1_and_counts_verdicts(shipped_run: AuditRun, monkeypatch: pytest.MonkeyPatch) -> None:
    import alexnet_audit.audit as audit

    def shipped(paths: list[Path], **options: object) -> AuditRun:  # the session's audit of the same specs, done once
        assert list(paths) == SPECS and options["input_shape"] is None
        return shipped_run

    monkeypatch.setattr(audit, "audit_paths", shipped)
    result = runner.invoke(app, ["compare", *map(str, SPECS)])
    assert result.exit_code == 1, result.stderr  # the posts contain failing claims
    for verdict in ("holds", "fails", "ambiguous", "unverifiable"):
        assert verdict in result.stdout
    for spec in SPECS:
        assert spec.stem in result.stdout


def test_a_spec_whose_claims_all_hold_exits_0() -> None:
    result = runner.invoke(app, ["compare", PAPER])
    assert result.exit_code == 0, result.stdout
    assert "60,965,224" in result.stdout


def test_inspect_shows_layers_claims_and_convention() -> None:
    result = runner.invoke(app, ["inspect", PAPER])
    assert result.exit_code == 0
    for text in ("conv1", "34,944", "105,415,200", "fvcore MACs", "lrn1", "conv1-params"):
        assert text in result.stdout


def test_json_contract(tmp_path: Path) -> None:
    out = tmp_path / "out.json"
    result = runner.invoke(app, ["compare", PAPER, str(ROOT / "specs/torchvision-alexnet.yaml"), "--json", str(out)])
    assert result.exit_code == 1  # torchvision labels 0.71 G MACs as GFLOPS
    doc = json.loads(out.read_text())
    spec = doc["specs"][0]
    assert {"id", "title", "source", "input", "totals", "layers", "claims", "errors"} <= set(spec)
    assert spec["source"]["seed"] == "paper" and spec["input"] == [3, 227, 227]
    assert {"params", "trainable_params", "macs", "flops", "neurons"} <= set(spec["totals"])
    assert spec["totals"]["params"] == 60_965_224 and spec["totals"]["neurons"] == 659_272
    layer = spec["layers"][0]
    assert {"name", "kind", "output_shape", "params", "macs", "receptive_field"} <= set(layer)
    assert layer == {**layer, "name": "conv1", "kind": "conv", "output_shape": [96, 55, 55], "params": 34_944,
                     "macs": 55 * 55 * 96 * 11 * 11 * 3, "receptive_field": 11}
    claim = doc["specs"][1]["claims"][1]
    assert {"id", "target", "kind", "claimed", "measured", "verdict", "diagnosis"} <= set(claim)
    assert claim["verdict"] == "fails" and "MACs quoted as FLOPs" in claim["diagnosis"]


def test_schema_is_json_schema() -> None:
    result = runner.invoke(app, ["schema"])
    assert result.exit_code == 0
    schema = json.loads(result.stdout)
    assert schema["title"] == "SpecDoc" and {"id", "layers", "claims", "input"} <= set(schema["properties"])


def test_unwritable_json_path_is_bad_input(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    result = runner.invoke(app, ["compare", PAPER, "--json", str(blocker / "x.json")])
    assert result.exit_code == 2 and "cannot write" in result.stderr


def test_the_readme_example_spec_is_valid_and_true(tmp_path: Path) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    start = readme.index("```yaml\nid: example-lenet5") + len("```yaml\n")
    example = tmp_path / "example.yaml"
    example.write_text(readme[start: readme.index("```", start)], encoding="utf-8")
    result = runner.invoke(app, ["inspect", str(example)])
    assert result.exit_code == 0, result.stderr
    # LeNet-5 on 1x32x32 by hand: 156 + 2,416 + 48,120 + 10,164 + 850
    assert "61,706" in result.stdout and "unverifiable" in result.stdout


# ---------------------------------------------------------------- errors: one line, exit 2 for usage, 3 for our bugs


@pytest.mark.parametrize("args, message", [
    (["compare", "--bogus", "x"], "error: No such option: --bogus (see alexnet-audit compare --help)"),
    (["inspect"], "error: Missing argument 'SPEC'. (see alexnet-audit inspect --help)"),
    (["train", "x.yaml", "--steps", "0"], "error: Invalid value for '--steps'"),
    (["inspect", PAPER, "--input", "3x22"], "error: Invalid value: '3x22' is not CxHxW, e.g. 3x227x227"),
    (["nope"], "error: No such command 'nope'."),
])
def test_usage_errors_are_one_line_exit_2(args: list[str], message: str) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert len(result.stderr.strip().splitlines()) == 1 and result.stderr.startswith(message), result.stderr
    assert "╭" not in result.stderr and "Usage:" not in result.stderr


def _bug_on(spec_id: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """judge_all raises for one spec, as a bug in our own code would."""
    import alexnet_audit.claims as claims

    real = claims.judge_all

    def judge(analysis, *args, **kwargs):  # type: ignore[no-untyped-def]
        if analysis.spec.id == spec_id:
            raise ZeroDivisionError("division by zero")
        return real(analysis, *args, **kwargs)

    monkeypatch.setattr(claims, "judge_all", judge)


def test_a_bug_breaks_only_its_spec_and_exits_3(monkeypatch: pytest.MonkeyPatch) -> None:
    _bug_on("torchvision-alexnet", monkeypatch)
    result = runner.invoke(app, ["compare", PAPER, str(ROOT / "specs/torchvision-alexnet.yaml")])
    assert result.exit_code == 3
    assert result.stderr.strip() == (f"error: {ROOT / 'specs/torchvision-alexnet.yaml'}: internal error: ZeroDivisionError: "
                                     "division by zero (a bug in alexnet-audit; --debug shows the traceback)")
    assert "60,965,224" in result.stdout  # the paper's spec is still shown: 60,965,224 parameters


def test_a_bug_outside_the_specs_is_one_line_and_the_traceback_only_with_debug(monkeypatch: pytest.MonkeyPatch) -> None:
    import alexnet_audit.render.terminal as terminal

    def broken(*_: object) -> None:
        raise KeyError("oops")

    monkeypatch.setattr(terminal, "compare_view", broken)
    result = runner.invoke(app, ["compare", PAPER])
    assert result.exit_code == 3
    assert result.stderr.strip() == "error: internal error: KeyError: 'oops' (a bug in alexnet-audit; --debug shows the traceback)"
    debug = runner.invoke(app, ["--debug", "compare", PAPER])
    assert debug.exit_code == 3 and debug.stderr.startswith("Traceback (most recent call last):")
    assert debug.stderr.strip().splitlines()[-1] == result.stderr.strip()


# ---------------------------------------------------------------- start fast: no torch for help, version, schema, bad input

_STARTUP = """
import sys
from typer.testing import CliRunner
from alexnet_audit.cli import app
runner = CliRunner()
heavy = ("torch", "fvcore", "pandas", "matplotlib")
for args, code in ((["--help"], 0), (["--version"], 0), (["schema"], 0), (["compare", sys.argv[1]], 2), (["inspect"], 2)):
    result = runner.invoke(app, args)
    assert result.exit_code == code, (args, result.output)
    loaded = [m for m in heavy if m in sys.modules]
    assert not loaded, (args, loaded)
print("ok")
"""


def test_help_version_schema_and_bad_input_never_import_torch(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: x\n", encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", _STARTUP, str(bad)], capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-2000:]


def test_the_real_exit_path_prints_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: x\n", encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-m", "alexnet_audit", "compare", str(bad), "--nope"], capture_output=True,
                          text=True, env=env, timeout=60)
    assert (done.returncode, done.stdout) == (2, "") and len(done.stderr.splitlines()) == 1
    assert done.stderr.startswith("error: No such option: --nope") and done.stderr.endswith("(see alexnet-audit compare --help)\n")
    version = subprocess.run([sys.executable, "-m", "alexnet_audit", "--version"], capture_output=True, text=True, env=env, timeout=60)
    assert (version.returncode, version.stdout) == (0, f"alexnet-audit {__version__}\n")


def test_help_shows_plain_types() -> None:
    result = runner.invoke(app, ["train", "--help"])
    assert result.exit_code == 0
    assert "Usage: alexnet-audit train [OPTIONS] SPEC..." in result.stdout
    for plain_option in ("--steps N", "--device auto|cuda|cpu", "--out DIR", "--budget SECONDS"):
        assert plain_option in result.stdout
    assert "<" not in result.stdout.replace("<spec-id>", "") and "list[" not in result.stdout


# ---------------------------------------------------------------- what a torchinfo user expects


def test_input_override_rebuilds_for_another_size() -> None:
    result = runner.invoke(app, ["inspect", str(ROOT / "specs/torchvision-alexnet.yaml"), "--input", "3x227x227"],
                           env={"COLUMNS": "160"})
    # conv1 on 227: (227 + 2*2 - 11) // 4 + 1 = 56; MACs 56*56*64*11*11*3 = 72,855,552
    assert "56x56x64" in result.stdout and "72,855,552" in result.stdout
    assert result.exit_code == 1  # the input claim (224) no longer holds... or other figures; 61,100,840 params do
    assert "61,100,840" in result.stdout


def test_training_dir_is_named_in_the_output(tmp_path: Path) -> None:
    result = runner.invoke(app, ["compare", PAPER, "--training-dir", str(tmp_path / "none")])
    assert f"training records: none ({tmp_path / 'none'} does not exist)" in result.stdout
    result = runner.invoke(app, ["check", PAPER, "--training-dir", str(tmp_path)])
    assert f"training records: {tmp_path}" in result.stdout


def test_check_prints_each_failure_with_claimed_and_measured() -> None:
    result = runner.invoke(app, ["check", str(ROOT / "specs/torchvision-alexnet.yaml")])
    assert result.exit_code == 1
    # torchvision's "0.71 GFLOPS" against 2 x 714,197,696 FLOPs
    assert "  torchvision-alexnet/gflops: claimed 0.71 G, measured 1,428,395,392: the figure is MACs quoted as FLOPs" in result.stdout


def test_csv_and_markdown_tables(tmp_path: Path) -> None:
    csv, md = tmp_path / "t.csv", tmp_path / "t.md"
    result = runner.invoke(app, ["inspect", str(ROOT / "specs/torchvision-alexnet.yaml"), "--csv", str(csv), "--markdown", str(md)])
    assert result.exit_code == 1
    rows = csv.read_text().splitlines()
    assert rows[0].split(",")[:8] == ["layer", "kind", "stage", "output (HxWxC)", "kernel", "stride", "padding", "params"]
    assert rows[1].startswith("conv1,conv,,55x55x64,11,4,2,23296,70276800,")  # 11*11*3*64+64; 55*55*64*363
    assert "| conv1 " in md.read_text() and "70,276,800" in md.read_text()
    result = runner.invoke(app, ["compare", PAPER, "--csv", str(csv)])
    assert csv.read_text().splitlines()[1].startswith("paper-alexnet-2012,227x227x3,60965224,")


def test_verdicts_print_as_text(shipped_run: AuditRun) -> None:
    printed = {str(c.verdict) for a in shipped_run.audits for c in a.claims}
    assert {"holds", "fails"} <= printed <= {"holds", "fails", "ambiguous", "unverifiable"}


def test_the_readme_python_api_example_runs_as_documented(monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    start = readme.index("```python\nfrom alexnet_audit.analysis import analyse") + len("```python\n")
    code = readme[start: readme.index("```", start)]
    monkeypatch.chdir(ROOT)  # the example's paths are relative to the repository
    exec(compile(code, "README.md", "exec"), {})
    printed = capsys.readouterr().out.splitlines()
    # each "# ..." comment in the example is a line it prints; the paper's parameters by hand, layer by layer:
    # conv 11*11*3*96+96, 5*5*48*256+256, 3*3*256*384+384, 3*3*192*384+384, 3*3*192*256+256; fc 9216*4096+4096, ...
    assert (34_944 + 307_456 + 885_120 + 663_936 + 442_624 + 37_752_832 + 16_781_312 + 4_097_000 == 60_965_224
            == 11 * 11 * 3 * 96 + 96 + 5 * 5 * 48 * 256 + 256 + 3 * 3 * 256 * 384 + 384 + 3 * 3 * 192 * 384 + 384
            + 3 * 3 * 192 * 256 + 256 + 9216 * 4096 + 4096 + 4096 * 4096 + 4096 + 4096 * 1000 + 1000)
    for comment in [line.split("# ", 1)[1] for line in code.splitlines() if "  # " in line and "torch.nn.Module" not in line]:
        assert comment in printed, (comment, printed)
