"""The reference specs' published figures, counted by hand here and by fvcore on the same
networks written directly in PyTorch (no torchvision: it is not needed at run time)."""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from alexnet_audit.audit import AuditRun, SpecAudit

from conftest import ROOT
from peer_counts import fvcore_by_module

# LeCun et al. (1998), Table I: the S2 maps each C3 map sees.
C3_TABLE = (
    (0, 1, 2), (1, 2, 3), (2, 3, 4), (3, 4, 5), (4, 5, 0), (5, 0, 1),
    (0, 1, 2, 3), (1, 2, 3, 4), (2, 3, 4, 5), (3, 4, 5, 0), (4, 5, 0, 1), (5, 0, 1, 2),
    (0, 1, 3, 4), (1, 2, 4, 5), (0, 2, 3, 5),
    (0, 1, 2, 3, 4, 5),
)


def fvcore_macs(model: nn.Module, input_shape: tuple[int, ...]) -> int:
    return fvcore_by_module(model, input_shape)[""]


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


def test_vgg16_macs_by_hand_and_by_fvcore(shipped_run: AuditRun) -> None:
    a = audited(shipped_run, "torchvision-vgg16.yaml").analysis
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
    with torch.device("meta"):  # fvcore counts shapes, not weights: 138 million of them left uninitialised
        reference = vgg16_in_pytorch()
    assert fvcore_macs(reference.to_empty(device="cpu"), (3, 224, 224)) == a.totals.macs
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
    default = {"c1-connections": 28 * 28 * 6 * 25, "s2-connections": 14 * 14 * 6 * 4,
               "c3-connections": 10 * 10 * sum(len(row) for row in C3_TABLE) * 25, "s4-connections": 5 * 5 * 16 * 4}
    rbf = 84 * 10
    total = sum(paper.values()) + 120 * (400 + 1) + 84 * (120 + 1) + rbf
    assert list(paper.values()) == [122_304, 5_880, 151_600, 2_000] and total == 340_908
    default["connections"] = sum(default.values()) + 120 * 400 + 84 * 120  # no bias, no RBF inputs: 331,984
    by_id = {c.id: c for c in audit.claims}
    for cid, figure in [*paper.items(), ("connections", total)]:
        claim = by_id[cid]
        # the spec states the paper's own convention (bias: included): by it, every figure is right
        assert claim.verdict.value == "holds", cid
        assert claim.measured == figure, cid
        # and the detail shows the tool's default count beside it
        assert f"default count (weight-input pairs, no bias) is {default[cid]:,}" in claim.detail, cid
    assert default["connections"] == 331_984 == audit.analysis.totals.connections


def test_lenet1998_every_figure_holds(shipped_run: AuditRun) -> None:
    v = verdicts(audited(shipped_run, "paper-lenet5-1998.yaml"))
    assert {k for k, verdict in v.items() if verdict != "holds"} == set()
    assert len(v) == 18


# ---------------------------------------------------------------- graph networks, written in torchvision's module paths


def check_against_reference(audit: SpecAudit, reference: nn.Module) -> int:
    """Every conv, linear and BatchNorm node: MACs and parameters equal fvcore's and PyTorch's count
    of the reference module at the same qualified name; totals equal the reference's, whose MACs
    it returns."""
    a = audit.analysis
    macs = fvcore_by_module(reference, tuple(a.spec.doc.input))
    params = {name: sum(p.numel() for p in m.parameters()) for name, m in reference.named_modules()}
    weighted = [lr for lr in a.layers if lr.kind in ("conv", "linear", "batchnorm")]
    for lr in weighted:
        assert (lr.macs, lr.params) == (macs[lr.name], params[lr.name]), lr.name
    assert (a.totals.macs, a.totals.trainable_params) == (macs[""], params[""])
    assert a.disagreements == () and a.totals.macs_complete
    return macs[""]


def gflops_reading(audit: SpecAudit) -> list[str]:
    claim = next(c for c in audit.claims if c.id == "gflops")
    assert claim.verdict.value == "fails"  # as FLOPs, the figure is half the count
    return [d.message for d in claim.diagnoses]


class BasicBlock(nn.Module):
    def __init__(self, cin: int, out: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(cin, out, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(out)
        self.relu = nn.ReLU()
        self.conv2 = nn.Conv2d(out, out, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(out)
        self.downsample = (nn.Sequential(nn.Conv2d(cin, out, 1, stride, bias=False), nn.BatchNorm2d(out))
                           if stride != 1 or cin != out else None)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shortcut = x if self.downsample is None else self.downsample(x)
        return self.relu(self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x))))) + shortcut)


class ResNet18(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU()
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        self.layer1 = nn.Sequential(BasicBlock(64, 64, 1), BasicBlock(64, 64, 1))
        self.layer2 = nn.Sequential(BasicBlock(64, 128, 2), BasicBlock(128, 128, 1))
        self.layer3 = nn.Sequential(BasicBlock(128, 256, 2), BasicBlock(256, 256, 1))
        self.layer4 = nn.Sequential(BasicBlock(256, 512, 2), BasicBlock(512, 512, 1))
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(512, 1000)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


def test_resnet18_parameters_by_hand(shipped_run: AuditRun) -> None:
    a = audited(shipped_run, "torchvision-resnet18.yaml")
    stem = 7 * 7 * 3 * 64 + 2 * 64
    layer1 = 4 * (3 * 3 * 64 * 64 + 2 * 64)
    stages = 0
    for cin, out in ((64, 128), (128, 256), (256, 512)):
        # first conv halves the size, three more 3x3 convs, a 1x1 projection; five BatchNorms
        stages += 3 * 3 * cin * out + 3 * (3 * 3 * out * out) + cin * out + 5 * 2 * out
    fc = 512 * 1000 + 1000
    assert a.analysis.totals.trainable_params == stem + layer1 + stages + fc == 11_689_512
    assert {c.id: c.verdict.value for c in a.claims}["num-params"] == "holds"


def test_resnet18_macs_equal_fvcore_on_the_same_network(shipped_run: AuditRun) -> None:
    a = audited(shipped_run, "torchvision-resnet18.yaml")
    check_against_reference(a, ResNet18())
    # torchvision's "1.81 GFLOPS" is the conv and linear MACs, BatchNorm and pooling left out
    conv_linear = sum(lr.macs for lr in a.analysis.layers if lr.kind in ("conv", "linear"))
    assert conv_linear == 1_814_073_344
    assert (f"fvcore's count without BatchNorm and pooling (conv and linear MACs only), quoted as FLOPs gives "
            f"{conv_linear:,}") in gflops_reading(a)


class BasicConv2d(nn.Module):
    def __init__(self, cin: int, out: int, kernel: int, stride: int = 1, padding: int = 0) -> None:
        super().__init__()
        self.conv = nn.Conv2d(cin, out, kernel, stride, padding, bias=False)
        self.bn = nn.BatchNorm2d(out, eps=0.001)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.bn(self.conv(x)))


INCEPTIONS = {  # torchvision's Inception(in, 1x1, 3x3 reduce, 3x3, "5x5" reduce, "5x5", pool proj)
    "inception3a": (192, 64, 96, 128, 16, 32, 32), "inception3b": (256, 128, 128, 192, 32, 96, 64),
    "inception4a": (480, 192, 96, 208, 16, 48, 64), "inception4b": (512, 160, 112, 224, 24, 64, 64),
    "inception4c": (512, 128, 128, 256, 24, 64, 64), "inception4d": (512, 112, 144, 288, 32, 64, 64),
    "inception4e": (528, 256, 160, 320, 32, 128, 128), "inception5a": (832, 256, 160, 320, 32, 128, 128),
    "inception5b": (832, 384, 192, 384, 48, 128, 128),
}


class Inception(nn.Module):
    def __init__(self, cin: int, c1: int, c3r: int, c3: int, c5r: int, c5: int, pool: int) -> None:
        super().__init__()
        self.branch1 = BasicConv2d(cin, c1, 1)
        self.branch2 = nn.Sequential(BasicConv2d(cin, c3r, 1), BasicConv2d(c3r, c3, 3, padding=1))
        self.branch3 = nn.Sequential(BasicConv2d(cin, c5r, 1), BasicConv2d(c5r, c5, 3, padding=1))
        self.branch4 = nn.Sequential(nn.MaxPool2d(3, 1, 1, ceil_mode=True), BasicConv2d(cin, pool, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.branch1(x), self.branch2(x), self.branch3(x), self.branch4(x)], 1)


class GoogLeNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv1 = BasicConv2d(3, 64, 7, 2, 3)
        self.maxpool1 = nn.MaxPool2d(3, 2, ceil_mode=True)
        self.conv2 = BasicConv2d(64, 64, 1)
        self.conv3 = BasicConv2d(64, 192, 3, padding=1)
        self.maxpool2 = nn.MaxPool2d(3, 2, ceil_mode=True)
        for name, args in INCEPTIONS.items():
            setattr(self, name, Inception(*args))
        self.maxpool3 = nn.MaxPool2d(3, 2, ceil_mode=True)
        self.maxpool4 = nn.MaxPool2d(2, 2, ceil_mode=True)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(1024, 1000)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool2(self.conv3(self.conv2(self.maxpool1(self.conv1(x)))))
        x = self.maxpool3(self.inception3b(self.inception3a(x)))
        for name in ("inception4a", "inception4b", "inception4c", "inception4d", "inception4e"):
            x = getattr(self, name)(x)
        x = self.inception5b(self.inception5a(self.maxpool4(x)))
        return self.fc(torch.flatten(self.avgpool(x), 1))


def test_googlenet_parameters_by_hand(shipped_run: AuditRun) -> None:
    a = audited(shipped_run, "torchvision-googlenet.yaml")

    def basic(cin: int, out: int, k: int) -> int:
        return k * k * cin * out + 2 * out  # no conv bias; BatchNorm's scale and shift

    def inception(cin: int, c1: int, c3r: int, c3: int, c5r: int, c5: int, pool: int) -> int:
        return (basic(cin, c1, 1) + basic(cin, c3r, 1) + basic(c3r, c3, 3) + basic(cin, c5r, 1) + basic(c5r, c5, 3)
                + basic(cin, pool, 1))

    stem = basic(3, 64, 7) + basic(64, 64, 1) + basic(64, 192, 3)
    modules = sum(inception(*args) for args in INCEPTIONS.values())
    fc = 1024 * 1000 + 1000
    assert a.analysis.totals.trainable_params == stem + modules + fc == 6_624_904
    # every module's output channels are its four branches' together
    for name, (_, c1, _, c3, _, c5, pool) in INCEPTIONS.items():
        assert a.analysis.output_shape(name)[0] == c1 + c3 + c5 + pool, name


def test_googlenet_macs_equal_fvcore_on_the_same_network(shipped_run: AuditRun) -> None:
    a = audited(shipped_run, "torchvision-googlenet.yaml")
    reference_macs = check_against_reference(a, GoogLeNet())
    # the figure named is the reference network's own count, not the analysis read back
    assert gflops_reading(a)[0] == f"the figure is MACs quoted as FLOPs: the MAC count gives {reference_macs:,}"


FIRES = {3: (96, 16, 64, 64), 4: (128, 16, 64, 64), 5: (128, 32, 128, 128), 7: (256, 32, 128, 128),
         8: (256, 48, 192, 192), 9: (384, 48, 192, 192), 10: (384, 64, 256, 256), 12: (512, 64, 256, 256)}


class Fire(nn.Module):
    def __init__(self, cin: int, squeeze: int, e1: int, e3: int) -> None:
        super().__init__()
        self.squeeze = nn.Conv2d(cin, squeeze, 1)
        self.squeeze_activation = nn.ReLU()
        self.expand1x1 = nn.Conv2d(squeeze, e1, 1)
        self.expand1x1_activation = nn.ReLU()
        self.expand3x3 = nn.Conv2d(squeeze, e3, 3, padding=1)
        self.expand3x3_activation = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.squeeze_activation(self.squeeze(x))
        return torch.cat([self.expand1x1_activation(self.expand1x1(x)), self.expand3x3_activation(self.expand3x3(x))], 1)


class SqueezeNet10(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        layers: list[nn.Module] = [nn.Conv2d(3, 96, 7, 2), nn.ReLU(), nn.MaxPool2d(3, 2, ceil_mode=True)]
        for i in range(3, 13):
            layers.append(Fire(*FIRES[i]) if i in FIRES else nn.MaxPool2d(3, 2, ceil_mode=True))
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Sequential(nn.Dropout(0.5), nn.Conv2d(512, 1000, 1), nn.ReLU(), nn.AdaptiveAvgPool2d(1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.flatten(self.classifier(self.features(x)), 1)


def test_squeezenet_parameters_by_hand(shipped_run: AuditRun) -> None:
    a = audited(shipped_run, "torchvision-squeezenet.yaml")
    stem = 7 * 7 * 3 * 96 + 96
    fires = sum(cin * s + s + s * e1 + e1 + 3 * 3 * s * e3 + e3 for cin, s, e1, e3 in FIRES.values())
    classifier = 512 * 1000 + 1000
    assert a.analysis.totals.trainable_params == stem + fires + classifier == 1_248_424
    # 224 -> (224 - 7) // 2 + 1 = 109 -> ceil((109 - 3) / 2) + 1 = 54 before the first Fire module
    assert a.analysis.output_shape("features.3") == (128, 54, 54)


def test_squeezenet_macs_equal_fvcore_on_the_same_network(shipped_run: AuditRun) -> None:
    a = audited(shipped_run, "torchvision-squeezenet.yaml")
    reference_macs = check_against_reference(a, SqueezeNet10())
    # the figure named is the reference network's own count, not the analysis read back
    assert gflops_reading(a)[0] == f"the figure is MACs quoted as FLOPs: the MAC count gives {reference_macs:,}"
