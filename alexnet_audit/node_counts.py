"""What two of the three counters measure, node by node, without weights and without meta kernels.

Each node of a meta-built `SpecNet` is given real, uninitialised storage for its own parameters
and buffers and fed uninitialised inputs of the shapes its inputs measured, once under fvcore's
TorchScript trace (which gives its MACs and, from the real forward, its output shape) and, where
the analysis compares that count (conv and linear nodes), once under PyTorch's `FlopCounterMode`.
Both read shapes only, never values, so no weights are drawn; then the storage is freed before the
next node, so the peak is one node, not the network.

Under FlopCounterMode each convolution and matrix product runs on a slice (`_OnASlice`): the mode's
formulas read the full operands and the output's shape, and the convolution's spatial size still
comes from PyTorch's own kernel, so the count stays PyTorch's while the arithmetic that fvcore's
trace has just done in full is not done a second time.

Why not the meta device: TorchScript's tracer cannot run meta convolutions or pooling (their
Python meta kernels fail on traced sizes, and under a dispatch mode the tracer no longer records
convolutions at all), and the first Python meta kernel loads `torch.fx.experimental.symbolic_shapes`
and sympy, 2.6 s on this project's machine.
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
from typing import Any

import torch
from fvcore.nn import FlopCountAnalysis
from torch import nn
from torch.utils._python_dispatch import TorchDispatchMode
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


def _fvcore(module: nn.Module, inputs: tuple[torch.Tensor, ...]) -> tuple[int, tuple[str, ...], Shape]:
    """fvcore's MACs, the ops it has no handler for, and the output shape of the traced forward
    (without the batch dimension)."""
    outputs: list[torch.Tensor] = []
    hook = module.register_forward_hook(lambda _m, _i, out: outputs.append(out))
    analysis = FlopCountAnalysis(module, inputs)
    analysis.unsupported_ops_warnings(False)
    analysis.uncalled_modules_warnings(False)
    analysis.tracer_warnings("none")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _quiet(logging.getLogger("fvcore"))
            total = int(analysis.total())
    finally:
        hook.remove()
    return total, tuple(sorted(analysis.unsupported_ops(""))), tuple(outputs[0].shape[1:])


_ATEN = torch.ops.aten


def _conv_on_a_slice(func: Any, args: tuple[Any, ...]) -> torch.Tensor:
    """One output channel per group, then the full output's shape from it: what stride, padding
    and dilation do to the spatial size is still PyTorch's kernel's doing."""
    x, weight, bias, stride, padding, dilation, transposed, output_padding, groups = args
    if transposed:
        return func(*args)
    sliced = func(x, weight[:groups], None if bias is None else bias[:groups], stride, padding, dilation,
                  transposed, output_padding, groups)
    return sliced.new_empty((sliced.shape[0], weight.shape[0], *sliced.shape[2:]))


def _mm_on_a_slice(func: Any, args: tuple[Any, ...]) -> torch.Tensor:
    """The product with the first column of the right operand, then the full output's shape."""
    a, b = args
    return _all_columns(func(a, b[:, :1]), b)


def _addmm_on_a_slice(func: Any, args: tuple[Any, ...]) -> torch.Tensor:
    bias, a, b = args
    column = bias[..., :1] if bias.dim() and bias.shape[-1] == b.shape[1] else bias
    return _all_columns(func(column, a, b[:, :1]), b)


def _all_columns(sliced: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return sliced.new_empty((sliced.shape[0], b.shape[1]))


_SLICED = {
    _ATEN.convolution.default: _conv_on_a_slice,
    _ATEN.mm.default: _mm_on_a_slice,
    _ATEN.addmm.default: _addmm_on_a_slice,
}


class _OnASlice(TorchDispatchMode):
    """Entered before (so beneath) FlopCounterMode: the ops that cost arithmetic return empty
    outputs of their full shapes, computed on a slice; every other op runs as it is. Only the
    plain forms (no `beta`/`alpha`, no `out=`) are sliced; any other call runs in full."""

    def __torch_dispatch__(self, func: Any, types: Any, args: tuple[Any, ...] = (), kwargs: Any = None) -> Any:
        sliced = _SLICED.get(func)
        if sliced is not None and not kwargs:
            return sliced(func, args)
        return func(*args, **(kwargs or {}))


def _inputs(shapes: tuple[Shape, ...]) -> tuple[torch.Tensor, ...]:
    """Fresh uninitialised inputs of a batch of one: an in-place node (ReLU) writes into the tensor it is given."""
    return tuple(torch.empty(1, *shape) for shape in shapes)


def _flop_counter(module: nn.Module, shapes: tuple[Shape, ...]) -> int:
    counter = FlopCounterMode(display=False)
    with _OnASlice(), counter:
        module(*_inputs(shapes))
    return counter.get_total_flops()


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
    """fvcore's count and output shape of a meta-built node, and FlopCounterMode's count where it
    is asked for, on uninitialised CPU storage freed afterwards; each pass with inputs of its own."""
    with _on_cpu(module):
        macs, unsupported, shape = _fvcore(module, _inputs(shapes))
        flops = _flop_counter(module, shapes) if flop_counter else None
    return NodeCount(shape, flops, macs, unsupported)


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
