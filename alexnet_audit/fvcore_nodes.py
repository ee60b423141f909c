"""fvcore's count of a built network, one node at a time, without holding its weights.

fvcore traces with TorchScript, and its handlers read only the shapes of what the trace records
(`fvcore.nn.jit_handles.get_shape`: the traced value's sizes), never values. Two things keep a
trace from allocating the weights (VGG16's are 528 MiB of fp32):

- a plain `nn.Linear` node is traced on the meta device, where TorchScript's tracer runs it
  (it cannot run meta convolutions or pooling in torch 2.13: their Python meta kernels fail on
  traced sizes);
- every other node runs on the CPU with each parameter a zero-stride view of one scalar
  (`expand`), so a conv's weight has no storage of its own; a kernel that wants contiguous
  weights copies one layer's worth for the length of that call.

Each node is traced on its own, fed zeros of the shapes the meta pass gave its inputs, and its
activations are freed before the next: the peak is one layer, not the network. The ops of a
`SpecNet` all happen inside its nodes (its forward only routes tensors), so the sum over nodes
is what fvcore gives the whole model, op by op; tests/test_weightless.py checks it, per layer,
against fvcore on the initialised network.
"""

from __future__ import annotations

import logging
import warnings
from collections import Counter

import torch
from fvcore.nn import FlopCountAnalysis
from torch import nn

from .layers import Shape


def _weightless_cpu(module: nn.Module) -> nn.Module:
    """`module` (built on meta) on the CPU: parameters as zero-stride views, buffers zeroed."""
    for sub in module.modules():
        for name, p in list(sub._parameters.items()):
            if p is not None:
                sub._parameters[name] = nn.Parameter(torch.zeros((), dtype=p.dtype).expand(p.shape), requires_grad=False)
        for name, b in list(sub._buffers.items()):
            if b is not None:
                sub._buffers[name] = torch.zeros(b.shape, dtype=b.dtype)
    return module


def _count(module: nn.Module, inputs: tuple[torch.Tensor, ...]) -> tuple[int, Counter[str]]:
    analysis = FlopCountAnalysis(module, inputs)
    analysis.unsupported_ops_warnings(False)
    analysis.uncalled_modules_warnings(False)
    analysis.tracer_warnings("none")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        logging.getLogger("fvcore").setLevel(logging.ERROR)
        total = int(analysis.total())
    return total, Counter(analysis.unsupported_ops(""))


def fvcore_by_node(nodes: list[tuple[nn.Module, tuple[Shape, ...]]]) -> list[tuple[int, Counter[str]]]:
    """fvcore's MACs and unsupported ops of each (meta-built node, its input shapes), in order.
    The nodes are moved off the meta device in place (the caller needs them no more)."""
    out = []
    for module, shapes in nodes:
        meta = type(module) is nn.Linear  # exactly a linear layer: its trace runs on meta
        device = "meta" if meta else "cpu"
        if not meta:
            module = _weightless_cpu(module)
        inputs = tuple(torch.zeros(1, *shape, device=device) for shape in shapes)
        out.append(_count(module, inputs))
    return out
