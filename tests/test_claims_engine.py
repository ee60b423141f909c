"""The verdict and diagnosis engine on tiny networks, every expected figure computed by hand."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import pytest

from alexnet_audit.arith import ArithError, evaluate, parse_figure, parse_formula
from alexnet_audit.audit import audit_paths
from alexnet_audit.claims import ClaimResult, Verdict
from alexnet_audit.diagnose import digit_slip
from helpers import LENET, spec_text

# LeNet on a 3x32x32 input, by hand:
#   conv1: 6 @ 5x5x3 -> 28x28x6, params 5*5*3*6 + 6 = 456, MACs 28*28*6 * 5*5*3 = 352,800
#   conv2: 16 @ 5x5x6 on 14x14 -> 10x10x16, params 5*5*6*16 + 16 = 2,416, MACs 10*10*16 * 150 = 240,000
#   fc1 400 -> 120: 48,120 params; fc2 120 -> 84: 10,164; fc3 84 -> 10: 850
CONV1_PARAMS, CONV2_PARAMS = 456, 2_416
TOTAL_PARAMS = 456 + 2_416 + 48_120 + 10_164 + 850
TOTAL_MACS = 352_800 + 240_000 + 400 * 120 + 120 * 84 + 84 * 10


def judge(write_spec: Callable[..., Path], claims: str, layers: str = LENET, input: str = "[3, 32, 32]", **files: str) -> dict[str, ClaimResult]:
    paths = [write_spec(spec_text(layers, claims=claims, input=input))]
    for name, text in files.items():
        paths.append(write_spec(text, f"{name}.yaml"))
    run = audit_paths(paths)
    assert not run.broken, run.broken
    return {c.id: c for c in run.audits[0].claims}


def test_exact_figures_hold(write_spec: Callable[..., Path]) -> None:
    results = judge(write_spec, f"""  - {{id: p, kind: params, claimed: {TOTAL_PARAMS}, where: x}}
  - {{id: m, kind: macs, claimed: "{TOTAL_MACS:,}", where: x}}
  - {{id: f, kind: flops, claimed: {2 * TOTAL_MACS}, where: x}}
  - {{id: s, kind: output_shape, target: conv2, claimed: 10x10x16, where: x}}
  - {{id: formula, kind: params, target: conv1, claimed: "(5*5*3*6)+6=456", where: x}}
""")
    assert {k: r.verdict for k, r in results.items()} == dict.fromkeys(results, Verdict.HOLDS)
    assert results["p"].measured == 62_006


def test_dropped_digit_in_a_formula_result(write_spec: Callable[..., Path]) -> None:
    # the source's formula is right, its written result drops the final 6: 2416 -> 241
    r = judge(write_spec, "  - {id: c, kind: params, target: conv2, claimed: '(5*5*6*16)+16=241', where: x}\n")["c"]
    assert r.verdict == Verdict.FAILS and r.measured == CONV2_PARAMS
    assert r.diagnoses[0].code == "arithmetic_slip"
    assert "evaluates to 2,416" in r.diagnoses[0].message and "a digit dropped" in r.diagnoses[0].message


def test_bias_left_out(write_spec: Callable[..., Path]) -> None:
    r = judge(write_spec, f"  - {{id: c, kind: params, target: fc1, claimed: {400 * 120}, where: x}}\n")["c"]
    assert r.verdict == Verdict.FAILS and r.measured == 400 * 120 + 120
    assert r.diagnoses[0].code == "bias_left_out"
    # the same figure with the bias excluded by the claim's own wording holds
    r = judge(write_spec, f"  - {{id: c, kind: params, target: fc1, claimed: {400 * 120}, bias: excluded, where: x}}\n")["c"]
    assert r.verdict == Verdict.HOLDS


def test_macs_quoted_as_flops_and_the_reverse(write_spec: Callable[..., Path]) -> None:
    results = judge(write_spec, f"""  - {{id: f, kind: flops, claimed: {TOTAL_MACS}, where: x}}
  - {{id: m, kind: macs, claimed: {2 * TOTAL_MACS}, where: x}}
  - {{id: c, kind: compute, claimed: {TOTAL_MACS}, where: x}}
""")
    assert results["f"].verdict == Verdict.FAILS and results["f"].diagnoses[0].code == "macs_as_flops"
    assert results["m"].verdict == Verdict.FAILS and results["m"].diagnoses[0].code == "flops_as_macs"
    assert results["c"].verdict == Verdict.AMBIGUOUS
    assert f"read as MACs ({TOTAL_MACS:,}) it holds" in results["c"].detail and TOTAL_MACS == 651_720


def test_torchinfo_convention_named(write_spec: Callable[..., Path]) -> None:
    # torchinfo adds one add per bias output: 28*28*6 + 10*10*16 + 120 + 84 + 10
    torchinfo = TOTAL_MACS + 28 * 28 * 6 + 10 * 10 * 16 + 120 + 84 + 10
    r = judge(write_spec, f"  - {{id: m, kind: macs, claimed: {torchinfo}, where: x}}\n")["m"]
    assert r.verdict == Verdict.FAILS
    assert r.diagnoses[0].code == "peer_convention" and "torchinfo" in r.diagnoses[0].message


def test_approximate_figure_uses_written_precision(write_spec: Callable[..., Path]) -> None:
    results = judge(write_spec, """  - {id: near, kind: params, claimed: "60K", approx: true, where: x}
  - {id: far, kind: params, claimed: "70K", approx: true, where: x}
  - {id: tol, kind: params, claimed: "70K", tolerance: 0.15, where: x}
""")
    # "60K" is 6 x 10^4 written to one significant digit: +/- 5,000 admits 62,006
    assert results["near"].verdict == Verdict.HOLDS
    assert results["far"].verdict == Verdict.FAILS
    assert results["tol"].verdict == Verdict.HOLDS  # |70,000 - 62,006| = 7,994 <= 10,500


def test_shape_digit_slip_and_carried_forward_error(write_spec: Callable[..., Path]) -> None:
    results = judge(write_spec, """  - {id: a, kind: output_shape, target: conv1, claimed: 29x29x6, where: x}
  - {id: b, kind: output_shape, target: pool1, claimed: 14x14x6, where: x}
  - {id: c, kind: output_shape, target: conv2, claimed: 10x10x61, where: x}
""")
    assert results["a"].verdict == Verdict.FAILS and results["a"].diagnoses[0].code == "digit_slip"  # 28x28 as 29x29
    assert results["b"].verdict == Verdict.HOLDS  # floor(29 / 2) = floor(28 / 2) = 14: no carry here
    assert results["c"].diagnoses[0].code == "digit_slip" and "16 written as 61" in results["c"].diagnoses[0].message


def test_error_carried_forward(write_spec: Callable[..., Path]) -> None:
    # conv1 claimed 30x30 (true 28); pool1 from 30 gives 15, which the source then writes
    results = judge(write_spec, """  - {id: a, kind: output_shape, target: conv1, claimed: 30x30x6, where: x}
  - {id: b, kind: output_shape, target: pool1, claimed: 15x15x6, where: x}
""")
    assert results["b"].verdict == Verdict.FAILS
    # Also a computed reading: one pixel of padding per side on the 2x2 pool gives (28 - 2 + 2) / 2 + 1 = 15.
    assert [d.code for d in results["b"].diagnoses] == ["carried_forward", "padding_needed", "digit_slip"]
    assert "(28 - 2 + 2) / 2 + 1 = 15" in results["b"].diagnoses[1].message


def test_input_size_and_padding_readings(write_spec: Callable[..., Path]) -> None:
    layers = """  - {kind: conv, name: conv1, out_channels: 96, kernel: 11, stride: 4}
  - {kind: flatten}
  - {kind: linear, out_features: 10}
"""
    results = judge(write_spec, """  - {id: at227, kind: output_shape, target: conv1, claimed: 55x55x96, where: x}
  - {id: same, kind: output_shape, target: conv1, claimed: 56x56x96, where: x}
""", layers=layers, input="[3, 224, 224]")
    # (224 - 11) // 4 + 1 = 54; (227 - 11) // 4 + 1 = 55; SAME: ceil(224 / 4) = 56
    assert results["at227"].measured == "54x54x96"
    assert [d.code for d in results["at227"].diagnoses] == ["input_size", "digit_slip"]  # 54 -> 55 is one digit too
    assert [d.code for d in results["same"].diagnoses] == ["padding", "digit_slip"]


def test_half_channels_and_groups(write_spec: Callable[..., Path]) -> None:
    layers = """  - {kind: conv, name: conv1, out_channels: 8, kernel: 3}
  - {kind: conv, name: conv2, out_channels: 16, kernel: 3, groups: 2}
  - {kind: flatten}
  - {kind: linear, out_features: 10}
"""
    # conv2 grouped: 16 * (8/2) * 9 + 16 = 592; ungrouped: 16 * 8 * 9 + 16 = 1,168
    results = judge(write_spec, """  - {id: half, kind: params, target: conv2, claimed: 296, where: x}
  - {id: ungrouped, kind: params, target: conv2, claimed: 1168, where: x}
""", layers=layers, input="[3, 8, 8]")
    assert results["half"].diagnoses[0].code == "half_channels"
    assert results["ungrouped"].diagnoses[0].code == "groups_ignored"


def test_code_vs_prose_counterpart(write_spec: Callable[..., Path]) -> None:
    prose_layers = LENET.replace("out_channels: 16", "out_channels: 32")
    prose = spec_text(prose_layers, id="prose").replace("framework: pytorch}", "framework: pytorch, variant: prose}")
    code = spec_text(LENET, claims="  - {id: s, kind: output_shape, target: conv2, claimed: 10x10x32, where: x}\n")
    code = code.replace("framework: pytorch}", "framework: pytorch, counterpart: prose}")
    paths = [write_spec(code, "code.yaml"), write_spec(prose, "prose.yaml")]
    r = audit_paths(paths).audits[0].claims[0]
    assert r.verdict == Verdict.FAILS
    assert r.diagnoses[-1].code == "code_vs_prose" and "prose" in r.diagnoses[-1].message


def test_structure_claims_read_the_built_model(write_spec: Callable[..., Path]) -> None:
    results = judge(write_spec, """  - {id: pools, kind: structure, claimed: "2x2 pools, stride 2", check: {all_of: maxpool, kernel: 2, stride: 2}, where: x}
  - {id: overlap, kind: structure, claimed: "pools overlap", check: {overlapping: maxpool}, where: x}
  - {id: relu, kind: structure, claimed: "relu after both convs", check: {activation_after: [conv1, conv2]}, where: x}
  - {id: pool-after, kind: structure, claimed: "max pool after both convs only", check: {followed_by: maxpool, layers: [conv1, conv2], exactly: true}, where: x}
  - {id: lrn, kind: structure, claimed: "uses LRN", check: {contains: lrn}, where: x}
  - {id: c1, kind: structure, claimed: "conv1 is 5x5, 6 filters", check: {layer: conv1, kernel: 5, out_channels: 6, padding: 0}, where: x}
  - {id: c1-half, kind: structure, claimed: "conv1 has 3 filters", check: {layer: conv1, out_channels: 3}, where: x}
  - {id: count, kind: layer_count, of: conv, followed_by: maxpool, claimed: 2, where: x}
  - {id: fc, kind: layer_count, of: linear, claimed: 2, where: x}
""")
    verdicts = {k: r.verdict.value for k, r in results.items()}
    assert verdicts == {"pools": "holds", "overlap": "fails", "relu": "holds", "pool-after": "holds", "lrn": "fails",
                        "c1": "holds", "c1-half": "fails", "count": "holds", "fc": "fails"}
    assert results["c1-half"].diagnoses[0].code == "half_channels"
    assert results["fc"].measured == 3


def test_arithmetic_against_its_result_and_the_measurement(write_spec: Callable[..., Path]) -> None:
    results = judge(write_spec, """  - {id: ok, kind: arithmetic, claimed: "(32-5)/1+1=28", measured: {target: conv1, quantity: width}, where: x}
  - {id: self, kind: arithmetic, claimed: "(256-224)^2*2=2048", where: x}
  - {id: wrong, kind: arithmetic, claimed: "(32-5+2)/1+1=28", measured: {target: conv1, quantity: width}, where: x}
  - {id: other, kind: arithmetic, claimed: "(32-5+2)/1+1=30", measured: {target: conv1, quantity: width}, where: x}
""")
    assert results["ok"].verdict == Verdict.HOLDS and results["self"].verdict == Verdict.HOLDS
    assert results["wrong"].verdict == Verdict.FAILS  # the left side is 30, not 28
    assert results["wrong"].diagnoses[0].code == "arithmetic_slip"
    assert results["other"].verdict == Verdict.FAILS and results["other"].measured == 28  # self-consistent, but not this net


def test_unverifiable_says_what_it_needs(write_spec: Callable[..., Path]) -> None:
    r = judge(write_spec, "  - {id: u, kind: unverifiable, claimed: '16.4%', needs: 'the ILSVRC-2012 test set', where: x}\n")["u"]
    assert r.verdict == Verdict.UNVERIFIABLE and "ILSVRC-2012" in r.detail


@pytest.mark.parametrize("true, written, kind", [
    (885_120, 88_512, "dropped"), (384, 284, "one digit wrong"), (1_234, 1_243, "swapped"), (1_234, 12_334, "added"),
])
def test_digit_slips(true: int, written: int, kind: str) -> None:
    assert kind in (digit_slip(written, true) or "")


def test_digit_slip_needs_a_single_slip() -> None:
    assert digit_slip(1_000, 2_345) is None


def test_arithmetic_parser() -> None:
    assert evaluate("(224-11+3)/4+1") == 55
    assert evaluate("(256-224)^2*2") == 2_048 == evaluate("(256-224)**2*2")
    assert evaluate("3×3×256×384+384") == 885_120
    assert parse_formula("(5*5*96*256)+256=614656").lhs == 5 * 5 * 96 * 256 + 256
    assert parse_figure("60 million").value == 60_000_000 and parse_figure("60 million").half_unit == 5_000_000
    assert parse_figure("0.71 G").half_unit == 5_000_000
    for bad in ("__import__('os')", "2^1000000", "1/0", "(1", "1 +", "9" * 500):
        with pytest.raises(ArithError):
            evaluate(bad)


def test_connections_by_the_bias_included_convention(write_spec: Callable[..., Path]) -> None:
    # conv1: 28*28*6 units, each 5*5*3 = 75 weights and one bias: 28*28*6*(75+1) = 357,504 by
    # LeCun et al.'s convention; 28*28*6*75 = 352,800 weight-input pairs (the default count)
    results = judge(write_spec, f"""  - {{id: lecun, kind: connections, target: conv1, claimed: {28 * 28 * 6 * 76}, bias: included, where: x}}
  - {{id: pairs, kind: connections, target: conv1, claimed: {28 * 28 * 6 * 75}, where: x}}
  - {{id: pairs-as-lecun, kind: connections, target: conv1, claimed: {28 * 28 * 6 * 75}, bias: included, where: x}}
  - {{id: lecun-as-pairs, kind: connections, target: conv1, claimed: {28 * 28 * 6 * 76}, where: x}}
""")
    assert (results["lecun"].verdict, results["lecun"].measured) == (Verdict.HOLDS, 357_504)
    assert "default count (weight-input pairs, no bias) is 352,800" in results["lecun"].detail
    assert (results["pairs"].verdict, results["pairs"].measured) == (Verdict.HOLDS, 352_800)
    # each convention's figure claimed under the other fails, and the diagnosis names the other convention
    wrong = results["pairs-as-lecun"]
    assert (wrong.verdict, wrong.measured, wrong.diagnoses[0].code) == (Verdict.FAILS, 357_504, "bias_left_out")
    assert "gives 352,800" in wrong.diagnoses[0].message
    wrong = results["lecun-as-pairs"]
    assert (wrong.verdict, wrong.measured, wrong.diagnoses[0].code) == (Verdict.FAILS, 352_800, "bias_connections")
    assert "gives 357,504" in wrong.diagnoses[0].message


def test_a_neurons_claim_has_no_bias_convention(write_spec: Callable[..., Path]) -> None:
    path = write_spec(spec_text(LENET, claims="  - {id: n, kind: neurons, claimed: 10, bias: included, where: x}\n"))
    run = audit_paths([path])
    assert run.broken and "only a connections claim counts biases" in str(run.broken[0])


def test_a_size_that_is_the_input_flattened(write_spec: Callable[..., Path]) -> None:
    # 3x32x32 input: 32*32*3 = 3,072 values; LeNet's flatten gives 5*5*16 = 400 and fc1 120 neurons
    results = judge(write_spec, f"""  - {{id: flat, kind: output_shape, target: pool2, claimed: [{32 * 32 * 3}], layout: c, where: x}}
  - {{id: vec, kind: output_shape, target: fc1, claimed: "{32 * 32 * 3}", where: x}}
  - {{id: n, kind: neurons, target: fc1, claimed: {32 * 32 * 3}, where: x}}
  - {{id: other, kind: neurons, target: fc1, claimed: {32 * 32 * 3 + 1}, where: x}}
""")
    for cid in ("flat", "vec", "n"):
        r = results[cid]
        assert r.verdict == Verdict.FAILS and r.diagnoses[0].code == "input_flattened", cid
        assert "the network's input flattened (32x32x3 = 3,072)" in r.diagnoses[0].message, cid
    assert "input_flattened" not in [d.code for d in results["other"].diagnoses]


BRANCHES = """  - {kind: conv, name: a, out_channels: 8, kernel: 3, padding: 1}
  - branches:
      - [{kind: conv, name: left, out_channels: 4, kernel: 3}]
      - [{kind: conv, name: right, out_channels: 4, kernel: 3}]
    merge: concat
  - {kind: flatten}
  - {kind: linear, name: fc, out_features: 10}
"""


def test_an_error_is_carried_forward_along_the_data_path_only(write_spec: Callable[..., Path]) -> None:
    # a keeps 16x16 (3x3, padding 1); left and right are parallel 3x3 convs: 16 - 3 + 1 = 14 each.
    # left claimed 15x15x4 would give 15 - 3 + 1 = 13 after another 3x3 conv, but right never sees
    # left's output: 13x13x4 claimed for right is no error carried forward.
    results = judge(write_spec, """  - {id: left, kind: output_shape, target: left, claimed: 15x15x4, where: x}
  - {id: right, kind: output_shape, target: right, claimed: 13x13x4, where: x}
""", layers=BRANCHES, input="[3, 16, 16]")
    assert results["left"].verdict == results["right"].verdict == Verdict.FAILS
    assert (results["left"].measured, results["right"].measured) == ("14x14x4", "14x14x4")
    assert "carried_forward" not in [d.code for d in results["right"].diagnoses]


def test_another_layers_shape_is_placed_along_the_data_path(write_spec: Callable[..., Path]) -> None:
    # a: 8x16x16; left (3x3, 4 maps) 14x14x4 and right (3x3, 6 maps) 14x14x6 in parallel.
    # "16x16x8" claimed for left is a's output, 1 layer before left on the data path (a feeds left);
    # "14x14x6" claimed for left is right's output, which stands on another branch, not after left
    layers = BRANCHES.replace("name: right, out_channels: 4", "name: right, out_channels: 6")
    results = judge(write_spec, """  - {id: a-for-left, kind: output_shape, target: left, claimed: 16x16x8, where: x}
  - {id: right-for-left, kind: output_shape, target: left, claimed: 14x14x6, where: x}
""", layers=layers, input="[3, 16, 16]")
    assert results["a-for-left"].diagnoses[0].message == "the shape belongs to another layer: a's output (1 layer before)"
    other = next(d for d in results["right-for-left"].diagnoses if d.code == "other_layer")
    assert other.message == "the shape belongs to another layer: right's output (on another branch)"
