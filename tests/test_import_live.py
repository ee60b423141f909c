"""`alexnet-audit import --module FILE.py:NAME`: a live nn.Module to a spec, and back.

The parameter counts are written out by hand and checked against torch's own count of the
module; fvcore's MACs on the module are the peer for the spec's per-layer MACs.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from fvcore.nn import FlopCountAnalysis

from alexnet_audit.analysis import analyse
from alexnet_audit.errors import AuditError
from alexnet_audit.importer import import_spec
from alexnet_audit.importer.live import _load
from alexnet_audit.spec import spec_from_text

MODELS = '''
import torch
import torch.nn as nn

class Block(nn.Module):
    def __init__(self, c_in, c_out, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.relu = nn.ReLU()
        self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.downsample = None
        if stride != 1 or c_in != c_out:
            self.downsample = nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride, bias=False), nn.BatchNorm2d(c_out))

    def forward(self, x):
        identity = x
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        if self.downsample is not None:
            identity = self.downsample(x)
        out += identity
        return self.relu(out)

class TinyResNet(nn.Module):
    def __init__(self, num_classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        self.relu = nn.ReLU(inplace=True)
        self.layer1 = nn.Sequential(Block(16, 16), Block(16, 32, 2))
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(32, num_classes)

    def forward(self, x):
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.layer1(x)
        return self.fc(torch.flatten(self.pool(x), 1))

class Inception(nn.Module):
    def __init__(self):
        super().__init__()
        self.b1 = nn.Conv2d(3, 8, 1)
        self.b2 = nn.Sequential(nn.Conv2d(3, 4, 1), nn.ReLU(), nn.Conv2d(4, 8, 3, padding=1))
        self.fc = nn.Linear(16 * 8 * 8, 5)

    def forward(self, x):
        x = torch.cat([self.b1(x), self.b2(x)], 1)
        return self.fc(x.view(x.size(0), -1))

class Untraceable(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc2 = nn.Linear(6, 3)
        self.conv = nn.Conv2d(1, 6, 4)
        self.fc1 = nn.Linear(6 * 5 * 5, 6)

    def forward(self, x):
        if x.sum() >= 0 or True:  # data-dependent: torch.fx refuses it
            x = self.conv(x)
        return self.fc2(self.fc1(x.view(x.size(0), -1)))

class Shared(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 8)

    def forward(self, x):
        x = torch.flatten(x, 1)
        return self.fc(self.fc(x))

def make():
    return TinyResNet(num_classes=4)
'''


@pytest.fixture
def models(tmp_path: Path) -> Path:
    path = tmp_path / "models.py"
    path.write_text(textwrap.dedent(MODELS), encoding="utf-8")
    return path


def _rows(text: str) -> list[tuple[str, str, tuple[int, ...], int, int]]:
    return [(lr.name, lr.kind, lr.output_shape, lr.params, lr.macs) for lr in analyse(spec_from_text(text)).layers]


def test_a_residual_network_becomes_graph_blocks(models: Path) -> None:
    result = import_spec(None, module=f"{models}:TinyResNet", input="3x32x32")
    assert result.differences == ()
    rows = _rows(result.text)
    params = {n: p for n, _, _, p, _ in rows if p}
    assert params == {
        "conv1": 3 * 3 * 3 * 16, "bn1": 2 * 16,
        "layer1.0.conv1": 3 * 3 * 16 * 16, "layer1.0.bn1": 2 * 16, "layer1.0.conv2": 3 * 3 * 16 * 16, "layer1.0.bn2": 2 * 16,
        "layer1.1.conv1": 3 * 3 * 16 * 32, "layer1.1.bn1": 2 * 32, "layer1.1.conv2": 3 * 3 * 32 * 32, "layer1.1.bn2": 2 * 32,
        "layer1.1.downsample.0": 16 * 32, "layer1.1.downsample.1": 2 * 32, "fc": 32 * 10 + 10}
    model = _load(models, "TinyResNet")
    assert sum(params.values()) == 19_994 == sum(p.numel() for p in model.parameters())
    kinds = [k for _, k, _, _, _ in rows]
    assert kinds.count("add") == 2  # one merge per residual block
    shapes = {n: s for n, _, s, _, _ in rows}
    assert shapes["layer1.1.conv1"] == (32, 16, 16) and shapes["layer1.1.downsample.0"] == (32, 16, 16)


def test_macs_equal_fvcore_on_the_live_module_layer_by_layer(models: Path) -> None:
    import torch

    result = import_spec(None, module=f"{models}:Inception", input="3x8x8")
    rows = _rows(result.text)
    model = _load(models, "Inception")
    peer = FlopCountAnalysis(model, torch.zeros(1, 3, 8, 8))
    peer.unsupported_ops_warnings(False)
    by_module = peer.by_module()
    macs = {n: m for n, _, _, _, m in rows if n in ("b1", "b2.0", "b2.2", "fc")}
    assert macs == {n: by_module[n] for n in macs}
    assert macs == {"b1": 8 * 8 * 8 * 3, "b2.0": 8 * 8 * 4 * 3, "b2.2": 8 * 8 * 8 * 4 * 9, "fc": 1024 * 5}
    assert [k for _, k, _, _, _ in rows][:5] == ["conv", "conv", "relu", "conv", "concat"]


def test_a_module_fx_cannot_trace_is_read_in_call_order(models: Path) -> None:
    result = import_spec(None, module=f"{models}:Untraceable", input="1x8x8")
    assert [(n, k, p) for n, k, _, p, _ in _rows(result.text)] == [
        ("conv", "conv", 4 * 4 * 1 * 6 + 6), ("flatten_before_fc1", "flatten", 0), ("fc1", "linear", 150 * 6 + 6),
        ("fc2", "linear", 6 * 3 + 3)]  # called after fc1, though __init__ defines it first
    assert any("another order" in a for a in result.reading.assumed)
    assert any("cannot trace" in a for a in result.reading.assumed)


def test_the_round_trip_names_the_layer_that_differs(models: Path) -> None:
    result = import_spec(None, module=f"{models}:Shared", input="2x2x2")
    assert result.differences == ("fc: 64 MACs in the spec, 128 by fvcore on the module (the module is called more than once)",)


def test_a_function_that_makes_the_model_and_bad_targets(models: Path) -> None:
    made = import_spec(None, module=f"{models}:make", input="3x32x32")
    assert spec_from_text(made.text).doc.num_classes == 4
    with pytest.raises(AuditError, match="expected FILE.py:NAME"):
        import_spec(None, module=str(models))
    with pytest.raises(AuditError, match="'Nope' is not defined"):
        import_spec(None, module=f"{models}:Nope")
    broken = models.parent / "broken.py"
    broken.write_text("raise RuntimeError('no')\n")
    with pytest.raises(AuditError, match="running it failed: RuntimeError: no"):
        import_spec(None, module=f"{broken}:M")
