"""`alexnet-audit import` on listings written the way posts and tutorials write them.

Every expected figure is computed by hand in the test; the imported spec is loaded and measured
by the tool like any hand-written spec.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from alexnet_audit.analysis import analyse
from alexnet_audit.audit import audit_paths
from alexnet_audit.cli import app
from alexnet_audit.errors import AuditError
from alexnet_audit.importer import import_code
from alexnet_audit.spec import spec_from_text

ROOT = Path(__file__).resolve().parent.parent


def _import(tmp_path: Path, code: str, name: str = "listing.py", **options):  # type: ignore[no-untyped-def]
    path = tmp_path / name
    path.write_text(textwrap.dedent(code), encoding="utf-8")
    return import_code(path, **options)


def _measured(text: str) -> list[tuple[str, str, tuple[int, ...], int]]:
    analysis = analyse(spec_from_text(text))
    return [(lr.name, lr.kind, lr.output_shape, lr.params) for lr in analysis.layers]


def _claims(tmp_path: Path, text: str):  # type: ignore[no-untyped-def]
    path = tmp_path / "imported.yaml"
    path.write_text(text, encoding="utf-8")
    run = audit_paths([path])
    assert not run.broken, run.broken
    return {c.id: c for c in run.audits[0].claims}


def _verdicts(tmp_path: Path, text: str) -> dict[str, str]:
    return {cid: c.verdict.value for cid, c in _claims(tmp_path, text).items()}


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
    result = _import(tmp_path, LENET_TUTORIAL)
    assert result.reading.input == (1, 32, 32)  # from torch.randn(1, 1, 32, 32)
    rows = _measured(result.text)
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
    verdicts = _verdicts(tmp_path, result.text)
    assert verdicts == {"conv1-declared-input": "holds", "conv2-declared-input": "holds", "fc1-declared-input": "holds",
                        "fc2-declared-input": "holds", "fc3-declared-input": "holds", "flatten-declared-size": "holds"}


def test_shapes_that_do_not_meet_become_failing_claims(tmp_path: Path) -> None:
    # A 32x32 input gives 16x5x5 = 400 features, but the code declares 16*4*4 = 256 (a 28x28
    # listing's figure) and defines a layer its forward never calls.
    code = LENET_TUTORIAL.replace("16 * 5 * 5", "16 * 4 * 4").replace(
        "self.fc3 = nn.Linear(84, num_classes)", "self.fc3 = nn.Linear(84, num_classes)\n            self.fc4 = nn.Linear(10, 10)")
    result = _import(tmp_path, code)
    params = {n: p for n, _, _, p in _measured(result.text) if p}
    assert params["fc1"] == 400 * 120 + 120  # the network as it runs: fc1 takes what the flatten gives
    assert "fc4" not in params
    claims = _claims(tmp_path, result.text)
    verdicts = {cid: c.verdict.value for cid, c in claims.items()}
    assert verdicts["fc1-declared-input"] == "fails"  # weight 120x256 declared, 120x400 built
    assert verdicts["flatten-declared-size"] == "fails"  # view(-1, 256) of 400 features
    assert "a 28x28 input instead of the 32x32" in claims["flatten-declared-size"].diagnosis  # 16*4*4 is 28x28's map
    assert verdicts["fc4-used"] == "fails"
    assert verdicts["conv1-declared-input"] == verdicts["fc2-declared-input"] == "holds"
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
    result = _import(tmp_path, code)
    assert result.reading.input == (3, 32, 32)
    rows = _measured(result.text)
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
    result = _import(tmp_path, code)  # ConvBlock is a part of Net, not a second model
    rows = _measured(result.text)
    assert [n for n, _, _, _ in rows][:4] == ["block1.conv", "block1.bn", "block1.bn_relu", "block1.bn_maxpool"]
    shapes = {n: s for n, _, s, _ in rows}
    assert shapes["stages.1.bn_maxpool"] == (64, 4, 4)  # 32 -> 16 -> 8 -> 4
    assert {n: p for n, _, _, p in rows if p} == {
        "block1.conv": 3 * 3 * 3 * 16, "block1.bn": 2 * 16, "stages.0.conv": 3 * 3 * 16 * 32, "stages.0.bn": 2 * 32,
        "stages.1.conv": 3 * 3 * 32 * 64, "stages.1.bn": 2 * 64, "fc": 64 * 4 * 4 * 10 + 10}
    verdicts = _verdicts(tmp_path, result.text)
    assert sorted(c for c, v in verdicts.items() if v == "fails") == [
        "block1.extra-used", "stages.0.extra-used", "stages.1.extra-used"]


def test_keras_sequential_list_with_prefixes_and_an_ignored_input_shape(tmp_path: Path) -> None:
    code = """
        import tensorflow as tf
        from tensorflow.keras import layers

        model = tf.keras.Sequential([
            layers.Conv2D(32, (3, 3), activation='relu', input_shape=(28, 28, 1)),
            layers.MaxPooling2D((2, 2)),
            tf.keras.layers.Conv2D(64, 3, padding='same', use_bias=False),
            layers.BatchNormalization(),
            layers.Activation('relu'),
            layers.MaxPool2D(),
            layers.Flatten(),
            layers.Dropout(0.25),
            layers.Dense(128, activation='relu', input_shape=(3136,)),
            layers.Dense(10, activation='softmax'),
        ])
    """
    result = _import(tmp_path, code)
    rows = _measured(result.text)
    assert [n for n, _, _, _ in rows] == [
        "conv2d", "conv2d_relu", "max_pooling2d", "conv2d_1", "batch_normalization", "activation", "max_pooling2d_1",
        "flatten", "dropout", "dense", "dense_relu", "dense_1", "dense_1_softmax"]
    shapes = {n: s for n, _, s, _ in rows}
    assert shapes["conv2d"] == (32, 26, 26)  # 'valid' by default: 28-3+1
    assert shapes["conv2d_1"] == (64, 13, 13) and shapes["max_pooling2d_1"] == (64, 6, 6)  # pool 2 by default
    params = {n: p for n, _, _, p in rows if p}
    assert params == {"conv2d": 3 * 3 * 1 * 32 + 32, "conv2d_1": 3 * 3 * 32 * 64, "batch_normalization": 2 * 64,
                      "dense": 6 * 6 * 64 * 128 + 128, "dense_1": 128 * 10 + 10}
    assert sum(params.values()) == 315_210
    assert _verdicts(tmp_path, result.text) == {"dropout-declared-input-shape": "fails"}  # 3136 claimed, 2304 given
    assert any("padding 'valid'" in a for a in result.reading.assumed)
    assert any("use_bias=True" in a for a in result.reading.assumed)


FUNCTIONAL_AND_SUBCLASS = """
    from tensorflow import keras
    from tensorflow.keras.layers import Input, Conv2D, Flatten, Dense

    inputs = Input(shape=(32, 32, 3))
    x = Conv2D(8, 3, strides=2, padding='same', activation='relu')(inputs)
    x = Flatten()(x)
    outputs = Dense(10)(x)
    functional = keras.Model(inputs=inputs, outputs=outputs)

    class Sub(keras.Model):
        def __init__(self, output_units=10):
            super().__init__()
            self.conv = Conv2D(8, 3)
            self.flat = Flatten()
            self.out = Dense(output_units)

        def call(self, x):
            return self.out(self.flat(self.conv(x)))
"""


def test_several_models_ask_which(tmp_path: Path) -> None:
    with pytest.raises(AuditError, match="several models .*functional, Sub.*--model"):
        _import(tmp_path, FUNCTIONAL_AND_SUBCLASS)
    functional = _import(tmp_path, FUNCTIONAL_AND_SUBCLASS, model="functional")
    assert [(s, p) for _, _, s, p in _measured(functional.text)] == [
        ((8, 16, 16), 3 * 3 * 3 * 8 + 8), ((8, 16, 16), 0), ((8 * 16 * 16,), 0), ((10,), 2048 * 10 + 10)]  # SAME: 32/2
    sub = _import(tmp_path, FUNCTIONAL_AND_SUBCLASS, model="Sub", input=(3, 32, 32))
    assert [(n, p) for n, _, _, p in _measured(sub.text)] == [
        ("conv", 3 * 3 * 3 * 8 + 8), ("flat", 0), ("out", 30 * 30 * 8 * 10 + 10)]


def test_a_name_the_listing_never_defines(tmp_path: Path) -> None:
    code = """
        from keras.models import Sequential
        from keras.layers import Dense, Flatten, Conv2D

        model = Sequential()
        model.add(Conv2D(4, kernel_size=(3, 3), input_shape=(8, 8, 1)))
        model.add(Flatten())
        model.add(Dense(output_class_units, activation='softmax'))
    """
    with pytest.raises(AuditError, match="output_class_units is used but never defined.*--set output_class_units"):
        _import(tmp_path, code)
    result = _import(tmp_path, code, sets={"output_class_units": 17})
    assert _measured(result.text)[-2][2:] == ((17,), 6 * 6 * 4 * 17 + 17)
    assert _verdicts(tmp_path, result.text) == {"output_class_units-defined": "fails"}


def test_tf1_ops_with_weight_variables(tmp_path: Path) -> None:
    code = """
        import tensorflow as tf

        def lenet(x, keep_prob):
            w1 = tf.Variable(tf.truncated_normal([5, 5, 1, 6], stddev=0.1))
            b1 = tf.Variable(tf.zeros([6]))
            h1 = tf.nn.relu(tf.nn.conv2d(x, w1, strides=[1, 1, 1, 1], padding='VALID') + b1)
            p1 = tf.nn.max_pool(h1, ksize=[1, 2, 2, 1], strides=[1, 2, 2, 1], padding='VALID')
            n1 = tf.nn.lrn(p1, 4, bias=1.0, alpha=0.001 / 9.0, beta=0.75)
            w2 = tf.Variable(tf.random_normal([12 * 12 * 6, 10], stddev=0.01))
            b2 = tf.Variable(tf.constant(0.1, shape=[10]))
            flat = tf.reshape(n1, [-1, 12 * 12 * 6])
            logits = tf.matmul(flat, w2) + b2
            return tf.nn.dropout(logits, keep_prob)

        x = tf.placeholder(tf.float32, [None, 28, 28, 1])
    """
    result = _import(tmp_path, code)
    assert result.reading.input == (1, 28, 28)
    rows = _measured(result.text)
    assert [(k, s, p) for _, k, s, p in rows] == [
        ("conv", (6, 24, 24), 5 * 5 * 1 * 6 + 6), ("relu", (6, 24, 24), 0), ("maxpool", (6, 12, 12), 0),
        ("lrn_tf", (6, 12, 12), 0), ("flatten", (864,), 0), ("linear", (10,), 864 * 10 + 10), ("dropout", (10,), 0)]
    layers = spec_from_text(result.text).layers
    assert (layers[0].spec.init.weight.dist, layers[0].spec.init.weight.std, layers[0].spec.init.bias.value) == (
        "truncated_normal", 0.1, 0.0)
    assert (layers[5].spec.init.weight.std, layers[5].spec.init.bias.value) == (0.01, 0.1)
    assert (layers[3].spec.depth_radius, layers[3].spec.alpha) == (4, 0.001 / 9.0)
    assert any("keep_prob" in a and "0.5" in a for a in result.reading.assumed)
    assert set(_verdicts(tmp_path, result.text).values()) == {"holds"}


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
    glued = _import(tmp_path, POST, name="post.txt", input=(3, 32, 32))
    assert [(n, p) for n, _, _, p in _measured(glued.text)] == [
        ("conv", 3 * 3 * 3 * 8 + 8), ("pool", 0), ("flatten", 0), ("fc", 8 * 16 * 16 * 10 + 10)]
    assert glued.listing.repairs and "line 2" in glued.text.split("conv (conv")[0].splitlines()[-1]
    flat = _import(tmp_path, POST_UNINDENTED, name="post2.txt", input=(1, 8, 8))
    assert [(n, s) for n, _, s, _ in _measured(flat.text)] == [
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
    result = _import(tmp_path, code, input=(3, 16, 16))
    assert [line for line, _ in result.reading.unreadable] == [11]
    assert "line 11:" in result.text and "not known statically" in result.text
    assert [(n, p) for n, _, _, p in _measured(result.text)] == [
        ("stem", 3 * 3 * 3 * 8 + 8), ("stem_adaptive_avgpool", 0), ("flatten", 0), ("fc", 8 * 10 + 10)]


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
    result = _import(tmp_path, code, input=(1, 2, 2))
    assert not marker.exists()
    assert [(n, p) for n, _, _, p in _measured(result.text)] == [("flatten", 0), ("fc", 4 * 2 + 2)]


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
