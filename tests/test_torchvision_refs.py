"""The reference specs' published figures, counted by hand here and by fvcore on the same
networks written directly in PyTorch (no torchvision: it is not needed at run time)."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
import torch
from fvcore.nn import FlopCountAnalysis
from torch import nn

from alexnet_audit.audit import AuditRun, SpecAudit

from conftest import ROOT

# LeCun et al. (1998), Table I: the S2 maps each C3 map sees.
C3_TABLE = (
    (0, 1, 2), (1, 2, 3), (2, 3, 4), (3, 4, 5), (4, 5, 0), (5, 0, 1),
    (0, 1, 2, 3), (1, 2, 3, 4), (2, 3, 4, 5), (3, 4, 5, 0), (4, 5, 0, 1), (5, 0, 1, 2),
    (0, 1, 3, 4), (1, 2, 4, 5), (0, 2, 3, 5),
    (0, 1, 2, 3, 4, 5),
)


def fvcore_macs(model: nn.Module, input_shape: tuple[int, ...]) -> int:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        analysis = FlopCountAnalysis(model.eval(), torch.zeros(1, *input_shape))
        analysis.unsupported_ops_warnings(False)
        analysis.uncalled_modules_warnings(False)
        with torch.no_grad():
            return int(analysis.total())


def audited(run: AuditRun, name: str) -> SpecAudit:
    return next(a for a in run.audits if Path(a.spec.path) == ROOT / "specs" / name)


def verdicts(audit: SpecAudit) -> dict[str, str]:
    return {c.id: c.verdict.value for c in audit.claims}


# ---------------------------------------------------------------- VGG-16


VGG16_CHANNELS = ((64, 64), (128, 128), (256, 256, 256), (512, 512, 512), (512, 512, 512))


def vgg16_in_pytorch() -> nn.Module:
    """torchvision's VGG-16 (configuration D), written out by hand."""
    layers: list[nn.Module] = []
    c = 3
    for stage in VGG16_CHANNELS:
        for out in stage:
            layers += [nn.Conv2d(c, out, 3, padding=1), nn.ReLU()]
            c = out
        layers.append(nn.MaxPool2d(2, 2))
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(7), nn.Flatten(),
                         nn.Linear(512 * 7 * 7, 4096), nn.ReLU(), nn.Dropout(),
                         nn.Linear(4096, 4096), nn.ReLU(), nn.Dropout(), nn.Linear(4096, 1000))


def test_vgg16_parameters_by_hand(shipped_run: AuditRun) -> None:
    a = audited(shipped_run, "torchvision-vgg16.yaml")
    conv = 0
    c = 3
    for stage in VGG16_CHANNELS:
        for out in stage:
            conv += 3 * 3 * c * out + out
            c = out
    fc = 25088 * 4096 + 4096 + 4096 * 4096 + 4096 + 4096 * 1000 + 1000
    assert conv == 14_714_688 and fc == 123_642_856
    assert a.analysis.totals.trainable_params == conv + fc == 138_357_544
    assert verdicts(a)["num-params"] == "holds"


def test_vgg16_macs_by_hand_and_by_fvcore() -> None:
    from alexnet_audit.analysis import analyse
    from alexnet_audit.spec import load_spec

    a = analyse(load_spec(ROOT / "specs/torchvision-vgg16.yaml"))
    conv = 0
    c, side = 3, 224
    for stage in VGG16_CHANNELS:
        for out in stage:
            conv += side * side * out * c * 9  # padding 1 keeps the side
            c = out
        side //= 2
    linear = 25088 * 4096 + 4096 * 4096 + 4096 * 1000
    adaptive_pool = 512 * 7 * 7  # 7x7 in, 7x7 out: fvcore's one op per input element
    assert a.totals.macs == conv + linear + adaptive_pool == 15_470_289_408
    assert fvcore_macs(vgg16_in_pytorch(), (3, 224, 224)) == a.totals.macs
    assert a.totals.macs_complete and not a.disagreements


def test_vgg16_gflops_figure_is_macs(shipped_run: AuditRun) -> None:
    a = audited(shipped_run, "torchvision-vgg16.yaml")
    gflops = next(c for c in a.claims if c.id == "gflops")
    # "15.47 GFLOPS" is 15,470,289,408 MACs rounded: FLOPs would be twice that, 30.94 G
    assert gflops.verdict.value == "fails"
    assert gflops.diagnoses[0].code == "macs_as_flops"
    assert "15,470,289,408" in gflops.diagnoses[0].message
    assert set(verdicts(a).values()) <= {"holds", "fails", "unverifiable"}
    assert [k for k, v in verdicts(a).items() if v == "fails"] == ["gflops"]


# ---------------------------------------------------------------- LeNet-5 (1998)


class _Gathered(nn.Module):
    """C3 written directly: one conv per output map over the maps its table row names."""

    def __init__(self) -> None:
        super().__init__()
        self.convs = nn.ModuleList(nn.Conv2d(len(row), 1, 5) for row in C3_TABLE)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([conv(x[:, list(row)]) for conv, row in zip(self.convs, C3_TABLE)], dim=1)


def lenet1998_in_pytorch() -> nn.Module:
    """The MAC-bearing layers written directly; S2/S4 as untied 2x2 depthwise convs (the same MACs)."""
    return nn.Sequential(nn.Conv2d(1, 6, 5), nn.Tanh(), nn.Conv2d(6, 6, 2, stride=2, groups=6), nn.Tanh(),
                         _Gathered(), nn.Tanh(), nn.Conv2d(16, 16, 2, stride=2, groups=16), nn.Tanh(),
                         nn.Conv2d(16, 120, 5), nn.Tanh(), nn.Flatten(), nn.Linear(120, 84), nn.Tanh())


def test_lenet1998_parameters_as_the_paper_counts_them(shipped_run: AuditRun) -> None:
    a = audited(shipped_run, "paper-lenet5-1998.yaml")
    by_layer = {lr.name: lr.params for lr in a.analysis.layers if lr.params}
    c3 = sum(len(row) for row in C3_TABLE) * 25 + 16
    assert by_layer == {"c1": 6 * 25 + 6, "s2": 6 + 6, "c3": c3, "s4": 16 + 16, "c5": 120 * 400 + 120, "f6": 84 * 120 + 84}
    assert c3 == 1_516
    # the RBF centres are fixed, so the paper's 60,000 is exact, not rounded
    assert sum(by_layer.values()) == 156 + 12 + 1_516 + 32 + 48_120 + 10_164 == 60_000
    assert a.analysis.totals.trainable_params == 60_000


def test_lenet1998_macs_by_hand_and_by_fvcore(shipped_run: AuditRun) -> None:
    a = audited(shipped_run, "paper-lenet5-1998.yaml").analysis
    macs = {lr.name: lr.macs for lr in a.layers if lr.macs}
    c3_inputs = sum(len(row) for row in C3_TABLE)
    assert macs == {"c1": 28 * 28 * 6 * 25, "s2": 14 * 14 * 6 * 4, "c3": 10 * 10 * c3_inputs * 25,
                    "s4": 5 * 5 * 16 * 4, "c5": 120 * 400, "f6": 84 * 120}
    assert a.totals.macs == 117_600 + 4_704 + 150_000 + 1_600 + 48_000 + 10_080 == 331_984
    assert fvcore_macs(lenet1998_in_pytorch(), (1, 32, 32)) == a.totals.macs
    # the RBF layer's squared distances lie outside the MAC convention: named, never silently 0
    assert [entry.split(":")[0] for entry in a.incomplete] == ["output"]


def test_lenet1998_connections_count_each_bias(shipped_run: AuditRun) -> None:
    audit = audited(shipped_run, "paper-lenet5-1998.yaml")
    # the paper's connections: every weight-input pair plus one per bias (a weight on a constant input)
    paper = {
        "c1-connections": 28 * 28 * 6 * (25 + 1),  # 122,304
        "s2-connections": 14 * 14 * 6 * (4 + 1),  # 5,880
        "c3-connections": 10 * 10 * (sum(len(row) for row in C3_TABLE) * 25 + 16),  # 151,600
        "s4-connections": 5 * 5 * 16 * (4 + 1),  # 2,000
    }
    rbf = 84 * 10
    total = sum(paper.values()) + 120 * (400 + 1) + 84 * (120 + 1) + rbf
    assert list(paper.values()) == [122_304, 5_880, 151_600, 2_000] and total == 340_908
    by_id = {c.id: c for c in audit.claims}
    for cid, figure in [*paper.items(), ("connections", total)]:
        claim = by_id[cid]
        # the tool counts weight-input pairs without biases: the figure fails, and the diagnosis says why
        assert claim.verdict.value == "fails", cid
        assert claim.diagnoses[0].code == "bias_connections", cid
        assert f"gives {figure:,}" in claim.diagnoses[0].message, cid
    assert by_id["connections"].measured == 331_984


def test_lenet1998_every_other_figure_holds(shipped_run: AuditRun) -> None:
    v = verdicts(audited(shipped_run, "paper-lenet5-1998.yaml"))
    assert {k for k, verdict in v.items() if verdict != "holds"} == {
        "c1-connections", "s2-connections", "c3-connections", "s4-connections", "connections"}
    assert len(v) == 18
