"""Graph specs: blocks whose branches merge, checked against the same networks written directly
in PyTorch (counted by fvcore) and against arithmetic written out here."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch
from torch import nn
from typer.testing import CliRunner

from alexnet_audit.analysis import Analysis, analyse
from alexnet_audit.results import GRAPH_RF_RULE
from alexnet_audit.audit import audit_paths
from alexnet_audit.build import build_model
from alexnet_audit.claims import Verdict, judge_all
from alexnet_audit.cli import app
from alexnet_audit.errors import AuditError
from alexnet_audit.spec import spec_from_text

from conftest import ROOT
from helpers import spec_text
from peer_counts import fvcore_by_module

runner = CliRunner()


def _params(model: nn.Module) -> dict[str, int]:
    return {name: sum(p.numel() for p in m.parameters()) for name, m in model.named_modules()}


def _check_against_reference(a: Analysis, ref: nn.Module) -> None:
    """Every conv, linear and batchnorm node: MACs and parameters equal fvcore's and PyTorch's
    count of the reference at the same qualified name (the spec's names are torchvision's paths)."""
    macs, params = fvcore_by_module(ref, tuple(a.spec.doc.input)), _params(ref)
    weighted = [lr for lr in a.layers if lr.kind in ("conv", "linear", "batchnorm")]
    assert weighted
    for lr in weighted:
        assert (lr.macs, lr.params) == (macs[lr.name], params[lr.name]), lr.name
    assert a.totals.macs == macs[""]
    assert a.totals.trainable_params == params[""]
    assert a.disagreements == ()


# ---------------------------------------------------------------- a residual block with a projection shortcut

RESIDUAL = """  - {kind: conv, name: conv1, out_channels: 8, kernel: 3, padding: 1, bias: false}
  - block: layer1
    layers:
      - block: "0"
        layers:
          - branches:
              - [{kind: conv, name: conv1, out_channels: 16, kernel: 3, stride: 2, padding: 1, bias: false},
                 {kind: batchnorm, name: bn1}, {kind: relu, name: relu},
                 {kind: conv, name: conv2, out_channels: 16, kernel: 3, padding: 1, bias: false},
                 {kind: batchnorm, name: bn2}]
              - [{block: downsample, layers: [{kind: conv, name: "0", out_channels: 16, kernel: 1, stride: 2, bias: false},
                                               {kind: batchnorm, name: "1"}]}]
            merge: add
          - {kind: relu, name: relu2}
  - {kind: adaptive_avgpool, name: avgpool, output_size: 1}
  - {kind: flatten, name: flatten}
  - {kind: linear, name: fc, out_features: 10}
"""


class BasicBlock(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(8, 16, 3, 2, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        self.relu = nn.ReLU()
        self.conv2 = nn.Conv2d(16, 16, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(16)
        self.downsample = nn.Sequential(nn.Conv2d(8, 16, 1, 2, bias=False), nn.BatchNorm2d(16))
        self.relu2 = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x)))))
        return self.relu2(out + self.downsample(x))


class TinyResNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, 1, 1, bias=False)
        self.layer1 = nn.Sequential(BasicBlock())
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.flatten = nn.Flatten()
        self.fc = nn.Linear(16, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.flatten(self.avgpool(self.layer1(self.conv1(x)))))


def test_residual_block_matches_pytorch_fvcore_and_hand_arithmetic() -> None:
    a = analyse(spec_from_text(spec_text(RESIDUAL, input="[3, 8, 8]")))
    _check_against_reference(a, TinyResNet())
    assert [lr.name for lr in a.layers] == [
        "conv1", "layer1.0.conv1", "layer1.0.bn1", "layer1.0.relu", "layer1.0.conv2", "layer1.0.bn2",
        "layer1.0.downsample.0", "layer1.0.downsample.1", "layer1.0.add_1", "layer1.0.relu2", "avgpool", "flatten", "fc"]
    by = {lr.name: lr for lr in a.layers}
    # stem 3->8 k3 pad 1 on 8x8: 8*3*9 = 216 weights; 64 outputs * 8 channels * 27 = 13,824 MACs
    assert (by["conv1"].params, by["conv1"].macs) == (216, 13_824)
    # main conv 8->16 k3 stride 2 pad 1: (8 + 2 - 3) // 2 + 1 = 4, so 4x4x16; 16*8*9 = 1,152 weights, 256 * 72 MACs
    assert (by["layer1.0.conv1"].output_shape, by["layer1.0.conv1"].params, by["layer1.0.conv1"].macs) == ((16, 4, 4), 1152, 18_432)
    # conv 16->16 k3: 2,304 weights, 256 * 144 = 36,864 MACs; projection 8->16 k1 stride 2: 128 weights, 256 * 8 MACs
    assert (by["layer1.0.conv2"].params, by["layer1.0.conv2"].macs) == (2304, 36_864)
    assert (by["layer1.0.downsample.0"].params, by["layer1.0.downsample.0"].macs) == (128, 2048)
    # each BatchNorm: 2 * 16 parameters, 2 MACs per element of 16x4x4
    assert {(by[n].params, by[n].macs) for n in ("layer1.0.bn1", "layer1.0.bn2", "layer1.0.downsample.1")} == {(32, 512)}
    assert (by["layer1.0.add_1"].kind, by["layer1.0.add_1"].params, by["layer1.0.add_1"].macs) == ("add", 0, 0)
    # adaptive pool: 1 per input element (16*4*4); fc 16*10 + 10
    assert (by["avgpool"].macs, by["fc"].params, by["fc"].macs) == (256, 170, 160)
    block = a.stage("layer1.0")
    assert block is not None and "layer1.0" in a.spec.blocks
    assert block.params == 1152 + 32 + 2304 + 32 + 128 + 32
    assert block.macs == 18_432 + 512 + 36_864 + 512 + 2048 + 512
    assert block.output_shape == (16, 4, 4)
    assert a.totals.trainable_params == 216 + 3680 + 170
    assert a.totals.macs == 13_824 + 58_880 + 256 + 160


# ---------------------------------------------------------------- an Inception block

INCEPTION = """  - block: inception
    branches:
      - [{kind: conv, name: b1, out_channels: 4, kernel: 1}, {kind: relu, name: relu1}]
      - [{block: b2, layers: [{kind: conv, name: reduce, out_channels: 2, kernel: 1},
                              {kind: conv, name: conv, out_channels: 4, kernel: 3, padding: 1}]}]
      - [{kind: maxpool, name: pool, kernel: 3, stride: 1, padding: 1}, {kind: conv, name: proj, out_channels: 2, kernel: 1}]
    merge: concat
  - {kind: adaptive_avgpool, name: avgpool, output_size: 1}
  - {kind: flatten, name: flatten}
  - {kind: linear, name: fc, out_features: 5}
"""


class Branch2(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.reduce = nn.Conv2d(8, 2, 1)
        self.conv = nn.Conv2d(2, 4, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(self.reduce(x))


class Inception(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.b1 = nn.Conv2d(8, 4, 1)
        self.relu1 = nn.ReLU()
        self.b2 = Branch2()
        self.pool = nn.MaxPool2d(3, 1, 1)
        self.proj = nn.Conv2d(8, 2, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.relu1(self.b1(x)), self.b2(x), self.proj(self.pool(x))], 1)


class TinyInception(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.inception = Inception()
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.flatten = nn.Flatten()
        self.fc = nn.Linear(10, 5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.flatten(self.avgpool(self.inception(x))))


def test_inception_block_matches_pytorch_fvcore_and_hand_arithmetic() -> None:
    a = analyse(spec_from_text(spec_text(INCEPTION, input="[8, 8, 8]", classes=5)))
    _check_against_reference(a, TinyInception())
    by = {lr.name: lr for lr in a.layers}
    # 1x1 8->4: 32 weights + 4 biases, 64 positions * 4 * 8 = 2,048 MACs
    assert (by["inception.b1"].params, by["inception.b1"].macs) == (36, 2048)
    # reduce 8->2: 18 params, 64 * 2 * 8 = 1,024 MACs; 3x3 2->4 pad 1: 4*2*9 + 4 = 76, 64 * 4 * 18 = 4,608 MACs
    assert (by["inception.b2.reduce"].params, by["inception.b2.conv"].params, by["inception.b2.conv"].macs) == (18, 76, 4608)
    assert by["inception.b2.conv"].output_shape == (4, 8, 8)
    # pool keeps 8x8x8 (k3 s1 pad 1), its projection 8->2: 18 params
    assert (by["inception.pool"].output_shape, by["inception.proj"].params) == ((8, 8, 8), 18)
    concat = by["inception.concat_1"]
    assert (concat.kind, concat.output_shape, concat.params) == ("concat", (4 + 4 + 2, 8, 8), 0)
    block = a.stage("inception")
    assert block is not None and (block.params, block.macs, block.output_shape) == (
        36 + 18 + 76 + 18, 2048 + 1024 + 4608 + 1024, (10, 8, 8))
    assert a.stage("inception.b2") is not None and a.stage("inception.b2").params == 18 + 76


def test_block_targets_for_claims() -> None:
    claims = """  - {id: p, kind: params, target: inception, claimed: 148, where: x}
  - {id: m, kind: macs, target: inception.b2, claimed: 5632, where: x}
  - {id: s, kind: output_shape, target: inception, claimed: 8x8x10, where: x}
  - {id: q, kind: params, target: inception.b2.conv, claimed: "4*2*9+4=76", where: x}
  - {id: c, kind: layer_count, of: conv, claimed: 4, where: x}
"""
    a = analyse(spec_from_text(spec_text(INCEPTION, claims=claims, input="[8, 8, 8]", classes=5)))
    results = judge_all(a)
    # 148 = 36 + 18 + 76 + 18; 5,632 = 1,024 + 4,608; four convs, all inside the block
    assert [r.verdict for r in results] == [Verdict.HOLDS] * 5, [r.detail for r in results]


# ---------------------------------------------------------------- a dense block

DENSE = """  - block: dense1
    merge: dense
    units:
      - [{kind: batchnorm}, {kind: relu}, {kind: conv, out_channels: 3, kernel: 3, padding: 1}]
      - [{kind: batchnorm}, {kind: relu}, {kind: conv, out_channels: 3, kernel: 3, padding: 1}]
  - {kind: flatten}
  - {kind: linear, out_features: 10}
"""


def test_dense_block_concatenates_every_earlier_output() -> None:
    a = analyse(spec_from_text(spec_text(DENSE, input="[4, 6, 6]")))
    assert [(lr.name, lr.output_shape) for lr in a.layers] == [
        ("dense1.batchnorm_1", (4, 6, 6)), ("dense1.relu_1", (4, 6, 6)), ("dense1.conv_1", (3, 6, 6)),
        ("dense1.concat_1", (7, 6, 6)),  # input 4 + unit 1's 3
        ("dense1.batchnorm_2", (7, 6, 6)), ("dense1.relu_2", (7, 6, 6)), ("dense1.conv_2", (3, 6, 6)),
        ("dense1.concat_2", (10, 6, 6)),  # input 4 + 3 + 3
        ("flatten_1", (360,)), ("linear_1", (10,))]
    by = {lr.name: lr for lr in a.layers}
    # unit 1: conv 4->3 k3: 3*4*9 + 3 = 111; unit 2 sees 7 channels: 3*7*9 + 3 = 192; 36 * 3 * 63 MACs
    assert (by["dense1.conv_1"].params, by["dense1.conv_2"].params, by["dense1.conv_2"].macs) == (111, 192, 6804)
    # BatchNorm: 2 * 4 and 2 * 7 parameters
    assert (by["dense1.batchnorm_1"].params, by["dense1.batchnorm_2"].params) == (8, 14)
    assert a.spec.layers[3].inputs == ("", "dense1.conv_1")  # the block's input is the network input here
    macs, params = fvcore_by_module(DenseRef(), (4, 6, 6)), _params(DenseRef())
    assert (a.totals.macs, a.totals.trainable_params) == (macs[""], params[""])
    assert a.totals.trainable_params == 8 + 111 + 14 + 192 + 360 * 10 + 10


class DenseRef(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.unit1 = nn.Sequential(nn.BatchNorm2d(4), nn.ReLU(), nn.Conv2d(4, 3, 3, padding=1))
        self.unit2 = nn.Sequential(nn.BatchNorm2d(7), nn.ReLU(), nn.Conv2d(7, 3, 3, padding=1))
        self.fc = nn.Linear(360, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        u1 = self.unit1(x)
        u2 = self.unit2(torch.cat([x, u1], 1))
        return self.fc(torch.cat([x, u1, u2], 1).flatten(1))


# ---------------------------------------------------------------- names


def test_qualified_and_automatic_names() -> None:
    spec = spec_from_text(spec_text(RESIDUAL, input="[3, 8, 8]").replace(
        "{kind: relu, name: relu2}", "{kind: relu}"))
    names = [layer.name for layer in spec.layers]
    assert "layer1.0.relu_1" in names  # unnamed inside a block: `<kind>_<n>` in the block's scope
    # depth first: the main branch, then the shortcut, then the merge and the unnamed ReLU after it
    assert spec.stages["layer1"] == (
        "layer1.0.conv1", "layer1.0.bn1", "layer1.0.relu", "layer1.0.conv2", "layer1.0.bn2",
        "layer1.0.downsample.0", "layer1.0.downsample.1", "layer1.0.add_1", "layer1.0.relu_1")
    assert spec.stages["layer1.0.downsample"] == ("layer1.0.downsample.0", "layer1.0.downsample.1")
    assert spec.blocks == {"layer1", "layer1.0", "layer1.0.downsample"}
    add = spec.layers[names.index("layer1.0.add_1")]
    assert add.inputs == ("layer1.0.bn2", "layer1.0.downsample.1")
    assert spec.layers[names.index("layer1.0.downsample.0")].inputs == ("conv1",)  # the shortcut sees the block's input


def _error(layers: str, **kwargs: str) -> AuditError:
    with pytest.raises(AuditError) as info:
        spec_from_text(spec_text(layers, **kwargs), "spec.yaml")
    return info.value


TAIL = "  - {kind: flatten}\n  - {kind: linear, out_features: 10}\n"


@pytest.mark.parametrize("layers, message, line, field", [
    ("  - block: b\n    layers: [{kind: conv, name: n, out_channels: 2, kernel: 1}, {kind: relu, name: n}]\n",
     "name 'b.n' is used twice", 8, "layers[0].layers[1].name"),
    ("  - {block: b, layers: [{kind: relu}]}\n  - {block: b, layers: [{kind: relu}]}\n",
     "block name 'b' is used twice", 8, "layers[1].block"),
    ("  - {kind: relu, name: b}\n  - {block: b, layers: [{kind: relu}]}\n",
     "block name 'b' is also a layer name", 8, "layers[1].block"),
    ("  - {stage: s, layers: [{kind: relu}]}\n  - {stage: s, layers: [{kind: tanh}]}\n",
     "stage name 's' is used twice", 8, "layers[1].stage"),
    ("  - {kind: relu, name: relu_1}\n  - {kind: relu}\n", "name 'relu_1' is used twice", 8, "layers[1].name"),
    ("  - {block: b, branches: [[{kind: relu, name: x}], [{kind: tanh, name: x}]], merge: add}\n",
     "name 'b.x' is used twice", 7, "layers[0].branches[1][0].name"),
])
def test_duplicate_names_are_located_errors(layers: str, message: str, line: int, field: str) -> None:
    err = _error(layers + TAIL, input="[2, 4, 4]")
    assert message in err.message and (err.line, err.field) == (line, field), str(err)


def test_the_same_name_in_two_blocks_is_two_names() -> None:
    spec = spec_from_text(spec_text("  - {block: a, layers: [{kind: relu, name: r}]}\n  - {block: b, layers: [{kind: relu, name: r}]}\n" + TAIL,
                                    input="[2, 4, 4]"))
    assert [layer.name for layer in spec.layers][:2] == ["a.r", "b.r"]


# Names that are attributes or methods of nn.Module (or of the built network): none may break it.
HOSTILE_NAMES = ["forward", "training", "type", "float", "eval", "_modules", "T_destination", "spec_id",
                 "names", "nodes", "feeds", "__dict__", "__class__", "_parameters", "0"]


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_any_valid_name_builds_analyses_and_runs(name: str) -> None:
    layers = f"""  - stage: "{name}"
    layers: [{{kind: conv, name: c, out_channels: 4, kernel: 3}}, {{kind: relu}}]
  - block: x
    layers:
      - block: "{name}"
        branches: [[{{kind: conv, name: "{name}", out_channels: 4, kernel: 1}}], []]
        merge: add
  - {{kind: flatten, name: "{name}_f"}}
  - {{kind: linear, name: fc, out_features: 10}}
"""
    claims = f"""  - {{id: stage, kind: params, target: "{name}", claimed: 112, where: x}}
  - {{id: block, kind: params, target: "x.{name}", claimed: 20, where: x}}
  - {{id: shape, kind: output_shape, target: "x.{name}.{name}", claimed: 4x4x4, where: x}}
"""
    spec = spec_from_text(spec_text(layers, claims=claims, input="[3, 6, 6]"))
    # stage: conv 3->4 k3 = 4*27 + 4 = 112; block: conv 4->4 k1 = 16 + 4 = 20; 6 - 3 + 1 = 4
    assert [r.verdict for r in judge_all(analyse(spec))] == [Verdict.HOLDS] * 3
    model = build_model(spec)
    assert model.spec_id == "t" and callable(model.forward)
    assert isinstance(model.layer(f"x.{name}.{name}"), nn.Conv2d)
    assert model(torch.zeros(2, 3, 6, 6)).shape == (2, 10)
    model.train()
    model(torch.zeros(2, 3, 6, 6)).sum().backward()


def test_counterpart_with_hostile_names_is_judged(tmp_path: pytest.TempPathFactory) -> None:
    code = spec_text("  - {kind: conv, name: forward, out_channels: 4, kernel: 3}\n  - {kind: relu, name: training}\n"
                     "  - {kind: maxpool, name: _modules, kernel: 2}\n  - {kind: flatten, name: type}\n"
                     "  - {kind: linear, name: eval, out_features: 10}\n", id="code", input="[3, 6, 6]")
    code = code.replace("framework: pytorch}", "framework: pytorch, counterpart: prose}")
    prose = spec_text("  - {kind: conv, name: conv1, out_channels: 4, kernel: 3}\n  - {kind: relu}\n"
                      "  - {kind: maxpool, kernel: 2}\n  - {kind: flatten}\n  - {kind: linear, out_features: 10}\n",
                      id="prose", input="[3, 6, 6]",
                      claims="  - {id: convs, kind: layer_count, of: conv, claimed: 2, where: x}\n")
    prose = prose.replace("framework: pytorch}", "framework: pytorch, counterpart: code}")
    (tmp_path / "code.yaml").write_text(code, encoding="utf-8")
    (tmp_path / "prose.yaml").write_text(prose, encoding="utf-8")
    run = audit_paths([tmp_path / "prose.yaml"])  # the counterpart is read from beside it
    assert run.broken == ()
    (audit,) = run.audits
    assert audit.counterpart is not None and [m.name for m in audit.counterpart.modules][:2] == ["forward", "training"]
    assert [c.verdict for c in audit.claims] == [Verdict.FAILS]  # one conv, claimed two


# ---------------------------------------------------------------- branches that do not fit


@pytest.mark.parametrize("layers, message", [
    ("  - branches: [[{kind: conv, name: wide, out_channels: 8, kernel: 3, padding: 1}], []]\n    merge: add\n",
     "merge 'add_1' (add): add needs equal shapes, but the branch ending at 'wide' gives 6x6x8 and the network input gives 6x6x4"),
    ("  - branches: [[{kind: conv, name: valid, out_channels: 4, kernel: 3}], []]\n    merge: concat\n",
     "concat needs feature maps of equal height and width, but the branch ending at 'valid' gives 4x4x4 and the network input gives 6x6x4"),
    ("  - {kind: conv, name: c, out_channels: 4, kernel: 1}\n  - block: r\n    branches: [[{kind: conv, name: s2, out_channels: 4, kernel: 3, stride: 2, padding: 1}], []]\n    merge: add\n",
     "the branch ending at 'r.s2' gives 3x3x4 and the branch ending at 'c' gives 6x6x4"),
])
def test_branches_that_do_not_fit_are_bad_input(layers: str, message: str, tmp_path: pytest.TempPathFactory) -> None:
    path = tmp_path / "spec.yaml"
    path.write_text(spec_text(layers + TAIL, input="[4, 6, 6]"), encoding="utf-8")
    result = runner.invoke(app, ["compare", str(path)])
    lines = result.stderr.strip().splitlines()
    assert result.exit_code == 2 and len(lines) == 1 and "Traceback" not in result.stderr
    assert message in lines[0] and f"{path}:" in lines[0], lines[0]


# ---------------------------------------------------------------- structure and receptive field follow the data path

PARALLEL = """  - branches: [[{kind: conv, name: a, out_channels: 2, kernel: 1}], [{kind: maxpool, name: p, kernel: 3, stride: 1, padding: 1}]]
    merge: concat
  - {kind: relu, name: r}
  - {kind: flatten}
  - {kind: linear, name: fc, out_features: 10}
"""


def test_structure_checks_follow_the_data_path() -> None:
    # Written flat, the pool comes right after conv `a`; on the graph it runs beside it, not after it.
    claims = """  - {id: pool-after, kind: layer_count, of: conv, followed_by: maxpool, claimed: 0, where: x}
  - {id: relu-after, kind: layer_count, of: conv, followed_by: relu, claimed: 1, where: x}
  - {id: followed, kind: structure, claimed: "a ReLU after a", check: {followed_by: relu, layers: [a], exactly: true}, where: x}
  - {id: act, kind: structure, claimed: "a ReLU after a", check: {activation_after: [a], present: true}, where: x}
"""
    a = analyse(spec_from_text(spec_text(PARALLEL, claims=claims, input="[2, 4, 4]")))
    assert [r.verdict for r in judge_all(a)] == [Verdict.HOLDS] * 4, [r.detail for r in judge_all(a)]


def test_receptive_field_is_the_largest_over_all_paths() -> None:
    a = analyse(spec_from_text(spec_text(RESIDUAL, input="[3, 8, 8]")))
    rf = {lr.name: (lr.receptive_field, lr.effective_stride) for lr in a.layers}
    # stem k3: 3; main path k3 s2 then k3: 3 + 2 = 5, 5 + 2 * 2 = 9 at stride 2; shortcut k1 s2: 3 at stride 2
    assert rf["layer1.0.bn2"] == (9, 2) and rf["layer1.0.downsample.1"] == (3, 2)
    assert rf["layer1.0.add_1"] == (9, 2)
    assert a.receptive_field_rule == GRAPH_RF_RULE
    line = analyse(spec_from_text(spec_text("  - {kind: conv, out_channels: 2, kernel: 3}\n" + TAIL, input="[1, 5, 5]")))
    assert line.receptive_field_rule is None


def test_readme_block_example_loads_and_counts_as_written_by_hand() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    start = readme.index("```yaml\nlayers:\n  - block: inception3a") + len("```yaml\nlayers:\n")
    layers = readme[start: readme.index("```", start)] + TAIL
    a = analyse(spec_from_text(spec_text(layers, input="[64, 28, 28]")))
    inception, block = a.stage("inception3a"), a.stage("layer2.0")
    assert inception is not None and block is not None
    # b1 64*64 + 64; reduce 64*96 + 96; 3x3 96*128*9 + 128; projection 64*32 + 32
    assert inception.params == 4_160 + 6_240 + 110_720 + 2_080
    assert inception.output_shape == (64 + 128 + 32, 28, 28)
    # conv1 224*128*9; BN 2*128 (x3); conv2 128*128*9; projection 224*128
    assert block.params == 258_048 + 147_456 + 28_672 + 3 * 256
    assert block.output_shape == (128, 14, 14)


@pytest.mark.parametrize("layers, located", [
    ("  - block: b\n    branches: [[{kind: relu}], [{kind: bogus}]]\n    merge: add\n", "spec.yaml:8: layers[0].branches[1][0]: unknown kind 'bogus'"),
    ("  - block: b\n    branches: [[{kind: relu}], []]\n", "spec.yaml:7: layers[0].merge: required field is missing"),
    ("  - block: b\n    branches: [[{kind: relu}], []]\n    merge: max\n", "spec.yaml:9: layers[0].merge: Input should be 'concat' or 'add'"),
    ("  - {block: b, merge: dense, units: [[{kind: relu, stride: 2}]]}\n", "spec.yaml:7: layers[0].units[0][0].stride: unknown field"),
    ("  - {block: 'a.b', layers: [{kind: relu}]}\n", "spec.yaml:7: layers[0].block: String should match pattern"),
    ("  - {branches: [[{kind: relu}]], merge: add}\n", "spec.yaml:7: layers[0].branches: List should have at least 2 items"),
])
def test_malformed_blocks_are_located_errors(layers: str, located: str) -> None:
    assert str(_error(layers + TAIL, input="[2, 4, 4]")).startswith(located)


def test_loading_a_graph_spec_imports_no_torch() -> None:
    code = ("import sys; from alexnet_audit.spec import spec_from_text; "
            f"spec_from_text({spec_text(INCEPTION, input='[8, 8, 8]', classes=5)!r}); "
            "print(sorted(m for m in ('torch', 'fvcore', 'pandas', 'matplotlib') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "[]", out.stderr
