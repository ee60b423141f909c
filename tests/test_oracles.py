"""Peer tools as oracles: torchinfo, thop and ptflops measure the same built networks.

For every shipped spec and for random networks, per-layer output shapes and parameter counts
must equal torchinfo's, and conv/linear MACs must equal thop's (and so fvcore's and the closed
form's). Where a peer counts by another definition, the difference is a formula checked exactly
(tests/peer_oracles.py writes each out).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pytest
from hypothesis import given, note

from alexnet_audit.analysis import Analysis, analyse
from alexnet_audit.audit import AuditRun
from alexnet_audit.spec import load_spec, spec_from_text

from conftest import ROOT
from helpers import spec_text
from peer_oracles import Peers, check_against_peers, measure_with_peers, ptflops_figure, torchinfo_figure, unpadded_pool_inputs
from strategies import Net, nets

SPEC_PATHS = sorted((ROOT / "specs").glob("*.yaml"))


# ---------------------------------------------------------------- shipped specs


@lru_cache(maxsize=None)
def _shipped_peers(path: Path) -> Peers:
    return measure_with_peers(load_spec(path))


def _shipped(run: AuditRun, path: Path) -> Analysis:
    for broken in run.broken:
        assert Path(broken.path) != path, f"shipped spec is broken: {broken.error}"
    return next(a.analysis for a in run.audits if Path(a.spec.path) == path)


# Three small shipped specs, on both devices: LeCun's subsampling, RBF output and tanh
# (paper-lenet5-1998); TensorFlow SAME pads, an LRN (nn.LocalResponseNorm, as for `lrn`), max
# pooling and dropout (seed004-tf1-code); average pooling and ReLU (seed002-lenet5-code). The
# random networks and graphs below compare both devices on every example, drawn from the other
# kinds of tests/strategies.py: BatchNorm, adaptive and global pooling, the other activations,
# softmax, groups, dilation, and the residual, inception and dense blocks.
REAL_CHECKED = ("paper-lenet5-1998", "seed004-tf1-code", "seed002-lenet5-code")


@pytest.mark.parametrize("stem", REAL_CHECKED)
def test_peers_count_the_same_on_meta_as_on_real_tensors(stem: str) -> None:
    spec = load_spec(ROOT / "specs" / f"{stem}.yaml")
    assert measure_with_peers(spec, "meta") == measure_with_peers(spec, "cpu")


@pytest.mark.parametrize("path", SPEC_PATHS, ids=lambda p: p.stem)
def test_shipped_spec_agrees_with_torchinfo_thop_and_ptflops(path: Path, shipped_run: AuditRun) -> None:
    a = _shipped(shipped_run, path)
    assert a.disagreements == ()
    check_against_peers(a, _shipped_peers(path))


@pytest.mark.parametrize("path", SPEC_PATHS, ids=lambda p: p.stem)
def test_diagnosistorchinfo_figure_is_torchinfos_total(path: Path, shipped_run: AuditRun) -> None:
    a = _shipped(shipped_run, path)
    assert torchinfo_figure(a, None) == _shipped_peers(path).torchinfo_macs


@pytest.mark.parametrize("path", SPEC_PATHS, ids=lambda p: p.stem)
def test_diagnosistorchinfo_figure_per_weighted_layer(path: Path, shipped_run: AuditRun) -> None:
    a = _shipped(shipped_run, path)
    peers = _shipped_peers(path)
    for lr in a.layers:
        if lr.kind in ("conv", "linear"):
            assert torchinfo_figure(a, lr.name) == peers.layer(lr.name).torchinfo_macs, lr.name


@pytest.mark.parametrize("path", SPEC_PATHS, ids=lambda p: p.stem)
def test_diagnosisptflops_figure_differs_from_ptflops_only_by_pool_padding(path: Path, shipped_run: AuditRun) -> None:
    """ptflops counts the elements entering each pooling module: for TF SAME pooling the tool pads
    explicitly before the pool (asymmetric pads; always for average pooling), so ptflops also
    counts the padding cells, which the diagnosis's figure (unpadded pool inputs) does not."""
    a = _shipped(shipped_run, path)
    peers = _shipped_peers(path)
    assert peers.ptflops_macs - ptflops_figure(a) == peers.pool_inputs - unpadded_pool_inputs(a)


# ---------------------------------------------------------------- random networks


@given(net=nets())
def test_random_network_agrees_with_peers(net: Net) -> None:
    _agrees_with_peers(net)


@given(net=nets(graphs=True))
def test_random_graph_agrees_with_peers(net: Net) -> None:
    _agrees_with_peers(net)


def _agrees_with_peers(net: Net) -> None:
    note(net.text)
    a = analyse(spec_from_text(net.text, "fuzz.yaml"))
    assert a.disagreements == ()
    peers = measure_with_peers(a.spec, "cpu")  # a small network: the peers run on real tensors, as their users run them
    assert measure_with_peers(a.spec) == peers  # and count the same on meta, as they do for the shipped specs
    assert [p.output_shape for p in peers.layers] == list(net.shapes)  # torchinfo agrees with the hand shapes
    check_against_peers(a, peers)
    assert torchinfo_figure(a, None) == peers.torchinfo_macs
    assert peers.ptflops_macs - ptflops_figure(a) == peers.pool_inputs - unpadded_pool_inputs(a)


# ---------------------------------------------------------------- hand-computed cases for the formulas themselves


def test_peer_formulas_on_a_hand_computed_network() -> None:
    """conv 3->4 k3 (bias) on 3x6x6 -> 4x4x4; ReLU; BN; maxpool 2 -> 4x2x2; flatten 16; linear 16->5 (no bias)."""
    text = spec_text("""  - {kind: conv, name: c, out_channels: 4, kernel: 3}
  - {kind: relu, name: r}
  - {kind: batchnorm, name: b}
  - {kind: maxpool, name: p, kernel: 2}
  - {kind: flatten, name: f}
  - {kind: linear, name: fc, out_features: 5, bias: false}
""", input="[3, 6, 6]", classes=5, id="hand")
    a = analyse(spec_from_text(text))
    peers = measure_with_peers(a.spec)
    conv, fc = 4 * 4 * 4 * 3 * 3 * 3, 16 * 5  # 1,728 and 80 MACs
    assert peers.layer("c").thop_ops == conv and peers.layer("fc").thop_ops == fc
    assert peers.layer("c").torchinfo_macs == conv + 64  # + one bias add per output
    assert peers.torchinfo_macs == conv + 64 + fc + 2 * 4  # + BatchNorm's 2*C
    assert peers.torchinfo_params == 4 * 27 + 4 + 2 * 4 + 16 * 5
    assert a.totals.macs == conv + fc + 2 * 64  # fvcore: BatchNorm 2 per element
    assert peers.ptflops_macs == conv + 64 + 64 + 2 * 64 + 64 + fc  # bias, ReLU, BN, pooled inputs


def test_diagnosistorchinfo_figure_with_batchnorm() -> None:
    text = spec_text("""  - {kind: conv, name: c, out_channels: 4, kernel: 3}
  - {kind: batchnorm, name: b}
  - {kind: flatten}
  - {kind: linear, name: fc, out_features: 5}
""", input="[3, 6, 6]", classes=5, id="bn")
    a = analyse(spec_from_text(text))
    # torchinfo by hand: conv 1,728 + 64 bias adds; BN 2 * 4; linear 64 * 5 + 5
    assert torchinfo_figure(a, None) == 1728 + 64 + 8 + 320 + 5


def test_diagnosisptflops_figure_counts_a_first_layer_pool() -> None:
    text = spec_text("""  - {kind: maxpool, name: p, kernel: 2}
  - {kind: flatten}
  - {kind: linear, name: fc, out_features: 5}
""", input="[3, 4, 4]", classes=5, id="pool-first")
    a = analyse(spec_from_text(text))
    # ptflops by hand: 48 elements enter the pool; linear 12 * 5 MACs + 5 bias adds
    assert ptflops_figure(a) == 48 + 60 + 5


def test_graph_spec_agrees_with_peers() -> None:
    """A residual block with a projection shortcut and an Inception-like concat, by the peers."""
    text = spec_text("""  - {kind: conv, name: stem, out_channels: 4, kernel: 3, padding: 1}
  - block: res
    branches:
      - [{kind: conv, name: a, out_channels: 6, kernel: 3, stride: 2, padding: 1, bias: false}, {kind: batchnorm, name: bn},
         {kind: relu, name: r}, {kind: conv, name: b, out_channels: 6, kernel: 3, padding: 1}]
      - [{kind: conv, name: proj, out_channels: 6, kernel: 1, stride: 2}]
    merge: add
  - {kind: relu, name: r2}
  - block: mix
    branches:
      - [{kind: conv, name: one, out_channels: 2, kernel: 1}]
      - [{kind: maxpool, name: pool, kernel: 3, stride: 1, padding: 1}]
      - []
    merge: concat
  - {kind: flatten}
  - {kind: linear, name: fc, out_features: 5}
""", input="[3, 8, 8]", classes=5, id="graph")
    a = analyse(spec_from_text(text))
    peers = measure_with_peers(a.spec)
    check_against_peers(a, peers)
    # res.a 8 -> (8 + 2 - 3) // 2 + 1 = 4; mix: 2 + 6 + 6 = 14 channels at 4x4; fc 14*16 -> 5
    assert peers.layer("mix.concat_1").output_shape == (14, 4, 4)
    assert peers.layer("fc").params == 14 * 16 * 5 + 5
    assert peers.pool_inputs == 6 * 4 * 4  # the pool sees res's output, not the conv written before it
    assert ptflops_figure(a) == peers.ptflops_macs
