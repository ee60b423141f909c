"""`same_as`'s half-width finding on graph networks as on line networks, and never for a network
whose only weighted layer is its classifier. Every expected text is written out by hand."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from alexnet_audit.audit import audit_paths
from alexnet_audit.verdicts import ClaimResult, Verdict
from helpers import spec_text

CLAIM = "  - {id: same, kind: same_as, reference: ref, claimed: this is the reference network, where: x}\n"
HALF = "every layer has half the reference's width (a half-width network)"


def inception(stem: int, a: int, b: int, first: str = "a") -> str:
    """A stem conv of `stem` kernels, then a block of two 1x1-conv branches (`a` and `b` kernels,
    branch `first` written first), concatenated, then global pooling and a 10-way classifier."""
    branch = {"a": f"      -\n        - {{kind: conv, name: a, out_channels: {a}, kernel: 1}}\n",
              "b": f"      -\n        - {{kind: conv, name: b, out_channels: {b}, kernel: 1}}\n"}
    order = "ab" if first == "a" else "ba"
    return (f"  - {{kind: conv, name: stem, out_channels: {stem}, kernel: 3, padding: 1}}\n  - {{kind: relu}}\n"
            "  - block: inc\n    branches:\n" + branch[order[0]] + branch[order[1]] + "    merge: concat\n"
            "  - {kind: global_avgpool}\n  - {kind: flatten}\n  - {kind: linear, name: fc, out_features: 10}\n")


def same_as(write_spec: Callable[..., Path], layers: str, reference: str) -> ClaimResult:
    ref = spec_text(reference, id="ref", input="[3, 16, 16]").replace(
        "framework: pytorch}", "framework: pytorch, variant: reference}")
    run = audit_paths([write_spec(spec_text(layers, claims=CLAIM, input="[3, 16, 16]")), write_spec(ref, "ref.yaml")])
    assert not run.broken, run.broken
    return next(c for c in run.audits[0].claims if c.id == "same")


def test_a_graph_with_every_width_halved_is_called_a_half_width_network(write_spec: Callable[..., Path]) -> None:
    # the reference: stem 16, branches 8 and 12; this spec: 8, 4 and 6, each exactly half
    r = same_as(write_spec, inception(8, 4, 6), inception(16, 8, 12))
    assert r.verdict == Verdict.FAILS
    # the finding sums up the layer-by-layer differences, which follow it
    assert r.measured == [HALF, "stem: 3x3 conv with 8 kernels, the reference 16",
                          "inc branch 1: 1x1 conv with 4 kernels, the reference 8",
                          "inc branch 2: 1x1 conv with 6 kernels, the reference 12"]
    # written in the other order, the branches are still each half of their counterparts
    assert same_as(write_spec, inception(8, 4, 6, first="b"), inception(16, 8, 12)).measured[0] == HALF


def test_a_graph_with_one_width_not_halved_is_not_a_half_width_network(write_spec: Callable[..., Path]) -> None:
    # branch b has 7 kernels where half the reference's would be 6
    r = same_as(write_spec, inception(8, 4, 7), inception(16, 8, 12))
    assert r.verdict == Verdict.FAILS
    assert r.measured == ["stem: 3x3 conv with 8 kernels, the reference 16",
                          "inc branch 1: 1x1 conv with 4 kernels, the reference 8",
                          "inc branch 2: 1x1 conv with 7 kernels, the reference 12"]  # no HALF first


def test_a_lone_classifier_is_never_half_of_another(write_spec: Callable[..., Path]) -> None:
    # only the classifier is weighted, and its width follows the classes: there is no width to halve,
    # and the same network is the reference network
    one_linear = "  - {kind: flatten}\n  - {kind: linear, name: fc, out_features: 10}\n"
    r = same_as(write_spec, one_linear, one_linear)
    assert r.verdict == Verdict.HOLDS
    assert r.measured == []


def test_a_pool_before_the_first_weighted_layer_is_compared(write_spec: Callable[..., Path]) -> None:
    # no weighted layer precedes the input's max pool, so no layer's followers hold it
    conv = "  - {kind: conv, name: conv1, out_channels: 4, kernel: 3}\n  - {kind: relu}\n"
    tail = "  - {kind: flatten}\n  - {kind: linear, name: fc, out_features: 10}\n"
    r = same_as(write_spec, "  - {kind: maxpool, kernel: 2}\n" + conv + tail, conv + tail)
    assert r.verdict == Verdict.FAILS
    assert r.measured == ["before the first conv/linear layer: also maxpool, unlike the reference"]


def test_widths_that_halve_only_once_sorted_are_not_a_half_width_network(write_spec: Callable[..., Path]) -> None:
    # sorted, this spec's widths 4, 6, 8 are half of the reference's 8, 12, 16; in place they are not:
    # the stem has 4 kernels against 16 (a quarter) and branch a 8 against 8
    r = same_as(write_spec, inception(4, 8, 6), inception(16, 8, 12))
    assert r.verdict == Verdict.FAILS
    assert HALF not in r.measured
    assert "stem: 3x3 conv with 4 kernels, the reference 16" in r.measured
