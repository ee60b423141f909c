"""The CLI's exit codes and outputs, through typer's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from alexnet_audit.cli import app
from conftest import ROOT, SPECS

runner = CliRunner()
PAPER = str(ROOT / "specs/paper-alexnet-2012.yaml")


def test_compare_all_shipped_specs_exits_1_and_counts_verdicts() -> None:
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
