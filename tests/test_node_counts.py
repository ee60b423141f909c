"""FlopCounterMode on a slice (node_counts._OnASlice): the count and the output shapes it gives
must be what the full operation gives, by hand."""

from __future__ import annotations

import pytest
import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils.flop_counter import FlopCounterMode

from alexnet_audit.no_dynamo import without_dynamo_import
from alexnet_audit.node_counts import _OnASlice


def _count(op, *operands: torch.Tensor) -> tuple[int, tuple[int, ...]]:
    counter = FlopCounterMode(display=False)
    with without_dynamo_import(), torch.no_grad(), _OnASlice(), counter:  # as analysis.py counts
        out = op(*operands)
    return counter.get_total_flops(), tuple(out.shape)


# (in channels, out channels, groups, kernel, stride, padding, dilation, input side): the output side
# is floor((side + 2 padding - dilation (kernel - 1) - 1) / stride) + 1, the MACs
# out channels x in channels / groups x kernel^2 x output side^2, FlopCounterMode's FLOPs twice that.
CONVS = [
    # 17 + 2 - 4 - 1 = 14, 14 // 2 + 1 = 8; 8 x 3 x 9 x 64 = 13,824 MACs
    pytest.param(6, 8, 2, 3, 2, 1, 2, 17, 8, 13_824, id="groups-stride-dilation"),
    # AlexNet's conv1: 227 - 11 = 216, 216 // 4 + 1 = 55; 96 x 3 x 121 x 3,025 = 105,415,200 MACs
    pytest.param(3, 96, 1, 11, 4, 0, 1, 227, 55, 105_415_200, id="alexnet-conv1"),
    # depthwise: one output channel per group, so nothing is sliced; 12 + 2 - 2 - 1 = 11, 11 + 1 = 12;
    # 16 x 1 x 9 x 144 = 20,736 MACs
    pytest.param(16, 16, 16, 3, 1, 1, 1, 12, 12, 20_736, id="depthwise"),
]


@pytest.mark.parametrize(("cin", "cout", "groups", "k", "stride", "pad", "dil", "side", "out_side", "macs"), CONVS)
def test_a_sliced_convolution_counts_and_shapes_as_the_full_one(cin: int, cout: int, groups: int, k: int, stride: int,
                                                                pad: int, dil: int, side: int, out_side: int,
                                                                macs: int) -> None:
    conv = torch.nn.Conv2d(cin, cout, k, stride=stride, padding=pad, dilation=dil, groups=groups)
    flops, shape = _count(conv, torch.empty(1, cin, side, side))
    assert shape == (1, cout, out_side, out_side)
    assert flops == 2 * macs


def test_a_transposed_convolution_runs_in_full() -> None:
    # (5 - 1) x 2 - 0 + (3 - 1) + 1 = 11; the transposed count is in x out x k^2 x input positions:
    # 4 x 6 x 9 x 25 = 5,400 MACs
    conv = torch.nn.ConvTranspose2d(4, 6, 3, stride=2)
    flops, shape = _count(conv, torch.empty(1, 4, 5, 5))
    assert shape == (1, 6, 11, 11)
    assert flops == 2 * 5_400


@pytest.mark.parametrize("bias", [True, False])
def test_a_sliced_linear_layer_counts_and_shapes_as_the_full_one(bias: bool) -> None:
    # VGG16's fc6: 25,088 x 4,096 = 102,760,448 MACs (uninitialised weights: drawing 100 million costs a second)
    weight, b = torch.empty(4_096, 25_088), torch.empty(4_096) if bias else None
    flops, shape = _count(lambda x: torch.nn.functional.linear(x, weight, b), torch.empty(1, 25_088))
    assert shape == (1, 4_096)
    assert flops == 2 * 102_760_448


@pytest.mark.parametrize("bias_shape", [(7,), (1, 7), (3, 7), (3, 1), (1,), ()])
def test_every_broadcast_form_of_addmms_bias_keeps_the_full_shape(bias_shape: tuple[int, ...]) -> None:
    # a 3 x 5 by 5 x 7 product: 3 x 5 x 7 = 105 MACs, whatever the bias
    flops, shape = _count(torch.addmm, torch.zeros(bias_shape), torch.empty(3, 5), torch.empty(5, 7))
    assert shape == (3, 7)
    assert flops == 2 * 105


def test_a_scaled_addmm_runs_in_full_and_counts_the_same() -> None:
    counter = FlopCounterMode(display=False)
    with without_dynamo_import(), torch.no_grad(), _OnASlice(), counter:
        out = torch.addmm(torch.ones(7), torch.ones(3, 5), torch.ones(5, 7), beta=2.0, alpha=0.5)
    # every entry: 2 x 1 + 0.5 x (5 x 1 x 1) = 4.5, so the product really ran
    assert torch.equal(out, torch.full((3, 7), 4.5))
    assert counter.get_total_flops() == 2 * 105


def test_ops_that_are_not_sliced_compute_their_values() -> None:
    # a ReLU and a max pool under the mode still see and give real values
    x = torch.tensor([[[[-1.0, 2.0], [3.0, -4.0]]]])
    with without_dynamo_import(), torch.no_grad(), _OnASlice():
        out = torch.nn.functional.max_pool2d(torch.relu(x), 2)
    assert out.flatten().tolist() == [3.0]


class _Shapes(TorchDispatchMode):
    """Beneath _OnASlice: the weight (or right operand) shape each costly op is really run with."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[tuple[str, tuple[int, ...]]] = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):  # type: ignore[no-untyped-def]
        if func in (torch.ops.aten.convolution.default, torch.ops.aten.mm.default):
            self.seen.append((func.__name__, tuple(args[1].shape)))
        elif func is torch.ops.aten.addmm.default:
            self.seen.append((func.__name__, tuple(args[2].shape)))
        return func(*args, **(kwargs or {}))


def test_the_arithmetic_really_runs_on_the_slice() -> None:
    # 8 kernels in 2 groups run as one kernel per group: weight 2 x 3 x 3 x 3; a 5 -> 7 linear layer
    # multiplies by one column of its 5 x 7 transposed weight; a bias-free one by the same column
    shapes = _Shapes()
    with without_dynamo_import(), torch.no_grad(), shapes, _OnASlice():
        torch.nn.functional.conv2d(torch.empty(1, 6, 9, 9), torch.empty(8, 3, 3, 3), groups=2)
        torch.nn.functional.linear(torch.empty(1, 5), torch.empty(7, 5), torch.empty(7))
        torch.nn.functional.linear(torch.empty(1, 5), torch.empty(7, 5))
    assert shapes.seen == [("convolution.default", (2, 3, 3, 3)), ("addmm.default", (5, 1)), ("mm.default", (5, 1))]
