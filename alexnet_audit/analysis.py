"""Measure a built spec: shapes, parameters and MACs, by three independent counts.

fvcore's `FlopCountAnalysis` (TorchScript tracing) gives the MACs; the closed form of each layer
kind (layers.py) and PyTorch's `FlopCounterMode` check it on every conv and linear layer, so a
counter that breaks (fvcore relies on deprecated tracing) shows as a disagreement instead of a
wrong number. Everything lands in the frozen result objects of results.py.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from .build import build_meta
from .graph import NETWORK_INPUT, consumers, input_names
from .layers import COUNTED, EXCLUDED, Shape
from .modules import GlobalAvgPool2d, GlobalMaxPool2d, PartialConv2d, RBFUnits, SumPoolAffine
from .no_dynamo import without_dynamo_import
from .node_counts import NodeCount, NodeCounts, one_thread
from .plan import PlannedLayer, plan
from .results import WEIGHTED, Analysis, LayerResult, ModuleInfo, StageResult, Totals
from .spec import Spec


_CATEGORIES: tuple[tuple[type[nn.Module], str], ...] = (
    (PartialConv2d, "conv"), (SumPoolAffine, "subsample"), (RBFUnits, "rbf"), (GlobalAvgPool2d, "global_avgpool"),
    (GlobalMaxPool2d, "global_maxpool"), (nn.LeakyReLU, "leaky_relu"), (nn.ReLU6, "relu6"), (nn.Hardswish, "hardswish"),
    (nn.ELU, "elu"), (nn.GELU, "gelu"), (nn.ZeroPad2d, "zeropad"),
    (nn.Conv2d, "conv"), (nn.Linear, "linear"), (nn.MaxPool2d, "maxpool"), (nn.AvgPool2d, "avgpool"),
    (nn.AdaptiveAvgPool2d, "adaptive_avgpool"), (nn.LocalResponseNorm, "lrn"),
    (nn.modules.batchnorm._BatchNorm, "batchnorm"), (nn.ReLU, "relu"), (nn.Tanh, "tanh"),
    (nn.Sigmoid, "sigmoid"), (nn.Softmax, "softmax"), (nn.Dropout, "dropout"), (nn.Flatten, "flatten"),
)


def _padding(module: nn.Module, sub: nn.Module) -> tuple[int, int] | None:
    pads = getattr(module, "pads", None)  # layers.Padded / CountExcludingAvgPool: (l, r, t, b)
    if pads is not None:
        return (pads[2], pads[3])
    pad = getattr(sub, "padding", None)
    if pad is None or isinstance(pad, str):
        return None
    p = pad if isinstance(pad, int) else pad[0]
    return (p, p)


def _lrn_constants(sub: nn.Module) -> tuple[float, float, float, float] | None:
    """As the module holds them (tf.nn.lrn's converted), so judging compares them without torch."""
    if not isinstance(sub, nn.LocalResponseNorm):
        return None
    return (round(float(sub.size), 12), round(float(sub.alpha), 12), round(float(sub.beta), 12), round(float(sub.k), 12))


def module_info(name: str, module: nn.Module, inputs: tuple[str, ...] = (), feeds: tuple[int, ...] = ()) -> ModuleInfo:
    for sub in module.modules():
        for cls, category in _CATEGORIES:
            if isinstance(sub, cls):
                k = getattr(sub, "kernel_size", None)
                s = getattr(sub, "stride", None)
                return ModuleInfo(
                    name,
                    category,
                    kernel=(k if isinstance(k, int) else k[0]) if k is not None else None,
                    stride=(s if isinstance(s, int) else s[0]) if s is not None else None,
                    p=getattr(sub, "p", None),
                    groups=getattr(sub, "groups", None),
                    out_channels=getattr(sub, "out_channels", None),
                    padding=_padding(module, sub),
                    inputs=inputs,
                    feeds=feeds,
                    lrn=_lrn_constants(sub),
                )
    return ModuleInfo(name, type(module).__name__.lower(), inputs=inputs, feeds=feeds)


def receptive_fields(planned: tuple[PlannedLayer, ...]) -> list[tuple[int, int]]:
    """(receptive field, effective stride) after each node, along the height axis; where
    branches meet, the largest of each over the paths that arrive there."""
    seen: dict[str, tuple[int, int]] = {NETWORK_INPUT: (1, 1)}
    out = []
    for p in planned:
        arriving = [seen[n] for n in input_names(p.layer)]
        rf, jump = max(r for r, _ in arriving), max(j for _, j in arriving)
        step = p.layer.spec.rf_step(p.in_shape)
        seen[p.name] = (rf + (step.kernel - 1) * jump, jump * step.stride)
        out.append(seen[p.name])
    return out


def _param_counts(module: nn.Module) -> tuple[int, int, int]:
    trainable = sum(p.numel() for p in module.parameters() if p.requires_grad)
    bias = sum(p.numel() for n, p in module.named_parameters() if n.endswith("bias"))
    stats = sum(b.numel() for n, b in module.named_buffers() if n.endswith(("running_mean", "running_var")))
    return trainable, stats, bias


def analyse(spec: Spec, counts: NodeCounts | None = None) -> Analysis:
    """Measure `spec`. Raises AuditError for an impossible network (before allocating it).

    Counting needs no weights: the network is built on the meta device, where its parameters are
    counted; FlopCounterMode and fvcore then measure each node on uninitialised storage of its own
    (node_counts.py), fed inputs of the shapes the nodes before it measured. `counts`, shared by
    the specs of one run, measures each distinct node once.
    """
    planned = plan(spec)
    counts = counts if counts is not None else NodeCounts()
    # Building on meta runs PyTorch's Python device handling, and FlopCounterMode's dispatch is
    # wrapped for dynamo: neither needs torch._dynamo.
    with without_dynamo_import(), torch.no_grad(), one_thread():
        model = build_meta(spec, planned).eval()
        feeds = consumers(spec.layers)
        params: dict[str, tuple[int, int, int]] = {}
        infos: list[ModuleInfo] = []
        measured: dict[str, NodeCount] = {}
        given: dict[str, Shape] = {NETWORK_INPUT: tuple(spec.doc.input)}
        for (name, module), p in zip(model.named_layers(), planned):
            params[name] = _param_counts(module)
            infos.append(module_info(name, module, p.layer.inputs, feeds.get(name, ())))
            measured[name] = counts.count(module, tuple(given[n] for n in input_names(p.layer)), p.kind in WEIGHTED)
            given[name] = measured[name].output_shape

    layers: list[LayerResult] = []
    incomplete: list[str] = []
    disagreements: list[str] = []
    for p, (rf, jump) in zip(planned, receptive_fields(planned)):
        trainable, stats, bias = params[p.name]
        node = measured[p.name]
        macs = node.macs
        # Ops the convention leaves out by definition (ReLU, pooling, ...) are not "uncounted".
        uncounted = () if p.layer.spec.mac_rule == EXCLUDED else node.unsupported
        if uncounted:
            incomplete.append(f"{p.name}: {', '.join(uncounted)}")
        flop_counter = node.flop_counter_flops // 2 if node.flop_counter_flops is not None else None
        _check(disagreements, p, macs, flop_counter, trainable, stats, node.output_shape)
        layers.append(
            LayerResult(
                p.name, p.kind, p.layer.stage, p.in_shape, p.out_shape, trainable, stats, bias,
                macs, p.macs, flop_counter, rf, jump, uncounted,
            )
        )
    by_name = {lr.name: lr for lr in layers}
    stages = tuple(
        StageResult(
            name,
            names,
            by_name[names[-1]].output_shape,
            sum(by_name[n].params for n in names),
            sum(by_name[n].macs for n in names),
        )
        for name, names in spec.stages.items()
    )
    weighted = [lr for lr in layers if lr.kind in ("conv", "linear", "subsample")]
    macs = sum(lr.macs for lr in layers)
    totals = Totals(
        params=sum(lr.params + lr.non_trainable_params for lr in layers),
        trainable_params=sum(lr.params for lr in layers),
        non_trainable_params=sum(lr.non_trainable_params for lr in layers),
        macs=macs,
        flops=2 * macs,
        neurons=sum(math.prod(lr.output_shape) for lr in weighted),
        connections=sum(lr.macs for lr in weighted),
        activation_bytes=4 * sum(math.prod(lr.output_shape) for lr in layers),
        macs_complete=not incomplete,
    )
    return Analysis(spec, tuple(layers), stages, totals, tuple(incomplete), tuple(disagreements), tuple(infos))


def _check(out: list[str], p: PlannedLayer, macs: int, flop_counter: int | None, trainable: int, stats: int, shape: Shape) -> None:
    if p.layer.spec.mac_rule == COUNTED and macs != p.macs:
        out.append(f"{p.name}: fvcore counts {macs:,} MACs, the closed form {p.macs:,}")
    if flop_counter is not None and flop_counter != macs:
        out.append(f"{p.name}: fvcore counts {macs:,} MACs, FlopCounterMode {flop_counter:,}")
    if (trainable, stats) != (p.params.trainable, p.params.non_trainable):
        out.append(f"{p.name}: the model holds {trainable:,} parameters, the closed form says {p.params.trainable:,}")
    if shape != p.out_shape:
        out.append(f"{p.name}: a forward pass gives shape {list(shape)}, the closed form {list(p.out_shape)}")
