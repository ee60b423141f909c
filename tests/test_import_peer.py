"""The arguments the importers carry, checked against the network itself.

One listing uses the arguments that change a network's figures (stride, padding, dilation,
groups, bias, ceil_mode, a pool's dilation, an asymmetric pad, a SAME pad, adaptive and
functional pools, an LRN's constants). The same code is run here in PyTorch (the peer network);
its output shapes come from forward hooks, its parameters from torch and its MACs from fvcore.
The spec imported from the code, statically and from the live module, must give the same figures
layer by layer.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch
from peer_counts import fvcore_by_module
from torch import nn

from alexnet_audit.analysis import Analysis, analyse
from alexnet_audit.importer import import_code, import_spec
from alexnet_audit.spec import spec_from_text

LISTING = '''
import torch
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 5, stride=2, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(16, eps=1e-3, momentum=0.05)
        self.conv2 = nn.Conv2d(16, 32, 3, 1, 2, 2, 4)
        self.pad = nn.ZeroPad2d((1, 0, 2, 0))
        self.pool2 = nn.MaxPool2d(3, 2, 1, 2, ceil_mode=True)
        self.conv3 = nn.Conv2d(32, 48, kernel_size=(3, 1), padding="same")
        self.pool = nn.AdaptiveAvgPool2d((2, 3))
        self.fc = nn.Linear(48 * 2 * 3, 10, bias=False)

    def forward(self, x):
        x = F.leaky_relu(self.bn1(self.conv1(x)), 0.2, True)
        x = F.max_pool2d(x, 2, 2, 0, 1, True)
        x = F.gelu(self.conv2(x), approximate="tanh")
        x = F.local_response_norm(x, 3, 1e-3, 0.5, 2.0)
        x = self.pool2(self.pad(x))
        x = F.avg_pool2d(F.relu6(self.conv3(x)), 2, 2, 1, True)
        x = self.pool(x)
        return self.fc(torch.flatten(x, 1))
'''
INPUT = (3, 64, 64)
MODULES = ("conv1", "bn1", "conv2", "pad", "pool2", "conv3", "pool", "fc")


@pytest.fixture(scope="module")
def listing(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("peer") / "net.py"
    path.write_text(LISTING)
    return path


@pytest.fixture(scope="module")
def peer() -> dict[str, tuple[tuple[int, ...], int, int]]:
    """Each module's output shape (C, H, W or features), trainable parameters and fvcore MACs, on the network run in PyTorch."""
    namespace: dict[str, Any] = {}
    exec(compile(LISTING, "net.py", "exec"), namespace)  # noqa: S102 - the peer network: the listing's own code, in PyTorch
    model: nn.Module = namespace["Net"]().eval()
    shapes: dict[str, tuple[int, ...]] = {}
    hooks = [model.get_submodule(name).register_forward_hook(
        lambda _m, _i, out, name=name: shapes.__setitem__(name, tuple(out.shape[1:]))) for name in MODULES]
    with torch.no_grad():
        model(torch.zeros(1, *INPUT))
    for hook in hooks:
        hook.remove()
    macs = fvcore_by_module(model, INPUT)
    # fvcore counts aten::_convolution only, and PyTorch runs padding="same" as aten::_convolution_mode:
    # conv3's MACs by hand, 48 maps x 32 inputs x 3x1 kernel at each of its 9x8 outputs.
    assert macs["conv3"] == 0
    macs["conv3"] = 48 * 32 * 3 * 1 * 9 * 8
    macs[""] += macs["conv3"]
    return {name: (shapes[name], sum(p.numel() for p in model.get_submodule(name).parameters()), macs.get(name, 0))
            for name in MODULES} | {"": ((10,), sum(p.numel() for p in model.parameters()), macs[""])}


def _figures(analysis: Analysis, name: str) -> tuple[tuple[int, ...], int, int]:
    layer = analysis.layer(name)
    return layer.output_shape, layer.params, layer.macs


def _check(analysis: Analysis, peer: dict[str, tuple[tuple[int, ...], int, int]]) -> None:
    for name in MODULES:
        assert _figures(analysis, name) == peer[name], name
    assert (analysis.totals.trainable_params, analysis.totals.macs) == peer[""][1:]


def test_the_static_import_gives_the_networks_figures(listing: Path, peer: dict[str, Any]) -> None:
    analysis = analyse(spec_from_text(import_code(listing, input=INPUT).text))
    _check(analysis, peer)
    # by hand: conv1 (64+2-5)//2+1 = 31, 3*5*5*16 weights and no bias; the ceil_mode pool ceil(31/2) = 16
    # (floor: 15); conv2 in groups of 4, 16/4*3*3*32 + 32; pad to 18x17; the dilated pool2 spans 5:
    # ceil((18+2-5)/2)+1 = 9 rows (floor: 8), (17+2-5)/2+1 = 8 columns; fc 288*10 without a bias
    assert peer["conv1"][:2] == ((16, 31, 31), 3 * 5 * 5 * 16)
    assert analysis.layer("bn1_maxpool").output_shape == (16, 16, 16)
    assert peer["conv2"][:2] == ((32, 16, 16), 16 // 4 * 3 * 3 * 32 + 32) and peer["pad"][0] == (32, 18, 17)
    assert peer["pool2"][0] == (32, 9, 8) and peer["fc"][1] == 48 * 2 * 3 * 10


def test_the_live_import_gives_the_networks_figures(listing: Path, peer: dict[str, Any]) -> None:
    imported = import_spec(None, module=f"{listing}:Net", input="x".join(map(str, INPUT)))
    assert imported.differences == ()
    _check(analyse(spec_from_text(imported.text)), peer)
