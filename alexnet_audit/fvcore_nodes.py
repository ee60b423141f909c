"""fvcore's count of a built network, one node at a time, without holding its weights.

fvcore traces with TorchScript, and its handlers read only the shapes of what the trace records
(`fvcore.nn.jit_handles.get_shape`: the traced value's sizes), never values. So that a trace
never holds the network's weights (VGG16's are 528 MiB of fp32):

- a plain `nn.Linear` node (the largest weights) is traced on the meta device, where
  TorchScript's tracer runs it (it cannot run meta convolutions or pooling in torch 2.13: their
  Python meta kernels fail on traced sizes, and under a dispatch mode the tracer no longer
  records convolutions at all);
- every other node gets real, uninitialised storage for its own parameters only, for the
  length of its trace: the same kernels the whole-network trace ran.

Each node is traced on its own, fed uninitialised tensors of the shapes the meta pass gave its inputs, and its
activations are freed before the next: the peak is one layer, not the network. The ops of a
`SpecNet` all happen inside its nodes (its forward only routes tensors), so the sum over nodes
is what fvcore gives the whole model, op by op; tests/test_weightless.py checks it, per layer,
against fvcore on the initialised network.

A node's count is a function of its structure and its input shapes alone, so `NodeCounts`
traces each distinct (structure, input shapes) once and answers repeats from what it traced:
VGG's repeated 3x3 convolutions, ResNet's repeated blocks, and the AlexNet layers that many specs
share (367 distinct nodes among the 646 of the shipped specs, 18.3 of their 27.0 GMACs).
"""

from __future__ import annotations

import logging
import warnings
from collections import Counter
from collections.abc import Hashable

import torch
from fvcore.nn import FlopCountAnalysis
from torch import nn

from .layers import Shape

Count = tuple[int, Counter[str]]  # MACs, and the ops fvcore has no handler for


def _trace(module: nn.Module, inputs: tuple[torch.Tensor, ...]) -> Count:
    analysis = FlopCountAnalysis(module, inputs)
    analysis.unsupported_ops_warnings(False)
    analysis.uncalled_modules_warnings(False)
    analysis.tracer_warnings("none")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        logging.getLogger("fvcore").setLevel(logging.ERROR)
        total = int(analysis.total())
    return total, Counter(analysis.unsupported_ops(""))


def node_key(module: nn.Module, shapes: tuple[Shape, ...]) -> Hashable:
    """Everything a node's forward can depend on, values aside: each submodule's class and its
    public attributes (hyperparameters, `training`), the shapes of its parameters and buffers,
    and the input shapes. Two nodes with one key run the same ops on the same shapes. An
    attribute whose repr is not a value (a function's shows its address) only makes keys differ."""
    structure = tuple(
        (name, type(sub).__module__, type(sub).__qualname__,
         tuple(sorted((k, repr(v)) for k, v in vars(sub).items() if not k.startswith("_"))))
        for name, sub in module.named_modules()
    )
    tensors = tuple((name, tuple(t.shape), t.dtype) for name, t in
                    (*module.named_parameters(), *module.named_buffers()))
    return structure, tensors, shapes


class NodeCounts:
    """fvcore's count of each distinct node, traced once for as long as this object lives (one
    `audit_paths` run, or one `analyse` call when none is given)."""

    def __init__(self) -> None:
        self._counts: dict[Hashable, Count] = {}

    def count(self, module: nn.Module, shapes: tuple[Shape, ...]) -> Count:
        """fvcore's MACs and unsupported ops of a meta-built node fed inputs of `shapes`. A node
        it traces is moved off the meta device for its trace and back after it."""
        key = node_key(module, shapes)
        if key not in self._counts:
            device = "meta" if type(module) is nn.Linear else "cpu"  # exactly a linear layer: traced on meta
            module.to_empty(device=device)  # uninitialised: values never matter to the count
            inputs = tuple(torch.empty(1, *shape, device=device) for shape in shapes)
            self._counts[key] = _trace(module, inputs)
            module.to_empty(device="meta")  # this node's weights are freed before the next node's
        total, unsupported = self._counts[key]
        return total, Counter(unsupported)
