"""Layer kinds: each kind's shape, parameters and MACs by hand and against peer tools."""

from __future__ import annotations

import subprocess
import sys


def test_spec_layers_and_init_import_without_torch() -> None:
    probe = (
        "import sys, alexnet_audit.spec, alexnet_audit.layers, alexnet_audit.init\n"
        "print(sorted(m for m in ('torch', 'fvcore', 'pandas', 'matplotlib') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# ---------------------------------------------------------------- helpers

import warnings

import pytest
import torch
import torch.nn.functional as F
from fvcore.nn import FlopCountAnalysis
from torch import nn
from torchinfo import summary

from alexnet_audit.analysis import Analysis, LayerResult, analyse
from alexnet_audit.build import build_model
from alexnet_audit.claims import judge_all
from alexnet_audit.errors import AuditError
from alexnet_audit.spec import spec_from_text

from helpers import spec_text

# LeCun et al. (1998), Table I: the input maps of S2 each C3 map sees.
C3_TABLE = (
    (0, 1, 2), (1, 2, 3), (2, 3, 4), (3, 4, 5), (4, 5, 0), (5, 0, 1),
    (0, 1, 2, 3), (1, 2, 3, 4), (2, 3, 4, 5), (3, 4, 5, 0), (4, 5, 0, 1), (5, 0, 1, 2),
    (0, 1, 3, 4), (1, 2, 4, 5), (0, 2, 3, 5),
    (0, 1, 2, 3, 4, 5),
)


def audit(input: str, layers: str, classes: int = 10) -> Analysis:
    a = analyse(spec_from_text(spec_text(layers, input=input, classes=classes)))
    assert a.disagreements == ()  # fvcore, the closed form, FlopCounterMode and a forward pass agree
    return a


def peer(module: nn.Module, input_shape: tuple[int, ...]) -> tuple[int, int, tuple[int, ...]]:
    """fvcore's MACs, torchinfo's parameter count and the output shape of a module written directly."""
    module = module.eval()
    x = torch.zeros(1, *input_shape)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fv = FlopCountAnalysis(module, x)
        fv.unsupported_ops_warnings(False)
        fv.uncalled_modules_warnings(False)
        macs = int(fv.total())
    params = int(summary(module, input_size=(1, *input_shape), verbose=0, device="cpu").total_params)
    with torch.no_grad():
        shape = tuple(module(x).shape[1:])
    return macs, params, shape


def agrees_with_peer(row: LayerResult, module: nn.Module) -> None:
    macs, params, shape = peer(module, row.input_shape)
    assert (row.output_shape, row.params + row.non_trainable_params, row.macs) == (shape, params, macs)


# ---------------------------------------------------------------- dilation and per-side padding


def test_dilated_conv() -> None:
    a = audit("[3, 32, 32]", "  - {kind: conv, name: x, out_channels: 8, kernel: 3, dilation: 2}\n"
                             "  - {kind: conv, name: y, out_channels: 8, kernel: 3}\n"
                             "  - {kind: global_avgpool}\n  - {kind: linear, out_features: 10}\n")
    x = a.layer("x")
    # a 3x3 kernel dilated by 2 spans 2*(3-1)+1 = 5 cells: 32 - 5 + 1 = 28
    assert x.output_shape == (8, 28, 28)
    assert x.params == 8 * 3 * 3 * 3 + 8 == 224
    assert x.macs == 28 * 28 * 8 * (3 * 3 * 3) == 169_344
    assert (x.receptive_field, a.layer("y").receptive_field) == (5, 5 + 2)
    agrees_with_peer(x, nn.Conv2d(3, 8, 3, dilation=2))


def test_dilated_conv_with_tensorflow_same() -> None:
    a = audit("[3, 15, 15]", "  - {kind: conv, name: x, out_channels: 8, kernel: 3, stride: 2, dilation: 2, padding: same}\n"
                             "  - {kind: flatten}\n  - {kind: linear, out_features: 10}\n")
    x = a.layer("x")
    # SAME: out = ceil(15/2) = 8; total pad = (8-1)*2 + 5 - 15 = 4, split 2 and 2
    assert x.output_shape == (8, 8, 8)
    assert x.macs == 8 * 8 * 8 * 27 == 13_824
    agrees_with_peer(x, nn.Conv2d(3, 8, 3, stride=2, padding=2, dilation=2))


def test_dilated_maxpool() -> None:
    a = audit("[4, 16, 16]", "  - {kind: maxpool, name: x, kernel: 3, stride: 1, dilation: 2}\n"
                             "  - {kind: flatten}\n  - {kind: linear, out_features: 10}\n")
    x = a.layer("x")
    assert x.output_shape == (4, 12, 12)  # window spans 5: 16 - 5 + 1
    assert x.receptive_field == 5
    agrees_with_peer(x, nn.MaxPool2d(3, 1, dilation=2))


def test_avgpool_has_no_dilation() -> None:
    with pytest.raises(AuditError, match="dilation: unknown field"):
        spec_from_text(spec_text("  - {kind: avgpool, kernel: 2, dilation: 2}\n  - {kind: flatten}\n"
                                 "  - {kind: linear, out_features: 10}\n"))


def test_conv_padding_per_side() -> None:
    a = audit("[3, 8, 8]", "  - {kind: conv, name: x, out_channels: 4, kernel: 3, padding: [0, 1, 2, 0]}\n"
                           "  - {kind: flatten}\n  - {kind: linear, out_features: 10}\n")
    x = a.layer("x")
    # [top, bottom, left, right] = [0, 1, 2, 0]: height 8 + 0 + 1 - 3 + 1 = 7, width 8 + 2 + 0 - 3 + 1 = 8
    assert x.output_shape == (4, 7, 8)
    assert x.params == 4 * 27 + 4 == 112
    assert x.macs == 7 * 8 * 4 * 27 == 6_048
    agrees_with_peer(x, nn.Sequential(nn.ZeroPad2d((2, 0, 0, 1)), nn.Conv2d(3, 4, 3)))  # F.pad order: l, r, t, b


def test_maxpool_padding_per_side_pads_with_minus_infinity() -> None:
    spec = spec_from_text(spec_text("  - {kind: maxpool, name: x, kernel: 2, padding: [1, 0, 1, 0]}\n"
                                    "  - {kind: flatten}\n  - {kind: linear, out_features: 10}\n", input="[2, 5, 5]"))
    a = analyse(spec)
    assert a.layer("x").output_shape == (2, 3, 3)  # (5 + 1) / 2 on each axis
    x = -torch.rand(1, 2, 5, 5) - 1  # all negative: a zero pad would win every corner window
    reference = nn.Sequential(nn.ConstantPad2d((1, 0, 1, 0), float("-inf")), nn.MaxPool2d(2))
    assert torch.equal(build_model(spec).layer("x")(x), reference(x))


def test_zeropad_as_keras_writes_it() -> None:
    # Keras ZeroPadding2D(((0, 1), (0, 1))): one row at the bottom, one column at the right
    a = audit("[3, 7, 7]", "  - {kind: zeropad, name: x, padding: [0, 1, 0, 1]}\n"
                           "  - {kind: maxpool, name: p, kernel: 2}\n  - {kind: flatten}\n  - {kind: linear, out_features: 10}\n")
    assert a.layer("x").output_shape == (3, 8, 8)
    assert a.layer("p").output_shape == (3, 4, 4)
    assert (a.layer("x").params, a.layer("x").macs, a.layer("x").receptive_field) == (0, 0, 1)
    agrees_with_peer(a.layer("x"), nn.ZeroPad2d((0, 1, 0, 1)))
    assert a.modules[0].category == "zeropad"


@pytest.mark.parametrize("padding, shape", [("2", (1, 9, 9)), ("[1, 3]", (1, 7, 11)), ("[3, 0, 0, 2]", (1, 8, 7))])
def test_zeropad_forms(padding: str, shape: tuple[int, int, int]) -> None:
    a = audit("[1, 5, 5]", f"  - {{kind: zeropad, name: x, padding: {padding}}}\n  - {{kind: flatten}}\n"
                           "  - {kind: linear, out_features: 10}\n")
    assert a.layer("x").output_shape == shape


# ---------------------------------------------------------------- activations


@pytest.mark.parametrize("kind, reference", [
    ("{kind: leaky_relu, slope: 0.2}", nn.LeakyReLU(0.2)),
    ("{kind: relu6}", nn.ReLU6()),
    ("{kind: hardswish}", nn.Hardswish()),
    ("{kind: elu, alpha: 0.5}", nn.ELU(0.5)),
    ("{kind: gelu, approximate: tanh}", nn.GELU(approximate="tanh")),
    ("{kind: tanh, amplitude: 1.7159, input_scale: 0.6666667}", None),
])
def test_activation(kind: str, reference: nn.Module | None) -> None:
    spec = spec_from_text(spec_text(f"  - {{kind: flatten}}\n  - {{kind: linear, name: fc, out_features: 10}}\n  - {kind[:-1]}, name: x}}\n",
                                    input="[1, 2, 2]"))
    a = analyse(spec)
    x = a.layer("x")
    assert (x.output_shape, x.params, x.macs) == ((10,), 0, 0)
    assert a.totals.macs_complete  # excluded by definition, never "incomplete"
    v = torch.linspace(-8, 8, 40).reshape(4, 10)
    out = build_model(spec).layer("x")(v)
    expected = reference(v) if reference is not None else 1.7159 * torch.tanh(0.6666667 * v)
    assert torch.allclose(out, expected)
    name = kind.split(",")[0].split(": ")[1].rstrip("}")
    assert a.modules[2].category == name


def test_new_activations_count_as_activations_in_structure_checks() -> None:
    claims = ('  - {id: act, kind: structure, claimed: "every conv is followed by an activation", '
              "check: {activation_after: [c1, c2], present: true}, where: t}\n")
    layers = ("  - {kind: conv, name: c1, out_channels: 4, kernel: 3}\n  - {kind: leaky_relu}\n"
              "  - {kind: conv, name: c2, out_channels: 4, kernel: 3}\n  - {kind: relu6}\n"
              "  - {kind: flatten}\n  - {kind: linear, out_features: 10}\n")
    a = analyse(spec_from_text(spec_text(layers, claims=claims, input="[1, 8, 8]")))
    assert [c.verdict.value for c in judge_all(a, None, None)] == ["holds"]


# ---------------------------------------------------------------- global pooling, BatchNorm on vectors, separable convs


def test_global_avgpool_gives_a_vector() -> None:
    a = audit("[8, 7, 7]", "  - {kind: global_avgpool, name: x}\n  - {kind: linear, name: fc, out_features: 10}\n")
    x = a.layer("x")
    assert x.output_shape == (8,)
    assert x.macs == 8 * 7 * 7 == 392  # one add per input element, as fvcore counts adaptive pooling
    assert a.layer("fc").params == 8 * 10 + 10
    assert (x.receptive_field, x.effective_stride) == (7, 7)
    agrees_with_peer(x, nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten()))
    assert a.modules[0].category == "global_avgpool"


def test_global_maxpool_gives_the_maximum_of_each_map() -> None:
    spec = spec_from_text(spec_text("  - {kind: global_maxpool, name: x}\n  - {kind: linear, out_features: 10}\n",
                                    input="[8, 5, 6]"))
    a = analyse(spec)
    assert (a.layer("x").output_shape, a.layer("x").macs) == ((8,), 0)
    v = torch.randn(2, 8, 5, 6)
    assert torch.equal(build_model(spec).layer("x")(v), v.amax(dim=(2, 3)))
    assert a.modules[0].category == "global_maxpool"


def test_batchnorm_after_a_linear_layer() -> None:
    a = audit("[1, 4, 4]", "  - {kind: flatten}\n  - {kind: linear, out_features: 16}\n  - {kind: batchnorm, name: x}\n"
                           "  - {kind: relu}\n  - {kind: linear, out_features: 10}\n")
    x = a.layer("x")
    # gamma and beta per feature (trainable), running mean and variance per feature (not)
    assert (x.output_shape, x.params, x.non_trainable_params) == ((16,), 2 * 16, 2 * 16)
    assert x.macs == 2 * 16  # eval mode: a scale and a shift per element
    macs, params, shape = peer(nn.BatchNorm1d(16), (16,))
    assert (macs, params, shape) == (32, 32, (16,))  # torchinfo counts only gamma and beta as parameters


def test_depthwise_separable_conv_is_groups_then_pointwise() -> None:
    a = audit("[32, 14, 14]", "  - {kind: conv, name: dw, out_channels: 32, kernel: 3, padding: 1, groups: 32}\n"
                              "  - {kind: conv, name: pw, out_channels: 64, kernel: 1}\n"
                              "  - {kind: global_avgpool}\n  - {kind: linear, out_features: 10}\n")
    dw, pw = a.layer("dw"), a.layer("pw")
    assert (dw.params, dw.macs) == (32 * 1 * 3 * 3 + 32, 14 * 14 * 32 * 9) == (320, 56_448)
    assert (pw.params, pw.macs) == (64 * 32 + 64, 14 * 14 * 64 * 32) == (2_112, 401_408)
    # against one full 3x3 conv from 32 to 64 maps: 64*32*9 + 64 = 18,496 parameters
    assert dw.params + pw.params == 2_432 < 18_496
    agrees_with_peer(dw, nn.Conv2d(32, 32, 3, padding=1, groups=32))
    agrees_with_peer(pw, nn.Conv2d(32, 64, 1))


# ---------------------------------------------------------------- LeNet-5 (1998): C3's table, subsampling, RBF


def _c3_spec(extra: str = "") -> str:
    table = "[" + ", ".join("[" + ", ".join(map(str, row)) + "]" for row in C3_TABLE) + "]"
    return spec_text(f"  - {{kind: conv, name: c3, out_channels: 16, kernel: 5, connections: {table}{extra}}}\n"
                     "  - {kind: flatten}\n  - {kind: linear, out_features: 10}\n", input="[6, 14, 14]")


def test_c3_connection_table_counts_as_the_paper_does() -> None:
    spec = spec_from_text(_c3_spec())
    a = analyse(spec)
    assert a.disagreements == ()
    c3 = a.layer("c3")
    inputs = 6 * 3 + 6 * 4 + 3 * 4 + 1 * 6
    assert inputs == 60
    assert c3.output_shape == (16, 10, 10)
    assert c3.params == inputs * 5 * 5 + 16 == 1_516  # the paper: "C3 has 1,516 trainable parameters"
    assert c3.macs == 10 * 10 * inputs * 25 == 150_000
    # the paper's 151,600 connections also count each of the 16 x 10 x 10 bias terms as one
    assert c3.macs + 16 * 10 * 10 == 151_600
    info = a.modules[0]
    assert (info.category, info.kernel, info.out_channels, info.groups) == ("conv", 5, 16, 1)


def test_c3_computes_what_sixteen_separate_convs_compute() -> None:
    """The reference: one nn.Conv2d per output map over exactly the maps its table row names."""
    ours = build_model(spec_from_text(_c3_spec())).layer("c3")
    reference = nn.ModuleList(nn.Conv2d(len(row), 1, 5) for row in C3_TABLE)
    with torch.no_grad():  # copy our weights into the reference, map by map
        for ref, conv in zip(reference, ours.maps):
            ref.weight.copy_(conv.weight)
            ref.bias.copy_(conv.bias)
    x = torch.randn(2, 6, 14, 14)
    expected = torch.cat([conv(x[:, list(row)]) for conv, row in zip(reference, C3_TABLE)], dim=1)
    assert torch.allclose(ours(x), expected, atol=1e-5)
    macs = sum(peer(conv, (len(row), 14, 14))[0] for conv, row in zip(reference, C3_TABLE))
    params = sum(peer(conv, (len(row), 14, 14))[1] for conv, row in zip(reference, C3_TABLE))
    assert (macs, params) == (150_000, 1_516)


@pytest.mark.parametrize("extra, message", [
    (", groups: 2", "leave groups at 1"),
    (", out_channels: 15", "16 rows but out_channels is 15"),
])
def test_bad_connection_tables(extra: str, message: str) -> None:
    text = _c3_spec(extra).replace("out_channels: 16, ", "") if "out_channels" in extra else _c3_spec(extra)
    with pytest.raises(AuditError, match=message):
        spec_from_text(text)


def test_connection_table_naming_a_missing_map() -> None:
    spec = spec_from_text(_c3_spec().replace("[0, 1, 2, 3, 4, 5]]", "[0, 1, 2, 3, 4, 6]]"))
    with pytest.raises(AuditError, match="names input map 6 but the input has 6 maps"):
        analyse(spec)


def test_subsampling_has_a_coefficient_and_a_bias_per_map() -> None:
    spec = spec_from_text(spec_text("  - {kind: subsample, name: s2, kernel: 2}\n  - {kind: flatten}\n"
                                    "  - {kind: linear, out_features: 10}\n", input="[6, 28, 28]"))
    a = analyse(spec)
    s2 = a.layer("s2")
    assert (s2.output_shape, s2.params) == ((6, 14, 14), 2 * 6)  # the paper: "S2 has 12 trainable parameters"
    # a depthwise 2x2 conv with one shared coefficient: a MAC per input cell of each window
    assert s2.macs == 6 * 14 * 14 * 2 * 2 == 4_704
    assert a.disagreements == () and a.incomplete == ()
    # connections as the tool counts them (weight-input pairs) include the subsampling layer's
    assert a.totals.connections == 4_704 + 6 * 14 * 14 * 10
    module = build_model(spec).layer("s2")
    x = torch.randn(1, 6, 28, 28)
    macs, params, _ = peer(nn.Conv2d(6, 6, 2, stride=2, groups=6), (6, 28, 28))  # untied: 4 weights per map
    assert (macs, params) == (s2.macs, 6 * 4 + 6)
    window_sums = F.avg_pool2d(x, 2) * 4
    expected = window_sums * module.coefficient.view(1, 6, 1, 1) + module.offset.view(1, 6, 1, 1)
    assert torch.allclose(module(x), expected, atol=1e-5)
    assert a.modules[0].category == "subsample"


@pytest.mark.parametrize("trainable, params", [("false", 0), ("true", 84 * 10)])
def test_rbf_output_is_a_squared_distance(trainable: str, params: int) -> None:
    spec = spec_from_text(spec_text(f"  - {{kind: flatten}}\n  - {{kind: rbf, name: out, out_features: 10, trainable: {trainable}}}\n",
                                    input="[1, 12, 7]"))
    a = analyse(spec)
    assert (a.layer("out").output_shape, a.layer("out").params) == ((10,), params)
    module = build_model(spec).layer("out")
    x = torch.randn(3, 84)
    expected = torch.stack([((x - module.centres[j]) ** 2).sum(dim=1) for j in range(10)], dim=1)
    assert torch.allclose(module(x), expected, atol=1e-4)
    assert set(module.centres.unique().tolist()) == {-1.0, 1.0}


# ---------------------------------------------------------------- every new kind against torchinfo, thop and ptflops

EVERY_NEW_KIND = """  - {kind: zeropad, name: pad, padding: [0, 1, 0, 1]}
  - {kind: conv, name: c1, out_channels: 8, kernel: 3, dilation: 2, padding: [1, 0, 2, 1]}
  - {kind: leaky_relu, name: a1, slope: 0.1}
  - {kind: maxpool, name: p1, kernel: 2, dilation: 2, stride: 1}
  - {kind: conv, name: dw, out_channels: 8, kernel: 3, padding: 1, groups: 8}
  - {kind: relu6, name: a2}
  - {kind: conv, name: pw, out_channels: 12, kernel: 1}
  - {kind: hardswish, name: a3}
  - {kind: conv, name: part, out_channels: 4, kernel: 3, connections: [[0, 1], [2, 3, 4], [5], [6, 7, 8, 9, 10, 11]]}
  - {kind: elu, name: a4}
  - {kind: global_maxpool, name: gmax}
  - {kind: linear, name: fc, out_features: 16}
  - {kind: batchnorm, name: bn}
  - {kind: gelu, name: a5}
  - {kind: linear, name: out, out_features: 10}
"""


def test_every_new_kind_agrees_with_the_peer_tools() -> None:
    from peer_oracles import check_against_peers, measure_with_peers, ptflops_figure, torchinfo_figure, unpadded_pool_inputs

    a = audit("[3, 15, 15]", EVERY_NEW_KIND)
    peers = measure_with_peers(a.spec)
    check_against_peers(a, peers)
    assert torchinfo_figure(a, None) == peers.torchinfo_macs
    assert peers.ptflops_macs - ptflops_figure(a) == peers.pool_inputs - unpadded_pool_inputs(a)
    # by hand: pad 15 -> 16; dilated 3x3 spans 5: (16 + 1 - 5) + 1 = 13 high, (16 + 3 - 5) + 1 = 15 wide
    assert a.layer("c1").output_shape == (8, 13, 15)
    assert a.layer("p1").output_shape == (8, 13 - 3 + 1, 15 - 3 + 1)  # a 2x2 window dilated by 2 spans 3
    assert a.layer("part").params == (2 + 3 + 1 + 6) * 9 + 4
    assert a.layer("part").output_shape == (4, 11 - 3 + 1, 13 - 3 + 1)
    assert a.layer("part").macs == 9 * 11 * (2 + 3 + 1 + 6) * 9


def test_paper_comparison_names_the_new_kinds(shipped: dict[str, Analysis]) -> None:
    from alexnet_audit.compare import paper_deviations

    paper = shipped["paper-alexnet-2012"]
    new = {d.feature: d.spec for d in paper_deviations(audit("[3, 15, 15]", EVERY_NEW_KIND), paper)}
    assert new["activation after conv layers"] == "ELU/hardswish/leaky ReLU/ReLU6 after all 4"
    assert new["activation after hidden FC layers"] == "GELU after all 1"
    assert new["normalisation"] == "BatchNorm after FC 1"
    lenet = {d.feature: d.spec for d in paper_deviations(shipped["paper-lenet5-1998"], paper)}
    assert lenet["pooling"] == "subsampling 2x2/2 after conv 1, 2"
    assert lenet["overlapping pooling"] == "none of 2 windows overlap"
