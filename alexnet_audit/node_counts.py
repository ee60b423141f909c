"""What two of the three counters measure, node by node, without weights and without meta kernels.

Each node of a meta-built `SpecNet` is given real, uninitialised storage for its own parameters
and buffers, fed uninitialised inputs of the shapes its inputs measured, and run twice: once for
its output shape (under PyTorch's `FlopCounterMode` where the analysis compares that count: conv
and linear nodes) and once under fvcore's TorchScript trace. Both read shapes only, never values,
so no weights are drawn; then the
storage is freed before the next node, so the peak is one node, not the network.

Why not the meta device: TorchScript's tracer cannot run meta convolutions or pooling (their
Python meta kernels fail on traced sizes, and under a dispatch mode the tracer no longer records
convolutions at all), and every Python meta kernel's `torch._check` imports
`torch.fx.experimental.symbolic_shapes` and sympy, about a second per process.
Why uninitialised storage costs little memory: a large block (VGG16's 411 MB fc6 weight) is a
fresh anonymous mapping, and pages that are only read map the kernel's shared zero page, so a
node that reads its weights without writing them does not grow the resident set.

The ops of a `SpecNet` all happen inside its nodes (its forward only routes tensors), so the sum
over nodes is what either counter gives the whole model, op by op; tests/test_weightless.py
checks it, per layer, against both on the initialised network.

A node's counts depend on its structure and input shapes alone, so `NodeCounts` runs each
distinct (structure, input shapes) once and answers repeats from what it measured: VGG's repeated
3x3 convolutions, ResNet's repeated blocks, and the AlexNet layers that many specs share (367
distinct nodes among the 646 of the shipped specs, 18.3 of their 27.0 GMACs).
"""

from __future__ import annotations

import contextlib
import logging
import warnings
from collections.abc import Hashable, Iterator
from dataclasses import dataclass

import torch
from fvcore.nn import FlopCountAnalysis
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from .layers import Shape


@dataclass(frozen=True)
class NodeCount:
    output_shape: Shape  # without the batch dimension
    flop_counter_flops: int | None  # FlopCounterMode's total, where it was asked for
    macs: int  # fvcore's
    unsupported: tuple[str, ...]  # the ops fvcore has no handler for, sorted


def _quiet(logger: logging.Logger) -> None:
    """fvcore's logger at ERROR. Only when it is not: `setLevel` clears the level cache of every
    logger in the process (PyTorch has hundreds), 0.2 ms a call, once per node."""
    if logger.level != logging.ERROR:
        logger.setLevel(logging.ERROR)


def _fvcore(module: nn.Module, inputs: tuple[torch.Tensor, ...]) -> tuple[int, tuple[str, ...]]:
    analysis = FlopCountAnalysis(module, inputs)
    analysis.unsupported_ops_warnings(False)
    analysis.uncalled_modules_warnings(False)
    analysis.tracer_warnings("none")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _quiet(logging.getLogger("fvcore"))
        total = int(analysis.total())
    return total, tuple(sorted(analysis.unsupported_ops("")))


@contextlib.contextmanager
def _on_cpu(module: nn.Module) -> Iterator[None]:
    """Uninitialised CPU storage in place of each meta parameter and buffer, for the block only.
    (`module.to_empty` would do it through `empty_like` on the meta tensors, whose Python reference
    kernel imports sympy.)"""
    meta = [(sub, name, tensor) for sub in module.modules()
            for name, tensor in (*sub.named_parameters(recurse=False), *sub.named_buffers(recurse=False))]
    for sub, name, tensor in meta:
        empty = torch.empty(tensor.shape, dtype=tensor.dtype)
        setattr(sub, name, nn.Parameter(empty, tensor.requires_grad) if isinstance(tensor, nn.Parameter) else empty)
    try:
        yield
    finally:
        for sub, name, tensor in meta:
            setattr(sub, name, tensor)


def _measure(module: nn.Module, shapes: tuple[Shape, ...], flop_counter: bool) -> NodeCount:
    """fvcore's count of a meta-built node, and FlopCounterMode's where it is asked for, on
    uninitialised CPU storage freed afterwards. Each pass gets fresh inputs: an in-place node
    (ReLU) writes into the tensor it is given. Without FlopCounterMode a plain forward gives the
    output shape: the mode's dispatch in Python doubled the cost of a ReLU or a pooling node."""
    counter = FlopCounterMode(display=False) if flop_counter else None
    with _on_cpu(module):
        with counter if counter is not None else contextlib.nullcontext():
            out = module(*(torch.empty(1, *shape) for shape in shapes))
        macs, unsupported = _fvcore(module, tuple(torch.empty(1, *shape) for shape in shapes))
    return NodeCount(tuple(out.shape[1:]), counter.get_total_flops() if counter is not None else None, macs, unsupported)


@contextlib.contextmanager
def one_thread() -> Iterator[None]:
    """PyTorch on one intra-op thread for the block, then as it was. The nodes are small bursts of
    work: on the project's two shared cores, with other jobs running, counting the shipped specs
    took 4.1 s of CPU on one thread and 13.1 s on two (the second thread spins at every op's
    barrier while the first is descheduled), 11 s of wall time against 31 s."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


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
    """The counts of each distinct node, measured once for as long as this object lives (one
    `audit_paths` run, or one `analyse` call when none is given). Call it under `torch.no_grad()`,
    `no_dynamo.without_dynamo_import()` and `one_thread()`."""

    def __init__(self) -> None:
        self._counts: dict[Hashable, NodeCount] = {}

    def count(self, module: nn.Module, shapes: tuple[Shape, ...], flop_counter: bool) -> NodeCount:
        """The counts of a meta-built node fed inputs of `shapes` (each without the batch dimension);
        FlopCounterMode's only when `flop_counter`."""
        key = (node_key(module, shapes), flop_counter)
        if key not in self._counts:
            self._counts[key] = _measure(module, shapes, flop_counter)
        return self._counts[key]
