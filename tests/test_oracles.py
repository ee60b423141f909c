"""Peer tools as oracles: torchinfo, thop and ptflops measure the same built networks.

For every shipped spec and for random networks, per-layer output shapes and parameter counts
must equal torchinfo's, and conv/linear MACs must equal thop's (and so fvcore's and the closed
form's). Where a peer counts by another definition, the difference is written out as a formula
and checked exactly:

- torchinfo's Mult-Adds add one add per bias output on conv/linear layers, and count a
  BatchNorm layer as its 2*C parameters (times the batch of 1):
      torchinfo = sum_conv/linear (MACs + [bias] * output numel) + sum_BN 2 * C
- ptflops (module hooks, count_functional=False) adds the bias outputs, one op per ReLU (leaky,
  ReLU6, ELU, GELU) output, one per element entering each max/average pooling module (global
  max pooling too), 2 per BatchNorm element and one per adaptive-pool input element (the last
  two as fvcore does):
      ptflops - ours = bias outputs + ReLU outputs + elements entering max/avg pooling modules
                       - MACs of subsampling layers (a custom module none of the peers has a rule for)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
import warnings
from typing import Any

import pytest
import torch
from hypothesis import given, note
from torch import nn
from ptflops import get_model_complexity_info
from torchinfo import summary

with warnings.catch_warnings():  # thop imports distutils' LooseVersion
    warnings.simplefilter("ignore", DeprecationWarning)
    import thop

from alexnet_audit.analysis import Analysis, analyse
from alexnet_audit.audit import AuditRun
from alexnet_audit.build import build_model
from alexnet_audit.diagnose import peer_mac_figures
from alexnet_audit.figures import rows_from_analysis
from alexnet_audit.spec import Spec, load_spec, spec_from_text

from conftest import ROOT
from helpers import spec_text
from strategies import Net, nets

SPEC_PATHS = sorted((ROOT / "specs").glob("*.yaml"))
POOLS = (nn.MaxPool2d, nn.AvgPool2d, nn.AdaptiveMaxPool2d)  # what ptflops counts the inputs of, beyond ours
PTFLOPS_ACTIVATIONS = ("relu", "leaky_relu", "relu6", "elu", "gelu")  # one op per output; not hardswish or tanh


@dataclass(frozen=True)
class PeerLayer:
    """One of the network's named layers as torchinfo (and thop) see it."""

    name: str
    output_shape: tuple[int, ...]
    params: int
    trainable: int
    torchinfo_macs: int  # summed over the leaf modules inside it (a padded layer wraps its conv)
    thop_ops: int


@dataclass(frozen=True)
class Peers:
    layers: tuple[PeerLayer, ...]
    torchinfo_macs: int
    torchinfo_params: int
    pool_inputs: int  # elements entering every nn.MaxPool2d / nn.AvgPool2d module (what ptflops counts)
    ptflops_macs: int

    def layer(self, name: str) -> PeerLayer:
        return next(layer for layer in self.layers if layer.name == name)


NODE_DEPTH = 2  # SpecNet > nodes (a ModuleList) > one module per spec node


def _torchinfo(model: nn.Module, input_shape: tuple[int, ...], device: str) -> tuple[list[tuple[Any, int]], int, int]:
    """(node info, MACs of its leaves) in order, plus torchinfo's totals."""
    stats = summary(model, input_size=(1, *input_shape), verbose=0, device=device)
    out: list[tuple[Any, int]] = []
    for info in stats.summary_list:
        if info.depth == NODE_DEPTH:
            out.append((info, info.macs if info.is_leaf_layer else 0))
        elif info.depth > NODE_DEPTH and info.is_leaf_layer:
            out[-1] = (out[-1][0], out[-1][1] + info.macs)
    return out, int(stats.total_mult_adds), int(stats.total_params)


def _pool_inputs(model: nn.Module, x: torch.Tensor) -> int:
    seen: list[int] = []
    hooks = [m.register_forward_pre_hook(lambda _m, args: seen.append(args[0].numel()))
             for m in model.modules() if isinstance(m, POOLS)]
    try:
        with torch.no_grad():
            model(x)
    finally:
        for hook in hooks:
            hook.remove()
    return sum(seen)


def _ptflops(model: nn.Module, x: torch.Tensor) -> int:
    with torch.no_grad():
        macs, _ = get_model_complexity_info(model, tuple(x.shape[1:]), as_strings=False, print_per_layer_stat=False,
                                            input_constructor=lambda _shape: x,
                                            backend="pytorch", backend_specific_config={"count_functional": False})
    return int(macs)


def measure_with_peers(spec: Spec, device: str = "meta") -> Peers:
    """Peers count structure, not weights: the tool's model is built on the meta device (no
    initialisation to compute, which takes seconds for AlexNet). By default the peers run there
    too, from their own hooks on shapes alone (no convolution is computed);
    test_peers_count_the_same_on_meta_as_on_real_tensors shows that this changes none of their
    figures. device="cpu" gives the model real, unset memory and the peers a real input."""
    shape = tuple(spec.doc.input)
    with torch.device("meta"):
        model = build_model(spec)
    if device != "meta":
        model = model.to_empty(device=device)
    model.eval()
    x = torch.zeros(1, *shape, device=device)
    infos, ti_macs, ti_params = _torchinfo(model, shape, device)
    pooled = _pool_inputs(model, x)
    pt = _ptflops(model, x)
    with torch.no_grad():
        _, _, per_child = thop.profile(model, inputs=(x,), verbose=False, ret_layer_info=True)
    per_node = per_child["nodes"][2]
    layers = tuple(
        PeerLayer(model.names[int(info.var_name)], tuple(info.output_size[1:]), info.num_params, info.trainable_params,
                  macs, int(per_node[info.var_name][0]))
        for info, macs in infos
    )
    return Peers(layers, ti_macs, ti_params, pooled, pt)


def _bias(spec: Spec) -> dict[str, bool]:
    """Which conv/linear layers have a bias, as the spec writes it (default: yes)."""
    return {layer.name: bool(getattr(layer.spec, "bias", True)) for layer in spec.layers
            if layer.spec.kind in ("conv", "linear")}


# ---------------------------------------------------------------- the checks, shared by shipped and random specs


def check_against_peers(a: Analysis, peers: Peers) -> None:
    spec = a.spec
    bias = _bias(spec)
    assert [p.name for p in peers.layers] == [lr.name for lr in a.layers]
    for lr in a.layers:
        p = peers.layer(lr.name)
        assert lr.output_shape == p.output_shape, lr.name
        assert lr.params == p.params == p.trainable, lr.name
        if lr.kind in ("conv", "linear"):
            # thop counts conv/linear MACs without bias adds: exactly fvcore's and the closed form's count
            assert p.thop_ops == lr.macs == lr.macs_closed_form == lr.macs_flop_counter, lr.name
            assert p.torchinfo_macs - lr.macs == (math.prod(p.output_shape) if bias[lr.name] else 0), lr.name
    assert peers.torchinfo_params == a.totals.trainable_params
    weighted = [p for p in peers.layers if p.name in bias]
    bias_outputs = sum(math.prod(p.output_shape) for p in weighted if bias[p.name])
    bn_channels = sum(p.output_shape[0] for p, lr in zip(peers.layers, a.layers) if lr.kind == "batchnorm")
    assert peers.torchinfo_macs == sum(p.thop_ops for p in weighted) + bias_outputs + 2 * bn_channels
    relu_outputs = sum(math.prod(p.output_shape) for p, lr in zip(peers.layers, a.layers) if lr.kind in PTFLOPS_ACTIVATIONS)
    # LeCun's subsampling is a custom module: no peer has a rule for it, so they count none of its MACs
    custom = sum(lr.macs for lr in a.layers if lr.kind == "subsample")
    assert peers.ptflops_macs - a.totals.macs == bias_outputs + relu_outputs + peers.pool_inputs - custom


def _torchinfo_figure(a: Analysis, target: str | None) -> int:
    figures = peer_mac_figures(rows_from_analysis(a), a.spec, target)
    return next(value for label, value in figures if label.startswith("torchinfo"))


def _ptflops_figure(a: Analysis) -> int:
    figures = peer_mac_figures(rows_from_analysis(a), a.spec, None)
    return next(value for label, value in figures if label.startswith("ptflops"))


def _unpadded_pool_inputs(a: Analysis) -> int:
    """Elements entering each max/avg pool layer as the spec's previous layer outputs them."""
    return sum(math.prod(lr.input_shape) for lr in a.layers if lr.kind in ("maxpool", "avgpool", "global_maxpool"))


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
def test_diagnosis_torchinfo_figure_is_torchinfos_total(path: Path, shipped_run: AuditRun) -> None:
    a = _shipped(shipped_run, path)
    assert _torchinfo_figure(a, None) == _shipped_peers(path).torchinfo_macs


@pytest.mark.parametrize("path", SPEC_PATHS, ids=lambda p: p.stem)
def test_diagnosis_torchinfo_figure_per_weighted_layer(path: Path, shipped_run: AuditRun) -> None:
    a = _shipped(shipped_run, path)
    peers = _shipped_peers(path)
    for lr in a.layers:
        if lr.kind in ("conv", "linear"):
            assert _torchinfo_figure(a, lr.name) == peers.layer(lr.name).torchinfo_macs, lr.name


@pytest.mark.parametrize("path", SPEC_PATHS, ids=lambda p: p.stem)
def test_diagnosis_ptflops_figure_differs_from_ptflops_only_by_pool_padding(path: Path, shipped_run: AuditRun) -> None:
    """ptflops counts the elements entering each pooling module: for TF SAME pooling the tool pads
    explicitly before the pool (asymmetric pads; always for average pooling), so ptflops also
    counts the padding cells, which the diagnosis's figure (unpadded pool inputs) does not."""
    a = _shipped(shipped_run, path)
    peers = _shipped_peers(path)
    assert peers.ptflops_macs - _ptflops_figure(a) == peers.pool_inputs - _unpadded_pool_inputs(a)


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
    assert _torchinfo_figure(a, None) == peers.torchinfo_macs
    assert peers.ptflops_macs - _ptflops_figure(a) == peers.pool_inputs - _unpadded_pool_inputs(a)


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


def test_diagnosis_torchinfo_figure_with_batchnorm() -> None:
    text = spec_text("""  - {kind: conv, name: c, out_channels: 4, kernel: 3}
  - {kind: batchnorm, name: b}
  - {kind: flatten}
  - {kind: linear, name: fc, out_features: 5}
""", input="[3, 6, 6]", classes=5, id="bn")
    a = analyse(spec_from_text(text))
    # torchinfo by hand: conv 1,728 + 64 bias adds; BN 2 * 4; linear 64 * 5 + 5
    assert _torchinfo_figure(a, None) == 1728 + 64 + 8 + 320 + 5


def test_diagnosis_ptflops_figure_counts_a_first_layer_pool() -> None:
    text = spec_text("""  - {kind: maxpool, name: p, kernel: 2}
  - {kind: flatten}
  - {kind: linear, name: fc, out_features: 5}
""", input="[3, 4, 4]", classes=5, id="pool-first")
    a = analyse(spec_from_text(text))
    # ptflops by hand: 48 elements enter the pool; linear 12 * 5 MACs + 5 bias adds
    assert _ptflops_figure(a) == 48 + 60 + 5


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
    assert _ptflops_figure(a) == peers.ptflops_macs
