"""What every layer kind shares: shapes, the MAC rules, window arithmetic and the base class.

The kinds themselves live in layers.py, activations.py and lecun.py; layers.py assembles the
registry. Shapes are per sample, without the batch dimension: (C, H, W) for maps, (F,) for
vectors. Nothing here imports torch: a kind's `module()` imports it when a model is built.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, ClassVar, Literal, Union

from pydantic import Field

from .errors import AuditError
from .strict import Frozen

if TYPE_CHECKING:
    from torch import nn

Shape = tuple[int, ...]


def shape_hwc(shape: Shape) -> str:
    """Feature maps as the posts write them (H x W x C); vectors as their length."""
    if len(shape) == 3:
        return f"{shape[1]}x{shape[2]}x{shape[0]}"
    return "x".join(str(d) for d in shape)

# Upper bounds keep every spec buildable on a laptop; real CNNs stay far below them.
MAX_KERNEL = 1024
MAX_CHANNELS = 1 << 17
# LRN pads its channel axis by the window before averaging: (C + size - 1) x H x W values.
MAX_LRN_SCRATCH = 300_000_000

PosInt = Annotated[int, Field(ge=1)]
KernelInt = Annotated[int, Field(ge=1, le=MAX_KERNEL)]
Pair = Union[KernelInt, tuple[KernelInt, KernelInt]]
PadInt = Annotated[int, Field(ge=0, le=MAX_KERNEL)]
# An int, [h, w] (both sides of each axis), [top, bottom, left, right], or TensorFlow's words.
Padding = Union[PadInt, tuple[PadInt, PadInt], tuple[PadInt, PadInt, PadInt, PadInt], Literal["same", "valid"]]

# What the MAC convention does with a kind (see analysis.CONVENTION):
COUNTED = "counted"  # MACs counted, by fvcore and by the closed form
EXCLUDED = "excluded"  # zero by definition of the convention (activations, pooling, ...)
UNCOUNTED = "uncounted"  # real arithmetic the convention does not cover: totals are incomplete


@dataclass(frozen=True)
class ParamCount:
    trainable: int
    non_trainable: int = 0  # e.g. BatchNorm running statistics, which Keras's summary() counts


@dataclass(frozen=True)
class RFStep:
    """How one layer grows the receptive field along the height axis."""

    kernel: int
    stride: int


def pair(value: int | tuple[int, int]) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else (value[0], value[1])


def window_strides(stride: Pair | None, kernel: Pair) -> tuple[int, int]:
    """A window's step along the height and width: the window's own size where no stride is given
    (PyTorch's and Keras's default for pools; LeCun et al.'s non-overlapping subsampling)."""
    return pair(stride if stride is not None else kernel)


def same_pads(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """TensorFlow's SAME: output ceil(size/stride); an odd total pad puts the extra at the end."""
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def axis_pads(padding: Padding, axis: int, size: int, kernel: int, stride: int) -> tuple[int, int]:
    if padding == "same":
        return same_pads(size, kernel, stride)
    if padding == "valid":
        return 0, 0
    if isinstance(padding, tuple) and len(padding) == 4:
        return padding[2 * axis], padding[2 * axis + 1]
    p = pair(padding)[axis]
    return p, p


def dilated(kernel: int, dilation: int) -> int:
    """The span a dilated kernel covers: d * (k - 1) + 1 input cells."""
    return dilation * (kernel - 1) + 1


def torch_pads(ph: tuple[int, int], pw: tuple[int, int]) -> tuple[int, int, int, int]:
    """(top, bottom) and (left, right) in F.pad's order: (left, right, top, bottom)."""
    return (pw[0], pw[1], ph[0], ph[1])


def symmetric(ph: tuple[int, int], pw: tuple[int, int]) -> bool:
    return ph[0] == ph[1] and pw[0] == pw[1]


def window_out(size: int, kernel: int, stride: int, pads: tuple[int, int], ceil_mode: bool = False) -> int:
    """Output length of a sliding window; raises when the window cannot fit."""
    padded = size + pads[0] + pads[1]
    if kernel > padded:
        raise AuditError(f"kernel {kernel} is larger than its padded input {padded}")
    span = padded - kernel
    out = (-(-span // stride) if ceil_mode else span // stride) + 1
    if ceil_mode and (out - 1) * stride >= size + pads[0]:
        # PyTorch drops a last window that would start inside the right padding.
        out -= 1
    return out


def need_map(kind: str, shape: Shape) -> tuple[int, int, int]:
    if len(shape) != 3:
        raise AuditError(f"{kind} needs a (C, H, W) feature map but gets shape {list(shape)}; flatten comes later")
    return shape[0], shape[1], shape[2]


def numel(shape: Shape) -> int:
    return math.prod(shape)


class ShapeKeeping:
    """The counts of a node that keeps its input's shape and holds no weights; layer kinds and
    merge points override what differs."""

    mac_rule: ClassVar[str] = EXCLUDED

    def out_shape(self, shape: Shape) -> Shape:
        return shape

    def params(self, shape: Shape) -> ParamCount:
        return ParamCount(0)

    def macs(self, shape: Shape, out: Shape) -> int:
        return 0

    def rf_step(self, shape: Shape) -> RFStep:
        return RFStep(1, 1)


class BaseLayer(ShapeKeeping, Frozen):
    """What every kind answers; a kind overrides what differs from a shape-keeping, weightless layer."""

    name: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_]{1,64}$")

    def module(self, shape: Shape) -> nn.Module:
        raise NotImplementedError
