"""torchinfo, thop and ptflops as peers: their figures for a built spec, and the checks that tie
them to the tool's own counts, shared by the tests that use the peers as oracles.

Where a peer counts by another definition, the difference is a formula, checked exactly:

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
import warnings
from dataclasses import dataclass
from typing import Any

import torch
from ptflops import get_model_complexity_info
from torch import nn
from torchinfo import summary

with warnings.catch_warnings():  # thop imports distutils' LooseVersion
    warnings.simplefilter("ignore", DeprecationWarning)
    import thop

from alexnet_audit.analysis import Analysis
from alexnet_audit.build import build_model
from alexnet_audit.diagnose import peer_mac_figures
from alexnet_audit.figures import rows_from_analysis
from alexnet_audit.spec import Spec

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


def torchinfo_figure(a: Analysis, target: str | None) -> int:
    figures = peer_mac_figures(rows_from_analysis(a), a.spec, target)
    return next(value for label, value in figures if label.startswith("torchinfo"))


def ptflops_figure(a: Analysis) -> int:
    figures = peer_mac_figures(rows_from_analysis(a), a.spec, None)
    return next(value for label, value in figures if label.startswith("ptflops"))


def unpadded_pool_inputs(a: Analysis) -> int:
    """Elements entering each max/avg pool layer as the spec's previous layer outputs them."""
    return sum(math.prod(lr.input_shape) for lr in a.layers if lr.kind in ("maxpool", "avgpool", "global_maxpool"))
