"""fvcore's count of a built network, one node at a time, without holding its weights.

fvcore traces with TorchScript, and its handlers read only the shapes of what the trace records
(`fvcore.nn.jit_handles.get_shape`: the traced value's sizes), never values. So that a trace
never holds the network's weights (VGG16's are 528 MiB of fp32):

- a plain `nn.Linear` node (the largest weights) is traced on the meta device, where
  TorchScript's tracer runs it (it cannot run meta convolutions or pooling in torch 2.13: their
  Python meta kernels fail on traced sizes);
- every other node gets real, uninitialised storage for its own parameters only, for the
  length of its trace: the same kernels the whole-network trace ran. (Zero-stride `expand`ed
  weights would need no storage, but a kernel wanting contiguous weights copies them anyway,
  and they measured no faster.)

Each node is traced on its own, fed uninitialised tensors of the shapes the meta pass gave its inputs, and its
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
        device = "meta" if type(module) is nn.Linear else "cpu"  # exactly a linear layer: traced on meta
        module.to_empty(device=device)  # uninitialised: values never matter to the count
        inputs = tuple(torch.empty(1, *shape, device=device) for shape in shapes)
        out.append(_count(module, inputs))
        module.to_empty(device="meta")  # this node's weights are freed before the next node's
    return out
