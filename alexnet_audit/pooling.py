"""The pooling kinds: windowed max and average pooling, adaptive and global pooling.

Each is a pydantic model of its spec fields that also builds its PyTorch module and gives its
output shape, MACs and receptive-field step (layer_base.py); layers.py assembles them with the
other kinds in `LayerSpec`. torch is imported inside each `module()` only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, Literal

from .errors import AuditError
from .layer_base import (
    COUNTED, BaseLayer, Padding, Pair, RFStep, Shape, axis_pads, dilated, need_map, numel, pair, symmetric, torch_pads,
    window_out, window_strides,
)

if TYPE_CHECKING:
    from torch import nn


class _Pool(BaseLayer):
    kernel: Pair
    stride: Pair | None = None  # None: the kernel size, as both Keras and PyTorch default
    padding: Padding = 0
    ceil_mode: bool = False

    def dilations(self) -> tuple[int, int]:
        return (1, 1)

    def strides(self) -> tuple[int, int]:
        """The step along the height and width: the window's when none is given."""
        return window_strides(self.stride, self.kernel)

    def _geometry(self, shape: Shape) -> tuple[tuple[int, int], tuple[int, int], tuple[int, int], tuple[int, int]]:
        _, h, w = need_map(self.kind, shape)  # type: ignore[attr-defined]  # every concrete kind declares `kind`
        (kh, kw), (dh, dw) = pair(self.kernel), self.dilations()
        span = (dilated(kh, dh), dilated(kw, dw))
        s = self.strides()
        ph, pw = axis_pads(self.padding, 0, h, span[0], s[0]), axis_pads(self.padding, 1, w, span[1], s[1])
        if not isinstance(self.padding, str) and (max(ph) * 2 > span[0] or max(pw) * 2 > span[1]):
            raise AuditError(f"pool padding {list(self.padding) if isinstance(self.padding, tuple) else self.padding} "
                             f"exceeds half the window {list(span)}")
        return span, s, ph, pw

    def out_shape(self, shape: Shape) -> Shape:
        span, s, ph, pw = self._geometry(shape)
        if not symmetric(ph, pw) and self.padding != "same":
            # Padded in front of the pool: PyTorch sees the pads as input and applies its ceil rule to them.
            return (shape[0], window_out(shape[1] + sum(ph), span[0], s[0], (0, 0), self.ceil_mode),
                    window_out(shape[2] + sum(pw), span[1], s[1], (0, 0), self.ceil_mode))
        return (
            shape[0],
            window_out(shape[1], span[0], s[0], ph, self.ceil_mode),
            window_out(shape[2], span[1], s[1], pw, self.ceil_mode),
        )

    def rf_step(self, shape: Shape) -> RFStep:
        span, s, _, _ = self._geometry(shape)
        return RFStep(span[0], s[0])


class MaxPool(_Pool):
    kind: Literal["maxpool"]
    dilation: Pair = 1

    def dilations(self) -> tuple[int, int]:
        return pair(self.dilation)

    def module(self, shape: Shape) -> nn.Module:
        from torch import nn

        from .modules import Padded

        _, s, ph, pw = self._geometry(shape)
        k, d = pair(self.kernel), pair(self.dilation)
        if symmetric(ph, pw):
            return nn.MaxPool2d(k, s, padding=(ph[0], pw[0]), dilation=d, ceil_mode=self.ceil_mode)
        return Padded(torch_pads(ph, pw), float("-inf"), nn.MaxPool2d(k, s, dilation=d, ceil_mode=self.ceil_mode))


class AvgPool(_Pool):
    """PyTorch's average pooling has no dilation, and neither does this kind."""

    kind: Literal["avgpool"]

    def module(self, shape: Shape) -> nn.Module:
        from torch import nn

        from .modules import CountExcludingAvgPool, Padded

        k, s, ph, pw = self._geometry(shape)
        if self.padding == "same":
            return CountExcludingAvgPool(torch_pads(ph, pw), k, s, (shape[1], shape[2]))
        if symmetric(ph, pw):
            return nn.AvgPool2d(k, s, padding=(ph[0], pw[0]), ceil_mode=self.ceil_mode)
        return Padded(torch_pads(ph, pw), 0.0, nn.AvgPool2d(k, s, ceil_mode=self.ceil_mode))


class AdaptiveAvgPool(BaseLayer):
    kind: Literal["adaptive_avgpool"]
    output_size: Pair
    mac_rule: ClassVar[str] = COUNTED

    def out_shape(self, shape: Shape) -> Shape:
        c, _, _ = need_map("adaptive_avgpool", shape)
        oh, ow = pair(self.output_size)
        return (c, oh, ow)

    def macs(self, shape: Shape, out: Shape) -> int:
        return numel(shape)  # one add per input element, as fvcore counts it

    def rf_step(self, shape: Shape) -> RFStep:
        h, oh = shape[1], pair(self.output_size)[0]
        return RFStep(-(-h // oh), max(h // oh, 1))

    def module(self, shape: Shape) -> nn.Module:
        from torch import nn

        return nn.AdaptiveAvgPool2d(pair(self.output_size))


class _GlobalPool(BaseLayer):
    """One value per channel over the whole map, as a vector (Keras's GlobalAveragePooling2D)."""

    def out_shape(self, shape: Shape) -> Shape:
        return (need_map(self.kind, shape)[0],)  # type: ignore[attr-defined]  # every concrete kind declares `kind`

    def rf_step(self, shape: Shape) -> RFStep:
        return RFStep(shape[1], shape[1])  # as adaptive pooling to 1x1: one window spanning the map


class GlobalAvgPool(_GlobalPool):
    kind: Literal["global_avgpool"]
    mac_rule: ClassVar[str] = COUNTED

    def macs(self, shape: Shape, out: Shape) -> int:
        return numel(shape)  # one add per input element, as fvcore counts adaptive average pooling

    def module(self, shape: Shape) -> nn.Module:
        from .modules import GlobalAvgPool2d

        return GlobalAvgPool2d()


class GlobalMaxPool(_GlobalPool):
    kind: Literal["global_maxpool"]

    def module(self, shape: Shape) -> nn.Module:
        from .modules import GlobalMaxPool2d

        return GlobalMaxPool2d()
