"""`alexnet-audit import` on listings written the way posts and tutorials write them.

Every expected figure is computed by hand in the test; the imported spec is loaded and measured
by the tool like any hand-written spec.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from import_helpers import import_listing, judged, measured, verdicts
from typer.testing import CliRunner

from alexnet_audit.cli import app
from alexnet_audit.spec import spec_from_text

ROOT = Path(__file__).resolve().parent.parent


LENET_TUTORIAL = """
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    class Net(nn.Module):
        def __init__(self, num_classes=10):
            super(Net, self).__init__()
            self.conv1 = nn.Conv2d(1, 6, 5)
            self.conv2 = nn.Conv2d(6, 16, kernel_size=5)
            self.fc1 = nn.Linear(16 * 5 * 5, 120)
            self.fc2 = nn.Linear(120, 84)
            self.fc3 = nn.Linear(84, num_classes)

        def forward(self, x):
            x = F.max_pool2d(F.relu(self.conv1(x)), (2, 2))
            x = F.max_pool2d(F.relu(self.conv2(x)), 2)
            x = x.view(-1, 16 * 5 * 5)
            x = F.relu(self.fc1(x))
            x = F.relu(self.fc2(x))
            return self.fc3(x)

    net = Net()
    print(net(torch.randn(1, 1, 32, 32)))
"""


def test_pytorch_module_with_functional_calls(tmp_path: Path) -> None:
    result = import_listing(tmp_path, LENET_TUTORIAL)
    assert result.reading.input == (1, 32, 32)  # from torch.randn(1, 1, 32, 32)
    rows = measured(result.text)
    assert [(n, k) for n, k, _, _ in rows] == [
        ("conv1", "conv"), ("conv1_relu", "relu"), ("conv1_maxpool", "maxpool"), ("conv2", "conv"),
        ("conv2_relu", "relu"), ("conv2_maxpool", "maxpool"), ("flatten", "flatten"), ("fc1", "linear"),
        ("fc1_relu", "relu"), ("fc2", "linear"), ("fc2_relu", "relu"), ("fc3", "linear")]
    shapes = {n: s for n, _, s, _ in rows}
    assert shapes["conv1"] == (6, 28, 28) and shapes["conv1_maxpool"] == (6, 14, 14)  # 32-5+1, /2
    assert shapes["conv2"] == (16, 10, 10) and shapes["flatten"] == (16 * 5 * 5,)
    params = {n: p for n, _, _, p in rows if p}
    assert params == {"conv1": 5 * 5 * 1 * 6 + 6, "conv2": 5 * 5 * 6 * 16 + 16, "fc1": 400 * 120 + 120,
                      "fc2": 120 * 84 + 84, "fc3": 84 * 10 + 10}
    assert sum(params.values()) == 61_706
    found = verdicts(tmp_path, result.text)
    assert found == {"conv1-declared-input": "holds", "conv2-declared-input": "holds", "fc1-declared-input": "holds",
                        "fc2-declared-input": "holds", "fc3-declared-input": "holds", "flatten-declared-size": "holds"}


def test_shapes_that_do_not_meet_become_failing_claims(tmp_path: Path) -> None:
    # A 32x32 input gives 16x5x5 = 400 features, but the code declares 16*4*4 = 256 (a 28x28
    # listing's figure) and defines a layer its forward never calls.
    code = LENET_TUTORIAL.replace("16 * 5 * 5", "16 * 4 * 4").replace(
        "self.fc3 = nn.Linear(84, num_classes)", "self.fc3 = nn.Linear(84, num_classes)\n            self.fc4 = nn.Linear(10, 10)")
    result = import_listing(tmp_path, code)
    params = {n: p for n, _, _, p in measured(result.text) if p}
    assert params["fc1"] == 400 * 120 + 120  # the network as it runs: fc1 takes what the flatten gives
    assert "fc4" not in params
    claims = judged(tmp_path, result.text)
    found = {cid: c.verdict.value for cid, c in claims.items()}
    assert found["fc1-declared-input"] == "fails"  # weight 120x256 declared, 120x400 built
    assert found["flatten-declared-size"] == "fails"  # view(-1, 256) of 400 features
    assert "a 28x28 input instead of the 32x32" in claims["flatten-declared-size"].diagnosis  # 16*4*4 is 28x28's map
    assert found["fc4-used"] == "fails"
    assert found["conv1-declared-input"] == found["fc2-declared-input"] == "holds"
    assert "fc4 is defined but never used" in result.text


def test_nested_sequential_from_a_list_an_ordered_dict_and_init_weights(tmp_path: Path) -> None:
    code = """
        import torch.nn as nn
        from collections import OrderedDict

        cfg = [16, 'M', 32, 'M']

        def make_layers(cfg, in_channels=3):
            layers = []
            for v in cfg:
                if v == 'M':
                    layers += [nn.MaxPool2d(kernel_size=2, stride=2)]
                else:
                    layers += [nn.Conv2d(in_channels, v, kernel_size=3, padding=1), nn.ReLU(inplace=True)]
                    in_channels = v
            return nn.Sequential(*layers)

        class Small(nn.Module):
            def __init__(self, num_classes=10):
                super().__init__()
                self.features = make_layers(cfg)
                self.head = nn.Sequential(OrderedDict([
                    ('pool', nn.AdaptiveAvgPool2d((2, 2))),
                    ('flat', nn.Flatten()),
                    ('fc', nn.Sequential(nn.Dropout(0.5), nn.Linear(32 * 2 * 2, num_classes))),
                ]))
                self._init()

            def _init(self):
                for m in self.modules():
                    if isinstance(m, nn.Conv2d):
                        nn.init.kaiming_normal_(m.weight, mode='fan_out', nonlinearity='relu')
                        nn.init.zeros_(m.bias)
                    elif isinstance(m, nn.Linear):
                        m.weight.data.normal_(0, 0.01)
                        m.bias.data.zero_()

            def forward(self, x):
                return self.head(self.features(x))
        # input: 3x32x32 CIFAR-sized images
    """
    result = import_listing(tmp_path, code)
    assert result.reading.input == (3, 32, 32)
    rows = measured(result.text)
    assert [(n, s) for n, _, s, _ in rows] == [
        ("features.0", (16, 32, 32)), ("features.1", (16, 32, 32)), ("features.2", (16, 16, 16)),
        ("features.3", (32, 16, 16)), ("features.4", (32, 16, 16)), ("features.5", (32, 8, 8)),
        ("head.pool", (32, 2, 2)), ("head.flat", (128,)), ("head.fc.0", (128,)), ("head.fc.1", (10,))]
    assert {n: p for n, _, _, p in rows if p} == {"features.0": 3 * 3 * 3 * 16 + 16, "features.3": 3 * 3 * 16 * 32 + 32,
                                                  "head.fc.1": 128 * 10 + 10}
    spec = spec_from_text(result.text)
    inits = {lr.name: lr.spec.init for lr in spec.layers if lr.spec.kind in ("conv", "linear")}
    assert inits["features.3"].weight.dist == "kaiming_normal" and inits["features.3"].weight.mode == "fan_out"
    assert inits["features.3"].bias.value == 0.0
    assert (inits["head.fc.1"].weight.dist, inits["head.fc.1"].weight.std) == ("normal", 0.01)


def test_newer_layer_kinds(tmp_path: Path) -> None:
    code = """
        import torch.nn as nn
        import torch.nn.functional as F

        class Modern(nn.Module):
            def __init__(self):
                super().__init__()
                self.pad = nn.ZeroPad2d((1, 2, 0, 3))
                self.conv = nn.Conv2d(3, 4, 3, dilation=2)
                self.act = nn.LeakyReLU(0.2)
                self.fc = nn.Linear(4 * 5 * 6, 2)

            def forward(self, x):
                x = F.elu(self.act(self.conv(self.pad(x))), alpha=0.5)
                x = F.gelu(x)
                return nn.functional.relu6(self.fc(x.view(x.size(0), -1)))
    """
    result = import_listing(tmp_path, code, input=(3, 6, 7))
    rows = measured(result.text)
    # pad: 6+0+3 = 9 rows, 7+1+2 = 10 columns; a dilated 3x3 spans 5: 9-5+1 = 5, 10-5+1 = 6
    assert [(k, s) for _, k, s, _ in rows] == [
        ("zeropad", (3, 9, 10)), ("conv", (4, 5, 6)), ("leaky_relu", (4, 5, 6)), ("elu", (4, 5, 6)),
        ("gelu", (4, 5, 6)), ("flatten", (120,)), ("linear", (2,)), ("relu6", (2,))]
    layers = spec_from_text(result.text).layers
    assert (layers[2].spec.slope, layers[3].spec.alpha, layers[1].spec.dilation) == (0.2, 0.5, 2)
    assert set(verdicts(tmp_path, result.text).values()) == {"holds"}


def test_sub_module_classes_become_blocks(tmp_path: Path) -> None:
    code = """
        import torch.nn as nn
        import torch.nn.functional as F

        class ConvBlock(nn.Module):
            def __init__(self, c_in, c_out):
                super().__init__()
                self.conv = nn.Conv2d(c_in, c_out, 3, padding=1, bias=False)
                self.bn = nn.BatchNorm2d(c_out)
                self.extra = nn.ReLU()

            def forward(self, x):
                return F.max_pool2d(F.relu(self.bn(self.conv(x))), 2)

        class Net(nn.Module):
            def __init__(self, num_classes=10):
                super().__init__()
                self.block1 = ConvBlock(3, 16)
                self.stages = nn.Sequential(ConvBlock(16, 32), ConvBlock(32, 64))
                self.fc = nn.Linear(64 * 4 * 4, num_classes)

            def forward(self, x):
                x = self.stages(self.block1(x))
                return self.fc(x.view(x.size(0), -1))
        # input 3x32x32
    """
    result = import_listing(tmp_path, code)  # ConvBlock is a part of Net, not a second model
    rows = measured(result.text)
    assert [n for n, _, _, _ in rows][:4] == ["block1.conv", "block1.bn", "block1.bn_relu", "block1.bn_maxpool"]
    shapes = {n: s for n, _, s, _ in rows}
    assert shapes["stages.1.bn_maxpool"] == (64, 4, 4)  # 32 -> 16 -> 8 -> 4
    assert {n: p for n, _, _, p in rows if p} == {
        "block1.conv": 3 * 3 * 3 * 16, "block1.bn": 2 * 16, "stages.0.conv": 3 * 3 * 16 * 32, "stages.0.bn": 2 * 32,
        "stages.1.conv": 3 * 3 * 32 * 64, "stages.1.bn": 2 * 64, "fc": 64 * 4 * 4 * 10 + 10}
    found = verdicts(tmp_path, result.text)
    assert sorted(c for c, v in found.items() if v == "fails") == [
        "block1.extra-used", "stages.0.extra-used", "stages.1.extra-used"]


POST = """第一段文字,介绍这个网络。
import torch.nn as nnclass Tiny(nn.Module):def __init__(self):super(Tiny, self).__init__()# 卷积层self.conv = nn.Conv2d(3, 8, kernel_size=3, padding=1)self.pool = nn.MaxPool2d(2)self.fc = nn.Linear(8 * 16 * 16, 10)def forward(self, x):x = self.pool(self.conv(x))x = x.view(x.size(0), -1)return self.fc(x)
训练时输入大小为 32x32。
"""

POST_UNINDENTED = """下面是代码:
import torch.nn as nn
class Tiny(nn.Module):
def __init__(self):
super().__init__()
self.conv = nn.Conv2d(1, 4, 3, padding=&#039;same&#039;)
self.act = nn.ReLU()
self.fc = nn.Linear(4 * 8 * 8, 2)
def forward(self, x):
x = self.act(self.conv(x))
return self.fc(x.view(x.size(0), -1))
  • 0
    点赞
"""


def test_a_post_with_its_newlines_or_indentation_lost(tmp_path: Path) -> None:
    glued = import_listing(tmp_path, POST, name="post.txt", input=(3, 32, 32))
    assert [(n, p) for n, _, _, p in measured(glued.text)] == [
        ("conv", 3 * 3 * 3 * 8 + 8), ("pool", 0), ("flatten", 0), ("fc", 8 * 16 * 16 * 10 + 10)]
    assert glued.listing.repairs and "line 2" in glued.text.split("conv (conv")[0].splitlines()[-1]
    flat = import_listing(tmp_path, POST_UNINDENTED, name="post2.txt", input=(1, 8, 8))
    assert [(n, s) for n, _, s, _ in measured(flat.text)] == [
        ("conv", (4, 8, 8)), ("act", (4, 8, 8)), ("flatten", (256,)), ("fc", (2,))]  # 'same': 8x8 kept


def test_a_loop_of_unknown_length_is_named_and_the_rest_written(tmp_path: Path) -> None:
    code = """
        import torch
        import torch.nn as nn
        import torch.nn.functional as F

        class Deep(nn.Module):
            def __init__(self, depths):
                super().__init__()
                self.stem = nn.Conv2d(3, 8, 3)
                self.blocks = nn.ModuleList()
                for i in range(len(depths)):
                    self.blocks.append(nn.Conv2d(8, 8, 3, padding=1))
                self.fc = nn.Linear(8, 10)

            def forward(self, x):
                x = self.stem(x)
                for b in self.blocks:
                    x = b(x)
                x = F.adaptive_avg_pool2d(x, 1)
                return self.fc(torch.flatten(x, 1))
    """
    result = import_listing(tmp_path, code, input=(3, 16, 16))
    assert [line for line, _ in result.reading.unreadable] == [11]
    assert "line 11:" in result.text and "not known statically" in result.text
    assert [(n, p) for n, _, _, p in measured(result.text)] == [
        ("stem", 3 * 3 * 3 * 8 + 8), ("stem_adaptive_avgpool", 0), ("flatten", 0), ("fc", 8 * 10 + 10)]


def test_a_helper_function_is_read_as_strictly_as_the_model(tmp_path: Path) -> None:
    code = """
        import torch.nn as nn

        def make_layers(cfg, depth):
            layers = []
            in_channels = 3
            for v in cfg[:depth]:
                layers += [nn.Conv2d(in_channels, v, kernel_size=3, padding=1), nn.ReLU(inplace=True)]
                in_channels = v
            return nn.Sequential(*layers)

        class VGGish(nn.Module):
            def __init__(self, cfg, depth):
                super().__init__()
                self.features = make_layers([8, 16], depth)
                self.pool = nn.AdaptiveAvgPool2d(1)
                self.fc = nn.Linear(16, 10)

            def forward(self, x):
                x = self.pool(self.features(x))
                return self.fc(x.view(x.size(0), -1))
    """
    result = import_listing(tmp_path, code, input=(3, 8, 8))
    assert [line for line, _ in result.reading.unreadable] == [7]  # the loop over cfg[:depth], depth unknown
    assert "line 7:" in result.text


BRANCHES = """
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    class Block(nn.Module):
        def __init__(self, c):
            super().__init__()
            self.conv1 = nn.Conv2d(c, c, 3, padding=1, bias=False)
            self.bn1 = nn.BatchNorm2d(c)
            self.conv2 = nn.Conv2d(c, c, 3, padding=1, bias=False)
            self.bn2 = nn.BatchNorm2d(c)

        def forward(self, x):
            out = F.relu(self.bn1(self.conv1(x)))
            out = self.bn2(self.conv2(out))
            out += x
            return F.relu(out)

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.Conv2d(3, 4, 1)
            self.b = nn.Sequential(nn.Conv2d(3, 2, 1), nn.ReLU(), nn.Conv2d(2, 4, 3, padding=1))
            self.layer1 = nn.Sequential(Block(8), Block(8))
            self.fc = nn.Linear(8 * 4 * 4, 2)

        def forward(self, x):
            x = torch.cat([self.a(x), self.b(x)], 1)
            x = self.layer1(x)
            return self.fc(torch.flatten(x, 1))
"""


def test_branches_that_merge_become_graph_blocks(tmp_path: Path) -> None:
    result = import_listing(tmp_path, BRANCHES, input=(3, 4, 4))
    rows = measured(result.text)
    kinds = {n: k for n, k, _, _ in rows}
    assert [kinds[n] for n in ("a", "b.0", "b.1", "b.2")] == ["conv", "conv", "relu", "conv"]
    assert sorted(k for k in kinds.values() if k in ("add", "concat")) == ["add", "add", "concat"]
    shapes = {n: s for n, _, s, _ in rows}
    assert shapes["b.0"] == (2, 4, 4) and shapes["layer1.0.conv1"] == (8, 4, 4)  # the concat: 4 + 4 channels
    assert {n: p for n, _, _, p in rows if p} == {
        "a": 3 * 4 + 4, "b.0": 3 * 2 + 2, "b.2": 3 * 3 * 2 * 4 + 4,
        "layer1.0.conv1": 3 * 3 * 8 * 8, "layer1.0.bn1": 2 * 8, "layer1.0.conv2": 3 * 3 * 8 * 8, "layer1.0.bn2": 2 * 8,
        "layer1.1.conv1": 3 * 3 * 8 * 8, "layer1.1.bn1": 2 * 8, "layer1.1.conv2": 3 * 3 * 8 * 8, "layer1.1.bn2": 2 * 8,
        "fc": 128 * 2 + 2}
    assert set(verdicts(tmp_path, result.text).values()) == {"holds"}  # every declared channel count meets
    assert result.reading.unreadable == []


def test_an_operation_joining_tensors_that_specs_do_not_hold_is_named(tmp_path: Path) -> None:
    code = """
        import torch
        import torch.nn as nn

        class Gate(nn.Module):
            def __init__(self):
                super().__init__()
                self.a = nn.Conv2d(3, 4, 1)
                self.b = nn.Conv2d(3, 4, 1)
                self.fc = nn.Linear(4 * 4 * 4, 2)

            def forward(self, x):
                y = self.a(x) * torch.sigmoid(self.b(x))
                return self.fc(torch.flatten(y, 1))
    """
    result = import_listing(tmp_path, code, input=(3, 4, 4))
    assert [line for line, _ in result.reading.unreadable] == [13]  # a * sigmoid(b): a gate
    assert all("--module" in why for _, why in result.reading.unreadable)


def test_nothing_of_the_listing_is_executed(tmp_path: Path) -> None:
    marker = tmp_path / "ran.txt"
    code = f"""
        import os
        import module_that_does_not_exist
        open({str(marker)!r}, 'w').write('the top level ran')
        os.system('touch {marker}')
        raise SystemExit('this listing must never run')

        import torch.nn as nn

        class M(nn.Module):
            def __init__(self):
                super().__init__()
                open({str(marker)!r}, 'w').write('__init__ ran')
                self.fc = nn.Linear(4, 2)

            def forward(self, x):
                __import__('os').remove({str(tmp_path)!r})
                return self.fc(x.flatten(1))
    """
    result = import_listing(tmp_path, code, input=(1, 2, 2))
    assert not marker.exists()
    assert [(n, p) for n, _, _, p in measured(result.text)] == [("flatten", 0), ("fc", 4 * 2 + 2)]


def test_the_static_path_does_not_import_torch(tmp_path: Path) -> None:
    path = tmp_path / "net.py"
    path.write_text(textwrap.dedent(LENET_TUTORIAL), encoding="utf-8")
    probe = ("import sys; from alexnet_audit.importer import import_code; import_code(sys.argv[1]); "
             "print(sorted(m for m in ('torch', 'fvcore', 'pandas', 'matplotlib') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", probe, str(path)], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == "[]"


def test_the_command_writes_a_spec_or_says_why_not(tmp_path: Path) -> None:
    code = tmp_path / "net.py"
    code.write_text(textwrap.dedent(LENET_TUTORIAL), encoding="utf-8")
    spec = tmp_path / "net.yaml"
    ok = CliRunner().invoke(app, ["import", str(code), "-o", str(spec), "--id", "lenet-tutorial"])
    assert ok.exit_code == 0, ok.output
    assert "12 layers" in ok.output and spec_from_text(spec.read_text()).id == "lenet-tutorial"
    bad = CliRunner().invoke(app, ["import", str(tmp_path / "missing.py"), "-o", str(spec)])
    assert bad.exit_code == 2 and len(bad.output.strip().splitlines()) == 1 and "cannot read" in bad.output
    wrong = CliRunner().invoke(app, ["import", str(code), "-o", str(spec), "--input", "224x224"])
    assert wrong.exit_code == 2 and "C x H x W" in wrong.output
    given = CliRunner().invoke(app, ["import", str(code), "-o", str(spec), "--input", "1x28x28", "--set", "num_classes=7"])
    assert given.exit_code == 0, given.output
    written = spec_from_text(spec.read_text())
    assert written.doc.input == (1, 28, 28) and written.doc.num_classes == 7  # a set value overrides the default
