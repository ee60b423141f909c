"""The two layer kinds of LeCun et al. (1998) that later CNNs dropped: trainable subsampling and RBF outputs.

A subsampling layer is a depthwise convolution whose k x k kernel holds one shared coefficient,
and is built and counted as one (a MAC per input cell of each window). An RBF layer's squared
distances are arithmetic fvcore's MAC convention neither counts nor excludes, so a network
holding one reports its MAC total as incomplete and names it, as it does for LRN.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, ClassVar, Literal

from pydantic import Field

from .errors import AuditError
from .layer_base import COUNTED, MAX_CHANNELS, MAX_LRN_SCRATCH, UNCOUNTED, BaseLayer, Pair, ParamCount, RFStep, Shape, need_map, numel, pair, window_out, window_strides

if TYPE_CHECKING:
    from torch import nn


class Subsample(BaseLayer):
    """S2/S4: each map's window is summed, times a trainable coefficient, plus a trainable bias."""

    kind: Literal["subsample"]
    kernel: Pair = 2
    stride: Pair | None = None  # None: the kernel size (non-overlapping windows, as in the paper)
    mac_rule: ClassVar[str] = COUNTED

    def strides(self) -> tuple[int, int]:
        """The step along the height and width, as a pool's `strides` gives it."""
        return window_strides(self.stride, self.kernel)

    def out_shape(self, shape: Shape) -> Shape:
        c, h, w = need_map("subsample", shape)
        (kh, kw), (sh, sw) = pair(self.kernel), self.strides()
        return (c, window_out(h, kh, sh, (0, 0)), window_out(w, kw, sw, (0, 0)))

    def params(self, shape: Shape) -> ParamCount:
        return ParamCount(2 * shape[0])  # one coefficient and one bias per map

    def macs(self, shape: Shape, out: Shape) -> int:
        kh, kw = pair(self.kernel)
        return numel(out) * kh * kw

    def rf_step(self, shape: Shape) -> RFStep:
        return RFStep(pair(self.kernel)[0], self.strides()[0])

    def module(self, shape: Shape) -> nn.Module:
        from .modules import SumPoolAffine

        return SumPoolAffine(shape[0], pair(self.kernel), self.strides())


class RBF(BaseLayer):
    """Euclidean RBF units: output j is sum_i (x_i - w_ji)^2, a penalty (lower is the better class).

    The paper chose the centres by hand (stylised 7x12 bitmaps, +1/-1) and kept them fixed: with
    `trainable: false` they are a fixed buffer of +1/-1 values, not parameters.
    """

    kind: Literal["rbf"]
    out_features: Annotated[int, Field(ge=1, le=MAX_CHANNELS)]
    trainable: bool = False
    mac_rule: ClassVar[str] = UNCOUNTED

    def _in(self, shape: Shape) -> int:
        if len(shape) != 1:
            raise AuditError(f"rbf needs a flat input but gets shape {list(shape)}; add a flatten layer before it")
        return shape[0]

    def out_shape(self, shape: Shape) -> Shape:
        scratch = self._in(shape) * self.out_features  # every input against every centre, at once
        if scratch > MAX_LRN_SCRATCH:
            raise AuditError(f"{self.out_features:,} RBF units over {shape[0]:,} inputs need {scratch:,} scratch values "
                             f"(limit {MAX_LRN_SCRATCH:,})")
        return (self.out_features,)

    def params(self, shape: Shape) -> ParamCount:
        return ParamCount(shape[0] * self.out_features if self.trainable else 0)

    def module(self, shape: Shape) -> nn.Module:
        from .modules import RBFUnits

        return RBFUnits(self._in(shape), self.out_features, self.trainable)
