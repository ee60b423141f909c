"""The five posts' claims: how many each seed holds, and every failing one pinned.

Each failing claim is pinned with its verdict, its first diagnosis and the true figure, which
the test computes by hand from the post's own layer sizes (never read back from the tool).
A claim dropped from a spec, a new failure, or a failure that goes away shows here.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from alexnet_audit.audit import AuditRun

# ---------------------------------------------------------------- per seed: claims and verdicts

PER_SEED = {
    "000_7b2e40ebace9b455.txt": {"holds": 35, "fails": 4, "ambiguous": 0, "unverifiable": 5},
    "001_064323bdb59b6484.txt": {"holds": 55, "fails": 27, "ambiguous": 0, "unverifiable": 7},
    "002_c1e88c9ea5899ef2.txt": {"holds": 51, "fails": 6, "ambiguous": 0, "unverifiable": 13},
    "003_d71b9f1d5dd3f21e.txt": {"holds": 28, "fails": 4, "ambiguous": 0, "unverifiable": 4},
    "004_c338b316e2a88ea6.txt": {"holds": 12, "fails": 3, "ambiguous": 0, "unverifiable": 5},
}


def test_every_seed_has_specs_and_its_claim_counts(shipped_run: AuditRun) -> None:
    counts: dict[str, Counter[str]] = {}
    for audit in shipped_run.audits:
        counts.setdefault(audit.spec.doc.source.seed, Counter()).update(c.verdict.value for c in audit.claims)
    seeds = {seed: {v: counts[seed][v] for v in ("holds", "fails", "ambiguous", "unverifiable")}
             for seed in counts if seed.endswith(".txt")}
    assert seeds == PER_SEED


# ---------------------------------------------------------------- every failing claim, by hand

# The paper's layout at 224 with conv1 padded 2 (the seed 000/001 prose specs): conv and FC MACs
PAPER_MACS = (55 * 55 * 96 * 11 * 11 * 3 + 27 * 27 * 256 * 5 * 5 * 48 + 13 * 13 * 384 * 3 * 3 * 256
              + 13 * 13 * 384 * 3 * 3 * 192 + 13 * 13 * 256 * 3 * 3 * 192 + 9216 * 4096 + 4096 * 4096 + 4096 * 1000)
PAPER_NEURONS = 55 * 55 * 96 + 27 * 27 * 256 + 2 * 13 * 13 * 384 + 13 * 13 * 256 + 4096 + 4096 + 1000
PAPER_PARAMS = 60_965_224

# Seed 001's Keras code as written: 'valid' everywhere, conv2 11x11, 2x2 pools, BatchNorm after each block.
#   224 -conv1 11/4-> 54 -pool 2/2-> 27 -conv2 11-> 17 -pool-> 8 -conv3 3-> 6 -conv4 3-> 4 -conv5 3-> 2 -pool-> 1
K_SIDES = {"conv1": 54, "pool1": 27, "conv2": 17, "pool2": 8, "conv3": 6, "conv4": 4, "conv5": 2, "pool5": 1}
K_CONV = [(11 * 11 * 3 * 96 + 96, 96), (11 * 11 * 96 * 256 + 256, 256), (3 * 3 * 256 * 384 + 384, 384),
          (3 * 3 * 384 * 384 + 384, 384), (3 * 3 * 384 * 256 + 256, 256)]
K_FC = [(1 * 1 * 256 * 4096 + 4096, 4096), (4096 * 4096 + 4096, 4096), (4096 * 1000 + 1000, 1000)]
K_PARAMS = sum(p + 2 * c for p, c in K_CONV + K_FC) + 1000 * 17 + 17  # each block's BatchNorm: gamma and beta
K_NEURONS = (54 * 54 * 96 + 17 * 17 * 256 + 6 * 6 * 384 + 4 * 4 * 384 + 2 * 2 * 256 + 4096 + 4096 + 1000 + 17)


def hwc(side: int, channels: int) -> str:
    return f"{side}x{side}x{channels}"


FAILING: dict[tuple[str, str], tuple[Any, str]] = {
    # (spec, claim): (the true figure by hand, the first diagnosis)
    ("seed000-alexnet-prose", "connections"): (PAPER_MACS, "unexplained"),
    ("seed000-alexnet-prose", "neurons"): (PAPER_NEURONS, "unexplained"),
    ("seed000-alexnet-prose", "conv-params-under-1-percent-conv3"): (f"{(3 * 3 * 256 * 384 + 384) / PAPER_PARAMS:.2%}", None),
    ("seed000-alexnet-prose", "conv-params-under-1-percent-conv4"): (f"{(3 * 3 * 192 * 384 + 384) / PAPER_PARAMS:.2%}", None),
    ("seed001-keras-code", "conv1-kernel-count"): ({"out_channels": 96}, "half_channels"),
    ("seed001-keras-code", "conv1-width-formula"): ((224 - 11) // 4 + 1, "padding_needed"),
    ("seed001-keras-code", "conv1-shape"): (hwc((224 - 11) // 4 + 1, 96), "input_size"),
    ("seed001-keras-code", "conv2-input"): (hwc((54 - 2) // 2 + 1, 96), "unexplained"),
    ("seed001-keras-code", "conv2-kernel"): ({"kernel": 11}, "code_vs_prose"),
    ("seed001-keras-code", "conv2-kernel-count"): ({"out_channels": 256}, "half_channels"),
    ("seed001-keras-code", "conv2-shape"): (hwc(27 - 11 + 1, 256), "padding"),
    ("seed001-keras-code", "pool2-shape"): (hwc((17 - 2) // 2 + 1, 256), "padding"),
    ("seed001-keras-code", "conv3-shape"): (hwc(K_SIDES["conv3"], 384), "code_vs_prose"),
    ("seed001-keras-code", "conv4-shape"): (hwc(K_SIDES["conv4"], 384), "code_vs_prose"),
    ("seed001-keras-code", "conv5-shape"): (hwc(K_SIDES["conv5"], 256), "code_vs_prose"),
    ("seed001-keras-code", "pool5-shape"): (hwc(K_SIDES["pool5"], 256), "code_vs_prose"),
    ("seed001-keras-code", "fc6-input"): (hwc(K_SIDES["pool5"], 256), "carried_forward"),
    ("seed001-keras-code", "fc8-neurons"): (1000, "other_layer"),
    ("seed001-keras-code", "total-params"): (K_PARAMS, "code_vs_prose"),
    ("seed001-keras-code", "neurons"): (K_NEURONS, "unexplained"),
    ("seed001-keras-code", "fc-count"): (4, "code_vs_prose"),  # the code adds Dense(17) after fc8
    ("seed001-keras-code", "weighted-layer-count"): (5 + 4, "code_vs_prose"),
    ("seed001-keras-code", "overlapping-pooling"): (["pool1: kernel 2, stride 2", "pool2: kernel 2, stride 2", "pool5: kernel 2, stride 2"], "code_vs_prose"),
    ("seed001-keras-code", "dropout-rate"): (["drop6: p=0.4", "drop7: p=0.4", "drop8: p=0.4"], "code_vs_prose"),
    ("seed001-keras-code", "uses-lrn"): ([], "code_vs_prose"),
    ("seed001-keras-prose", "conv1-kernel-count"): ({"out_channels": 96}, "half_channels"),
    ("seed001-keras-prose", "conv2-input"): (hwc((55 - 3) // 2 + 1, 96), "other_layer"),
    ("seed001-keras-prose", "conv2-kernel-count"): ({"out_channels": 256}, "half_channels"),
    ("seed001-keras-prose", "conv4-shape"): (hwc(13, 384), "digit_slip"),
    ("seed001-keras-prose", "fc8-neurons"): (1000, "other_layer"),
    ("seed001-keras-prose", "neurons"): (PAPER_NEURONS, "unexplained"),
    ("seed002-alexnet-table", "conv3-params"): (3 * 3 * 256 * 384 + 384, "arithmetic_slip"),
    ("seed002-alexnet-table", "fc6-params"): (6 * 6 * 256 * 4096 + 4096, "bias_left_out"),
    ("seed002-alexnet-table", "fc7-params"): (4096 * 4096 + 4096, "bias_left_out"),
    ("seed002-alexnet-table", "fc8-params"): (4096 * 1000 + 1000, "bias_left_out"),
    ("seed002-lenet5-code", "input-size"): ("28x28", "code_vs_prose"),
    ("seed002-lenet5-code", "maxpool-count"): (0, "code_vs_prose"),  # the code pools with AvgPool2d
    ("seed003-alexnet-code", "fc6-neurons"): (2048, "code_vs_prose"),
    ("seed003-alexnet-code", "fc7-neurons"): (2048, "code_vs_prose"),
    ("seed003-alexnet-code", "dropout-placement"): (["conv5", "fc6"], "code_vs_prose"),  # Dropout sits before fc6 and fc7
    ("seed003-alexnet-code", "uses-lrn"): ([], "code_vs_prose"),
    ("seed004-tf1-code", "input-size"): ("224x224x3", "digit_slip"),
    ("seed004-tf1-code", "relu-activation"): (["fc6", "fc7"], None),  # tf.nn.relu only after fc6 and fc7
    ("seed004-tf1-code", "conv1-shape-as-paper"): (hwc((224 - 11) // 4 + 1, 96), "input_size"),
    ("torchvision-alexnet", "gflops"): (2 * 714_197_696, "macs_as_flops"),
}


def test_the_failing_claims_are_exactly_the_pinned_ones(shipped_run: AuditRun) -> None:
    failing = {(a.spec.id, c.id) for a in shipped_run.audits for c in a.claims if c.verdict.value == "fails"}
    assert failing == set(FAILING)


@pytest.mark.parametrize("spec_id, claim_id", sorted(FAILING))
def test_failing_claim_figure_and_first_diagnosis(spec_id: str, claim_id: str, shipped_run: AuditRun) -> None:
    audit = next(a for a in shipped_run.audits if a.spec.id == spec_id)
    claim = next(c for c in audit.claims if c.id == claim_id)
    true_figure, first = FAILING[(spec_id, claim_id)]
    assert claim.verdict.value == "fails"
    assert claim.measured == true_figure
    assert (claim.diagnoses[0].code if claim.diagnoses else None) == first


def test_the_dropped_digit_story(shipped_run: AuditRun) -> None:
    audit = next(a for a in shipped_run.audits if a.spec.id == "seed002-alexnet-table")
    claim = next(c for c in audit.claims if c.id == "conv3-params")
    assert claim.measured == 3 * 3 * 256 * 384 + 384 == 885_120
    assert "evaluates to 885,120, not the 88,512 it states" in claim.diagnosis
    assert "a digit dropped" in claim.diagnosis
