"""Code-vs-prose diffs and deviations from the 2012 paper, on tiny specs whose figures are
worked out by hand below."""

from __future__ import annotations

from rich.console import Console

from alexnet_audit.analysis import Analysis, analyse
from alexnet_audit.audit import AuditRun
from alexnet_audit.compare import PAPER_ID, align, blocks, code_vs_prose, paper_deviations
from alexnet_audit.render.diff import deviations_table, diff_table
from alexnet_audit.spec import spec_from_text
from helpers import LENET, spec_text

HEAD = """id: {id}
title: tiny {variant}
source: {{seed: post.txt, section: s, framework: pytorch, variant: {variant}, counterpart: {other}}}
input: [1, 12, 12]
num_classes: 10
layers:
"""

# prose: conv1 5x5 (1 -> 4 maps): 4x8x8, 5*5*1*4+4 = 104 params, 8*8*4 * 5*5*1 = 6,400 MACs;
#        max 2x2/2 -> 4x4x4 = 64 features; fc 64 -> 10: 650 params, 640 MACs.
PROSE = HEAD.format(id="tiny-prose", variant="prose", other="tiny-code") + """\
  - {kind: conv, name: conv1, out_channels: 4, kernel: 5}
  - {kind: relu}
  - {kind: maxpool, name: pool1, kernel: 2}
  - {kind: flatten}
  - {kind: linear, name: fc, out_features: 10}
"""

# code: conv1 3x3 pad 1: 4x12x12, 3*3*1*4+4 = 40 params, 12*12*4 * 9 = 5,184 MACs;
#       avg 3x3/3 -> 4x4x4 = 64 (pooling: no MACs in the convention);
#       fc1 64 -> 16: 64*16+16 = 1,040 params, 1,024 MACs; relu; fc2 16 -> 10: 170 params, 160 MACs.
CODE = HEAD.format(id="tiny-code", variant="code", other="tiny-prose") + """\
  - {kind: conv, name: conv1, out_channels: 4, kernel: 3, padding: 1}
  - {kind: relu}
  - {kind: avgpool, name: pool1, kernel: 3}
  - {kind: flatten}
  - {kind: linear, name: fc1, out_features: 16}
  - {kind: relu}
  - {kind: linear, name: fc2, out_features: 10}
"""


def _analyse(text: str) -> Analysis:
    return analyse(spec_from_text(text))


def test_code_vs_prose_layer_by_layer() -> None:
    prose, code = _analyse(PROSE), _analyse(CODE)
    d = code_vs_prose(code, prose)
    assert (d.left, d.right) == ("tiny-prose", "tiny-code")  # the code read as a change of the prose
    assert d.inputs is None
    assert [(r.left.name if r.left else None, r.right.name if r.right else None) for r in d.rows] == [
        ("conv1", "conv1"), ("fc", "fc1"), (None, "fc2")]  # name first, then order; fc2 only in the code

    conv = d.rows[0]
    assert conv.left and conv.right
    assert {(p.what, p.left, p.right) for p in conv.parts} == {
        ("kernel", "5x5", "3x3"), ("padding", "0", "1"), ("pooling", "max 2x2/2", "avg 3x3/3")}
    assert (conv.left.output_shape, conv.right.output_shape) == ((4, 8, 8), (4, 12, 12))
    assert (conv.left.params, conv.right.params, conv.d_params) == (104, 40, -64)
    assert (conv.left.macs, conv.right.macs, conv.d_macs) == (6_400, 5_184, -1_216)

    fc = d.rows[1]
    assert {(p.what, p.left, p.right) for p in fc.parts} == {("features", "10", "16"), ("activation", "none", "ReLU")}
    assert (fc.d_params, fc.d_macs) == (1_040 - 650, 1_024 - 640)

    extra = d.rows[2]
    assert [(p.what, p.left) for p in extra.parts] == [("presence", "absent")]
    assert (extra.d_params, extra.d_macs) == (170, 160)

    totals = {t.what: (t.left, t.right, t.delta) for t in d.totals}
    assert totals["params"] == (104 + 650, 40 + 1_040 + 170, 496)
    assert totals["MACs"] == (6_400 + 640, 5_184 + 1_024 + 160, -672)
    assert totals["neurons"] == (4 * 8 * 8 + 10, 4 * 12 * 12 + 16 + 10, 576 + 26 - 266)


def test_identical_readings_part_nowhere() -> None:
    prose = _analyse(PROSE)
    d = code_vs_prose(prose, prose)
    assert d.identical and all(r.d_params == 0 and r.d_macs == 0 for r in d.rows)


def test_align_pairs_by_name_before_order() -> None:
    layers = "  - {{kind: conv, name: {a}, out_channels: 2, kernel: 3}}\n  - {{kind: conv, name: {b}, out_channels: 2, kernel: 3}}\n" \
             "  - {{kind: flatten}}\n  - {{kind: linear, name: out, out_features: 10}}\n"
    left = blocks(_analyse(spec_text(layers.format(a="p", b="q"), input="[1, 8, 8]")))
    right = blocks(_analyse(spec_text(layers.format(a="q", b="r"), input="[1, 8, 8]")))
    pairs = [(a.name if a else None, b.name if b else None) for a, b in align(left, right)]
    assert pairs == [("p", "r"), ("q", "q"), ("out", "out")]


def test_the_diff_renders_in_the_terminal() -> None:
    console = Console(width=200, record=True)
    console.print(diff_table(code_vs_prose(_analyse(CODE), _analyse(PROSE))))
    text = console.export_text()
    for fragment in ("tiny-prose → tiny-code", "kernel: 5x5 → 3x3", "pooling: max 2x2/2 → avg 3x3/3", "-1,216", "+496"):
        assert fragment in text


def _paper(run: AuditRun) -> Analysis:
    return next(a.analysis for a in run.audits if a.spec.id == PAPER_ID)


def test_lenet_deviates_from_the_paper_almost_everywhere(shipped_run: AuditRun) -> None:
    devs = {d.feature: (d.paper, d.spec, d.status) for d in paper_deviations(_analyse(spec_text(LENET)), _paper(shipped_run))}
    # The paper: 227x227x3; 5 conv + 3 FC; conv1 11x11/4; ReLU everywhere; LRN after conv1, conv2;
    # groups=2 in conv2, conv4, conv5; overlapping 3x3/2 max pools after conv1, conv2, conv5;
    # FC 4096, 4096 with dropout 0.5; 1000 classes. helpers.LENET has none of that.
    assert devs == {
        "input": ("227x227x3", "32x32x3", "changes"),
        "depth": ("5 conv + 3 FC", "2 conv + 3 FC", "changes"),
        "first conv kernel": ("11x11, stride 4", "5x5, stride 1", "changes"),
        "activation after conv layers": ("ReLU after all 5", "ReLU after all 2", "changes"),
        "activation after hidden FC layers": ("ReLU after all 2", "ReLU after all 2", "keeps"),
        "normalisation": ("LRN after conv 1, 2", "none", "drops"),
        "grouped convolutions": ("groups=2 in conv 2, 4, 5", "none (every kernel sees all input maps)", "drops"),
        "pooling": ("max 3x3/2 after conv 1, 2, 5", "max 2x2/2 after conv 1, 2", "changes"),
        "overlapping pooling": ("all of 3 windows overlap", "none of 2 windows overlap", "drops"),
        "hidden FC width": ("4096, 4096", "120, 84", "changes"),
        "dropout": ("dropout 0.5 after FC 1, 2", "none", "drops"),
        "classes": ("1000", "10", "changes"),
    }


def test_batchnorm_for_lrn_is_a_replacement_and_the_paper_keeps_itself(shipped_run: AuditRun) -> None:
    paper = _paper(shipped_run)
    assert all(d.status == "keeps" for d in paper_deviations(paper, paper))
    text = spec_text(LENET.replace("  - {kind: relu}\n  - {kind: maxpool, name: pool1",
                                   "  - {kind: relu}\n  - {kind: batchnorm}\n  - {kind: maxpool, name: pool1")
                     .replace("{kind: conv, name: conv2, out_channels: 16, kernel: 5}", "{kind: conv, name: conv2, out_channels: 16, kernel: 5, groups: 2}")
                     .replace("{kind: linear, name: fc1, out_features: 120}\n  - {kind: relu}",
                              "{kind: linear, name: fc1, out_features: 120}\n  - {kind: tanh}"))
    devs = {d.feature: (d.spec, d.status) for d in paper_deviations(_analyse(text), paper)}
    assert devs["normalisation"] == ("BatchNorm after conv 1", "replaces")
    assert devs["grouped convolutions"] == ("groups=2 in conv 2", "changes")
    assert devs["activation after hidden FC layers"] == ("ReLU/tanh after all 2", "changes")
    console = Console(width=200, record=True)
    console.print(deviations_table([("lenet", paper_deviations(_analyse(text), paper))]))
    assert "replaces" in console.export_text()


def test_resnet18_pooling_is_placed_on_the_main_data_path(shipped_run: AuditRun) -> None:
    # ResNet-18's convs in order: 1 the stem; layer1 2-5; per later stage a 3x3, a 3x3, the 1x1
    # downsample, a 3x3, a 3x3 (layer4: 16, 17, 18, 19, 20). The adaptive avg pool follows layer4.1's
    # residual add: conv 20 ends that block's residual branch (one merge away); conv 17 and the
    # downsample 18 reach it only through layer4.0's add and layer4.1's identity shortcut (two merges).
    resnet = next(a.analysis for a in shipped_run.audits if a.spec.id == "torchvision-resnet18")
    devs = {d.feature: d.spec for d in paper_deviations(resnet, _paper(shipped_run))}
    assert devs["pooling"] == f"max 3x3/2 pad 1 after conv 1; adaptive avg pool after conv {1 + 4 + 3 * 5}"
    # GoogLeNet's concatenations have no main path: a pool after one is placed after each branch's last conv
    googlenet = next(a.analysis for a in shipped_run.audits if a.spec.id == "torchvision-googlenet")
    pooling = {d.feature: d.spec for d in paper_deviations(googlenet, _paper(shipped_run))}["pooling"]
    # 3 stem convs, then 6 per inception: inception5b's branches end at its convs 52, 54, 56, 57 = 3 + 6 * 9
    assert pooling.endswith(f"adaptive avg pool after conv 52, 54, 56, {3 + 6 * 9}")
