"""`same_as` on graph networks: branches matched whatever their order, each difference located by
block and branch. Every expected text below is written out by hand from the specs in the test."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from alexnet_audit.audit import audit_paths
from alexnet_audit.verdicts import ClaimResult, Verdict
from helpers import LENET, spec_text

CLAIM = "  - {id: same, kind: same_as, reference: ref, claimed: this is the reference network, where: x}\n"
GRAPH_HEAD = ("compared with ref along the data paths (branches matched whatever their order; widths, windows, "
              "strides, merges, normalisation and pooling; the last layer's width follows the classes): ")

ONE_BY_ONE = """      -
        - {kind: conv, name: a, out_channels: 8, kernel: 1}
        - {kind: relu}
"""
REDUCE_THEN_3X3 = """      -
        - {kind: conv, name: b1, out_channels: 8, kernel: 1}
        - {kind: relu}
        - {kind: conv, name: b2, out_channels: WIDTH, kernel: 3, padding: 1}
        - {kind: relu}
"""
POOL_THEN_PROJECT = """      -
        - {kind: maxpool, kernel: 3, stride: 1, padding: 1}
        - {kind: conv, name: proj, out_channels: 8, kernel: 1}
"""


def inception(*branches: str, merge: str = "concat") -> str:
    """A stem, one inception-style block `inc` of the given branches, global pooling and a classifier."""
    return ("  - {kind: conv, name: stem, out_channels: 16, kernel: 3, padding: 1}\n  - {kind: relu}\n"
            "  - block: inc\n    branches:\n" + "".join(branches) + f"    merge: {merge}\n"
            "  - {kind: global_avgpool}\n  - {kind: flatten}\n  - {kind: linear, name: fc, out_features: 10}\n")


RESIDUAL = """      -
        - {kind: conv, name: conv1, out_channels: 32, kernel: 3, stride: 2, padding: 1, bias: false}
        - {kind: batchnorm, name: bn1}
        - {kind: relu, name: relu}
        - {kind: conv, name: conv2, out_channels: 32, kernel: 3, padding: 1, bias: false}
        - {kind: batchnorm, name: bn2}
"""
DOWNSAMPLE = """      -
        - block: downsample
          layers:
            - {kind: conv, name: "0", out_channels: 32, kernel: 1, stride: 2, bias: false}
            - {kind: batchnorm, name: "1"}
"""


def resnet(*branches: str) -> str:
    """A stem and one ResNet basic block `layer2.0` that halves the size, then the classifier."""
    return ("  - {kind: conv, name: conv1, out_channels: 16, kernel: 3, padding: 1, bias: false}\n"
            "  - {kind: batchnorm, name: bn1}\n  - {kind: relu, name: relu}\n"
            "  - block: layer2\n    layers:\n      - block: \"0\"\n        layers:\n"
            "          - branches:\n" + "".join(_indent(b, 6) for b in branches) + "            merge: add\n"
            "          - {kind: relu, name: relu2}\n"
            "  - {kind: global_avgpool}\n  - {kind: flatten}\n  - {kind: linear, name: fc, out_features: 10}\n")


def resnet_without_shortcut() -> str:
    """The same layers as `resnet(RESIDUAL, DOWNSAMPLE)` with no shortcut: the main path written as a line."""
    main = "".join(line[4:] + "\n" for line in RESIDUAL.splitlines()[1:])  # the list items at the block's depth
    return ("  - {kind: conv, name: conv1, out_channels: 16, kernel: 3, padding: 1, bias: false}\n"
            "  - {kind: batchnorm, name: bn1}\n  - {kind: relu, name: relu}\n"
            "  - block: layer2\n    layers:\n      - block: \"0\"\n        layers:\n" + _indent(main, 6)
            + "          - {kind: relu, name: relu2}\n"
            "  - {kind: global_avgpool}\n  - {kind: flatten}\n  - {kind: linear, name: fc, out_features: 10}\n")


def _indent(text: str, by: int) -> str:
    return "".join(" " * by + line + "\n" for line in text.splitlines())


def same_as(write_spec: Callable[..., Path], layers: str, reference: str) -> ClaimResult:
    ref = spec_text(reference, id="ref", input="[3, 16, 16]").replace(
        "framework: pytorch}", "framework: pytorch, variant: reference}")
    paths = [write_spec(spec_text(layers, claims=CLAIM, input="[3, 16, 16]")), write_spec(ref, "ref.yaml")]
    run = audit_paths(paths)
    assert not run.broken, run.broken
    return next(c for c in run.audits[0].claims if c.id == "same")


def test_branches_written_in_another_order_are_the_same_block(write_spec: Callable[..., Path]) -> None:
    reference = inception(ONE_BY_ONE, REDUCE_THEN_3X3.replace("WIDTH", "8"), POOL_THEN_PROJECT)
    mine = inception(POOL_THEN_PROJECT, REDUCE_THEN_3X3.replace("WIDTH", "8"), ONE_BY_ONE)
    r = same_as(write_spec, mine, reference)
    assert r.verdict == Verdict.HOLDS and r.detail == GRAPH_HEAD + "no difference"
    # a residual block with its shortcut written first is the same block too
    r = same_as(write_spec, resnet(DOWNSAMPLE, RESIDUAL), resnet(RESIDUAL, DOWNSAMPLE))
    assert r.verdict == Verdict.HOLDS and r.measured == []


def test_a_branch_of_another_width_is_named_with_both_widths(write_spec: Callable[..., Path]) -> None:
    reference = inception(ONE_BY_ONE, REDUCE_THEN_3X3.replace("WIDTH", "8"), POOL_THEN_PROJECT)
    # this spec's second branch has 12 kernels in its 3x3 conv, the reference's 8
    r = same_as(write_spec, inception(ONE_BY_ONE, REDUCE_THEN_3X3.replace("WIDTH", "12"), POOL_THEN_PROJECT), reference)
    assert r.verdict == Verdict.FAILS
    assert r.measured == ["inc branch 2: 3x3 conv with 12 kernels, the reference 8"]
    # written first, the same branch is branch 1 of this spec, and still paired with the reference's 3x3 branch
    r = same_as(write_spec, inception(REDUCE_THEN_3X3.replace("WIDTH", "12"), POOL_THEN_PROJECT, ONE_BY_ONE), reference)
    assert r.measured == ["inc branch 1: 3x3 conv with 12 kernels, the reference 8"]
    assert r.detail == GRAPH_HEAD + "inc branch 1: 3x3 conv with 12 kernels, the reference 8"


def test_a_missing_shortcut_is_named_once(write_spec: Callable[..., Path]) -> None:
    r = same_as(write_spec, resnet_without_shortcut(), resnet(RESIDUAL, DOWNSAMPLE))
    assert r.verdict == Verdict.FAILS
    assert r.measured == ["layer2.0: the reference adds a 1x1 conv shortcut; this spec has none"]
    # the other way round: the spec has the shortcut the reference lacks
    r = same_as(write_spec, resnet(RESIDUAL, DOWNSAMPLE), resnet_without_shortcut())
    assert r.measured == ["layer2.0: this spec adds a 1x1 conv shortcut; the reference has none"]


def test_an_add_where_the_reference_concatenates_names_the_merge(write_spec: Callable[..., Path]) -> None:
    # three branches of 8 channels each: added they give 8 channels, concatenated 24; the classifier reads either
    reference = inception(ONE_BY_ONE, REDUCE_THEN_3X3.replace("WIDTH", "8"), POOL_THEN_PROJECT)
    r = same_as(write_spec, inception(ONE_BY_ONE, REDUCE_THEN_3X3.replace("WIDTH", "8"), POOL_THEN_PROJECT,
                                      merge="add"), reference)
    assert r.verdict == Verdict.FAILS
    assert r.measured == ["inc: the branches are added where the reference's are concatenated"]


def test_what_follows_a_layer_is_compared_in_its_branch(write_spec: Callable[..., Path]) -> None:
    reference = inception(ONE_BY_ONE, REDUCE_THEN_3X3.replace("WIDTH", "8"), POOL_THEN_PROJECT)
    # tanh after the stem where the reference has relu; a batchnorm added after branch 1's conv `a`
    mine = reference.replace("padding: 1}\n  - {kind: relu}\n", "padding: 1}\n  - {kind: tanh}\n").replace(
        "name: a, out_channels: 8, kernel: 1}\n", "name: a, out_channels: 8, kernel: 1}\n        - {kind: batchnorm}\n")
    r = same_as(write_spec, mine, reference)
    assert r.measured == ["stem: after it, tanh where the reference has relu",
                          "inc branch 1: after inc.a, also batchnorm, unlike the reference"]


def test_a_missing_branch_is_named_not_shifted(write_spec: Callable[..., Path]) -> None:
    reference = inception(ONE_BY_ONE, REDUCE_THEN_3X3.replace("WIDTH", "8"), POOL_THEN_PROJECT)
    r = same_as(write_spec, inception(REDUCE_THEN_3X3.replace("WIDTH", "8"), POOL_THEN_PROJECT), reference)
    assert r.measured == ["inc: the reference has a branch (1x1 conv) that this spec lacks"]


def test_a_layer_this_spec_adds_is_named_without_shifting_the_rest(write_spec: Callable[..., Path]) -> None:
    reference = inception(ONE_BY_ONE, REDUCE_THEN_3X3.replace("WIDTH", "8"), POOL_THEN_PROJECT)
    # a 1x1 conv `tail` after the block: everything else pairs as before, so only `tail` is named
    mine = reference.replace("  - {kind: global_avgpool}", "  - {kind: conv, name: tail, out_channels: 8, kernel: 1}\n"
                                                           "  - {kind: global_avgpool}")
    r = same_as(write_spec, mine, reference)
    assert r.measured == ["the network: also a 1x1 conv (tail), which the reference lacks"]


def dense(second_width: int) -> str:
    """A stem and a dense block `d` of two units (4 and `second_width` kernels), then the classifier."""
    return ("  - {kind: conv, name: stem, out_channels: 8, kernel: 3, padding: 1}\n"
            "  - block: d\n    merge: dense\n    units:\n"
            "      - [{kind: batchnorm}, {kind: relu}, {kind: conv, name: c1, out_channels: 4, kernel: 3, padding: 1}]\n"
            f"      - [{{kind: batchnorm}}, {{kind: relu}}, {{kind: conv, name: c2, out_channels: {second_width}, "
            "kernel: 3, padding: 1}]\n"
            "  - {kind: global_avgpool}\n  - {kind: flatten}\n  - {kind: linear, name: fc, out_features: 10}\n")


def test_a_dense_unit_of_another_width_is_named_once(write_spec: Callable[..., Path]) -> None:
    assert same_as(write_spec, dense(4), dense(4)).verdict == Verdict.HOLDS
    # the block's output concatenates its input (branch 1), unit 1 (branch 2) and unit 2 (branch 3)
    r = same_as(write_spec, dense(6), dense(4))
    assert r.measured == ["d branch 3: 3x3 conv with 6 kernels, the reference 4"]


def test_a_deep_dense_block_is_compared_once_per_merge(write_spec: Callable[..., Path]) -> None:
    # 24 units: every later merge holds all the earlier ones, so walking each path afresh would
    # visit unit 1 about 2^24 times; the first unit's 3 kernels (the reference's 2) are named once
    def deep(first: int) -> str:
        units = "".join(f"      - [{{kind: relu}}, {{kind: conv, name: c{k}, out_channels: {first if k == 0 else 2}, "
                        "kernel: 1}]\n" for k in range(24))
        return ("  - {kind: conv, name: stem, out_channels: 4, kernel: 1}\n  - block: d\n    merge: dense\n    units:\n"
                + units + "  - {kind: global_avgpool}\n  - {kind: flatten}\n  - {kind: linear, name: fc, out_features: 10}\n")

    r = same_as(write_spec, deep(3), deep(2))
    assert r.measured == ["d branch 2: 1x1 conv with 3 kernels, the reference 2"]


SPECS = Path(__file__).resolve().parent.parent / "specs"


def shipped_against_itself(tmp_path: Path, name: str, change: Callable[[list[Any]], None]) -> ClaimResult:
    """A copy of a shipped spec, changed by `change`, claimed to be that spec."""
    doc = yaml.safe_load((SPECS / f"{name}.yaml").read_text(encoding="utf-8"))
    reference = copy.deepcopy(doc)
    doc["id"] = "copy"
    doc["claims"] = [{"id": "same", "kind": "same_as", "reference": name, "claimed": "it is that network", "where": "x"}]
    change(doc["layers"])
    (tmp_path / "copy.yaml").write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    (tmp_path / f"{name}.yaml").write_text(yaml.safe_dump(reference, sort_keys=False), encoding="utf-8")
    run = audit_paths([tmp_path / "copy.yaml", tmp_path / f"{name}.yaml"])
    assert not run.broken, run.broken
    return next(c for c in run.audits[0].claims if c.id == "same")


def _block(layers: list[Any], name: str) -> dict[str, Any]:
    return next(item for item in layers if isinstance(item, dict) and item.get("block") == name)


def test_googlenet_with_inception3a_reversed_and_one_width_changed(tmp_path: Path) -> None:
    def change(layers: list[Any]) -> None:
        block = _block(layers, "inception3a")
        block["branches"][1][0]["layers"][1]["layers"][0]["out_channels"] = 96  # branch2's 3x3 conv: 128 in torchvision
        block["branches"].reverse()  # branch2 is now the third of four

    r = shipped_against_itself(tmp_path, "torchvision-googlenet", change)
    assert r.verdict == Verdict.FAILS
    assert r.measured == ["inception3a branch 3: 3x3 conv with 96 kernels, the reference 128"]


def test_resnet18_without_a_shortcut_or_with_every_shortcut_written_first(tmp_path: Path) -> None:
    def main_path_only(stage: str) -> Callable[[list[Any]], None]:
        def change(layers: list[Any]) -> None:
            first = _block(layers, stage)["layers"][0]  # block "0": [the parallel group, relu2]
            first["layers"] = first["layers"][0]["branches"][0] + first["layers"][1:]
        return change

    r = shipped_against_itself(tmp_path, "torchvision-resnet18", main_path_only("layer2"))
    assert r.measured == ["layer2.0: the reference adds a 1x1 conv shortcut; this spec has none"]
    r = shipped_against_itself(tmp_path, "torchvision-resnet18", main_path_only("layer1"))
    assert r.measured == ["layer1.0: the reference adds an identity shortcut; this spec has none"]

    def shortcuts_first(layers: list[Any]) -> None:
        for stage in ("layer1", "layer2", "layer3", "layer4"):
            for block in _block(layers, stage)["layers"]:
                block["layers"][0]["branches"].reverse()

    r = shipped_against_itself(tmp_path, "torchvision-resnet18", shortcuts_first)
    assert r.verdict == Verdict.HOLDS and r.measured == []


def test_a_line_of_layers_is_compared_layer_by_layer_as_before(write_spec: Callable[..., Path]) -> None:
    # LeNet against a reference whose conv2 has 32 kernels instead of 16: one difference, in the line wording
    ref = spec_text(LENET.replace("out_channels: 16", "out_channels: 32"), id="ref").replace(
        "framework: pytorch}", "framework: pytorch, variant: reference}")
    run = audit_paths([write_spec(spec_text(LENET, claims=CLAIM)), write_spec(ref, "ref.yaml")])
    r = next(c for c in run.audits[0].claims if c.id == "same")
    assert r.verdict == Verdict.FAILS
    assert r.detail == ("compared with ref layer by layer (widths, windows, strides, normalisation and pooling; "
                        "the last layer's width follows the classes): conv2 (conv2) has kernels 16, the reference 32")
