"""Every kind of bad input gives exit 2 and one clear line naming file, line and field."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import pytest
from typer.testing import CliRunner

from alexnet_audit.cli import app
from helpers import LENET, spec_text

runner = CliRunner()


def _run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stderr


GOOD = spec_text(LENET)

CASES = {
    "invalid YAML": ("id: t\nlayers: [1, 2\n", "spec.yaml:3: invalid YAML"),
    "unknown layer kind": (GOOD.replace("kind: relu}", "kind: relux}", 1), "spec.yaml:8: layers[1]: unknown kind 'relux'"),
    "missing field": (GOOD.replace("num_classes: 10\n", ""), "spec.yaml:1: num_classes: required field is missing"),
    "ill-typed field": (GOOD.replace("kernel: 5}", "kernel: five}", 1), "spec.yaml:7: layers[0].kernel: Input should be a valid integer"),
    "unknown field": (GOOD.replace("kernel: 5}", "kernel: 5, dilate: 2}", 1), "spec.yaml:7: layers[0].dilate: unknown field"),
    "kernel larger than its padded input": (
        spec_text(LENET, input="[3, 12, 12]"),
        "spec.yaml:10: layers[3]: layer 'conv2' (conv) with input [6, 4, 4]: kernel 5 is larger than its padded input 4",
    ),
    "size reaches zero": (
        spec_text("  - {kind: conv, name: c, out_channels: 4, kernel: 3, stride: 2}\n  - {kind: maxpool, name: p, kernel: 2}\n  - {kind: flatten}\n  - {kind: linear, out_features: 10}\n", input="[3, 3, 3]"),
        "layer 'p' (maxpool) with input [4, 1, 1]: kernel 2 is larger than its padded input 1",
    ),
    "linear input does not match flatten": (
        GOOD.replace("{kind: linear, name: fc1, out_features: 120}", "{kind: linear, name: fc1, out_features: 120, in_features: 256}"),
        "layer 'fc1' (linear) with input [400]: in_features is 256 but the layer before gives 400 features",
    ),
    "too large to analyse": (
        spec_text("  - {kind: conv, name: c, out_channels: 4096, kernel: 3, padding: 1}\n  - {kind: flatten}\n  - {kind: linear, out_features: 10}\n", input="[3, 4096, 4096]"),
        "too large to analyse here",
    ),
    "network ends with the wrong width": (GOOD.replace("num_classes: 10", "num_classes: 17"), "the network ends with shape [10] but num_classes is 17"),
    "duplicate layer name": (GOOD.replace("name: pool2", "name: pool1"), "name 'pool1' is used twice"),
    "claim of unknown kind": (spec_text(LENET, claims="  - {id: a, kind: vibes, claimed: 1, where: x}\n"), "claims[0]: unknown kind 'vibes'"),
    "claim target names no layer": (
        spec_text(LENET, claims="  - {id: a, kind: params, target: conv9, claimed: 1, where: x}\n"),
        "spec.yaml:20: claims[0].target: 'conv9' names no layer, stage or block of this spec",
    ),
    "unparsable formula": (
        spec_text(LENET, claims="  - {id: a, kind: params, target: conv1, claimed: '(5*5*3*6+6=456', where: x}\n"),
        "spec.yaml:20: claims[0]: claimed: formula '(5*5*3*6+6' ends too early",
    ),
    "python tag refused": ("!!python/object/apply:os.system ['echo pwned']\n", "could not determine a constructor"),
    "alias bomb refused": (
        "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n"
                                                     for p, c in zip("abcdefgh", "bcdefghi")),
        "more than 20000 nodes",
    ),
    "not a mapping": ("- 1\n- 2\n", "a spec must be a mapping"),
    "empty file": ("", "the file is empty"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_spec_exits_2_with_one_clear_line(case: str, write_spec: Callable[[str], Path]) -> None:
    text, expected = CASES[case]
    path = write_spec(text)
    code, stderr = _run("compare", str(path))
    assert code == 2
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in stderr
    assert str(path) in lines[0]
    assert expected.replace("spec.yaml", str(path)) in lines[0].replace("\n", "")


def test_unreadable_file_exits_2(tmp_path: Path) -> None:
    code, stderr = _run("compare", str(tmp_path / "missing.yaml"))
    assert code == 2 and "missing.yaml: cannot read the file" in stderr


def test_binary_garbage_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "garbage.yaml"
    path.write_bytes(bytes(range(256)) * 4)
    code, stderr = _run("compare", str(path))
    assert code == 2 and "not UTF-8" in stderr


def test_good_specs_still_shown_beside_a_broken_one(write_spec: Callable[..., Path]) -> None:
    good = write_spec(GOOD, "good.yaml")
    bad = write_spec("id: [", "bad.yaml")
    result = runner.invoke(app, ["compare", str(good), str(bad)])
    assert result.exit_code == 2
    # LeNet on 3 channels, by hand: 456 + 2,416 + 48,120 + 10,164 + 850
    assert "params" in result.stdout and "62,006" in result.stdout
    assert "bad.yaml" in result.stderr
