"""The layer registry: every layer kind a spec may use, assembled in `LayerSpec`.

Each kind is a pydantic model (its spec fields) that also knows how to build its PyTorch
module, its output shape, its closed-form parameter and MAC counts, its receptive-field step
and its MAC rule (layer_base.py). A new kind is one class here, in activations.py, pooling.py
or lecun.py, added to `LayerSpec`. torch is imported inside each `module()` only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, ClassVar, Literal, Union

from pydantic import Field, model_validator

from .activations import ELU, GELU, Hardswish, LeakyReLU, ReLU, ReLU6, Sigmoid, Softmax, Tanh
from .errors import AuditError
from .init import LayerInit
from .layer_base import (
    COUNTED, EXCLUDED, MAX_CHANNELS, MAX_KERNEL, MAX_LRN_SCRATCH, UNCOUNTED, BaseLayer, KernelInt, PadInt, Padding,
    Pair, ParamCount, PosInt, RFStep, Shape, axis_pads, dilated, need_map, numel, pair, same_pads, shape_hwc,
    symmetric, torch_pads, window_out,
)
from .lecun import RBF, Subsample
from .pooling import AdaptiveAvgPool, AvgPool, GlobalAvgPool, GlobalMaxPool, MaxPool

if TYPE_CHECKING:
    from torch import nn

# Re-exported: the rest of the package reads these from the registry.
__all__ = [
    "COUNTED", "EXCLUDED", "UNCOUNTED", "LayerSpec", "ParamCount", "Shape", "axis_pads", "pair", "same_pads",
    "shape_hwc", "Conv", "MaxPool", "AvgPool", "Linear",
]

MapIndex = Annotated[int, Field(ge=0, lt=MAX_CHANNELS)]
ConnectionTable = Annotated[
    tuple[Annotated[tuple[MapIndex, ...], Field(min_length=1, max_length=MAX_CHANNELS)], ...],
    Field(min_length=1, max_length=MAX_CHANNELS),
]


class Conv(BaseLayer):
    kind: Literal["conv"]
    out_channels: Annotated[int, Field(ge=1, le=MAX_CHANNELS)]
    kernel: Pair
    stride: Pair = 1
    padding: Padding = 0
    dilation: Pair = 1
    groups: PosInt = 1
    # Output map i sees only the input maps connections[i] (LeNet-5's C3 table); None: all of them.
    connections: ConnectionTable | None = None
    bias: bool = True
    init: LayerInit | None = None
    mac_rule: ClassVar[str] = COUNTED

    @model_validator(mode="after")
    def _table_fits(self) -> "Conv":
        if self.connections is None:
            return self
        if self.groups != 1:
            raise ValueError("a connection table already says which input maps each output map sees: leave groups at 1")
        if len(self.connections) != self.out_channels:
            raise ValueError(f"the connection table has {len(self.connections)} rows but out_channels is {self.out_channels}")
        for i, row in enumerate(self.connections):
            if len(set(row)) != len(row):
                raise ValueError(f"row {i} of the connection table names an input map twice")
        return self

    def _geometry(self, shape: Shape) -> tuple[int, int, int, tuple[int, int], tuple[int, int]]:
        c, h, w = need_map("conv", shape)
        if c % self.groups or self.out_channels % self.groups:
            raise AuditError(
                f"groups={self.groups} must divide both input channels ({c}) and out_channels ({self.out_channels})"
            )
        if self.connections is not None and max(max(row) for row in self.connections) >= c:
            raise AuditError(f"the connection table names input map {max(max(r) for r in self.connections)} "
                             f"but the input has {c} maps (numbered from 0)")
        (kh, kw), (sh, sw) = self._spans(), self.strides()
        return c, h, w, axis_pads(self.padding, 0, h, kh, sh), axis_pads(self.padding, 1, w, kw, sw)

    def strides(self) -> tuple[int, int]:
        """The step along the height and width, as a pool's `strides` gives it."""
        return pair(self.stride)

    def _spans(self) -> tuple[int, int]:
        (kh, kw), (dh, dw) = pair(self.kernel), pair(self.dilation)
        return dilated(kh, dh), dilated(kw, dw)

    def _inputs_per_output(self, c: int) -> int:
        """Input maps summed into the output maps, over all of them."""
        if self.connections is not None:
            return sum(len(row) for row in self.connections)
        return self.out_channels * (c // self.groups)

    def out_shape(self, shape: Shape) -> Shape:
        _, h, w, ph, pw = self._geometry(shape)
        (kh, kw), (sh, sw) = self._spans(), pair(self.stride)
        return (self.out_channels, window_out(h, kh, sh, ph), window_out(w, kw, sw, pw))

    def params(self, shape: Shape) -> ParamCount:
        kh, kw = pair(self.kernel)
        weights = self._inputs_per_output(shape[0]) * kh * kw
        return ParamCount(weights + (self.out_channels if self.bias else 0))

    def macs(self, shape: Shape, out: Shape) -> int:
        kh, kw = pair(self.kernel)
        return out[1] * out[2] * self._inputs_per_output(shape[0]) * kh * kw

    def rf_step(self, shape: Shape) -> RFStep:
        return RFStep(self._spans()[0], pair(self.stride)[0])

    def module(self, shape: Shape) -> nn.Module:
        from torch import nn

        from .modules import Padded, PartialConv2d

        c, _, _, ph, pw = self._geometry(shape)
        pad = (ph[0], pw[0]) if symmetric(ph, pw) else (0, 0)
        conv: nn.Module
        if self.connections is not None:
            conv = PartialConv2d(self.connections, pair(self.kernel), pair(self.stride), pad, pair(self.dilation), self.bias)
        else:
            conv = nn.Conv2d(c, self.out_channels, pair(self.kernel), pair(self.stride), padding=pad,
                             dilation=pair(self.dilation), groups=self.groups, bias=self.bias)
        return conv if symmetric(ph, pw) else Padded(torch_pads(ph, pw), 0.0, conv)


class ZeroPad(BaseLayer):
    """Keras's ZeroPadding2D: an int, [h, w] (each on both sides) or [top, bottom, left, right]."""

    kind: Literal["zeropad"]
    padding: Union[PadInt, tuple[PadInt, PadInt], tuple[PadInt, PadInt, PadInt, PadInt]]

    def _pads(self) -> tuple[tuple[int, int], tuple[int, int]]:
        return axis_pads(self.padding, 0, 0, 1, 1), axis_pads(self.padding, 1, 0, 1, 1)

    def out_shape(self, shape: Shape) -> Shape:
        c, h, w = need_map("zeropad", shape)
        ph, pw = self._pads()
        return (c, h + sum(ph), w + sum(pw))

    def module(self, shape: Shape) -> nn.Module:
        from torch import nn

        return nn.ZeroPad2d(torch_pads(*self._pads()))


class _LocalResponseNorm(BaseLayer):
    mac_rule: ClassVar[str] = UNCOUNTED

    def window(self) -> int:
        raise NotImplementedError

    def out_shape(self, shape: Shape) -> Shape:
        c, h, w = need_map(self.kind, shape)  # type: ignore[attr-defined]  # every concrete kind declares `kind`
        scratch = (c + self.window() - 1) * h * w  # PyTorch pads the channel axis by the window
        if scratch > MAX_LRN_SCRATCH:
            raise AuditError(f"an LRN window of {self.window()} channels over a {c}x{h}x{w} map needs {scratch:,} "
                             f"scratch values (limit {MAX_LRN_SCRATCH:,})")
        return shape


class LRN(_LocalResponseNorm):
    """Local response normalisation in PyTorch/Caffe terms: b = a / (k + alpha/size * sum a^2)^beta."""

    kind: Literal["lrn"]
    size: KernelInt = 5
    alpha: float = 1e-4
    beta: float = 0.75
    k: float = 1.0

    def window(self) -> int:
        return self.size

    def module(self, shape: Shape) -> nn.Module:
        from torch import nn

        return nn.LocalResponseNorm(self.size, self.alpha, self.beta, self.k)


class LRNTF(_LocalResponseNorm):
    """TensorFlow's tf.nn.lrn: b = a / (bias + alpha * sum_{|d|<=r} a^2)^beta.

    Converted to PyTorch's form: size = 2r + 1, k = bias, alpha_torch = alpha * size (PyTorch
    divides alpha by the window size, TensorFlow does not).
    """

    kind: Literal["lrn_tf"]
    depth_radius: Annotated[int, Field(ge=0, le=MAX_KERNEL)] = 5
    bias: float = 1.0
    alpha: float = 1.0
    beta: float = 0.5

    def window(self) -> int:
        return 2 * self.depth_radius + 1

    def module(self, shape: Shape) -> nn.Module:
        from torch import nn

        size = self.window()
        return nn.LocalResponseNorm(size, self.alpha * size, self.beta, self.bias)


class BatchNorm(BaseLayer):
    """BatchNorm over channels (maps) or features (vectors). Keras: eps=0.001, momentum=0.01 here."""

    kind: Literal["batchnorm"]
    eps: float = Field(default=1e-5, gt=0)
    momentum: float = Field(default=0.1, gt=0, le=1)
    mac_rule: ClassVar[str] = COUNTED

    def params(self, shape: Shape) -> ParamCount:
        return ParamCount(2 * shape[0], 2 * shape[0])

    def macs(self, shape: Shape, out: Shape) -> int:
        return 2 * numel(shape)  # fvcore, eval mode with affine: a scale and a shift per element

    def module(self, shape: Shape) -> nn.Module:
        from torch import nn

        norm = nn.BatchNorm2d if len(shape) == 3 else nn.BatchNorm1d
        return norm(shape[0], eps=self.eps, momentum=self.momentum)


class Dropout(BaseLayer):
    """`p` is the drop probability (TF1's keep_prob is 1 - p)."""

    kind: Literal["dropout"]
    p: float = Field(default=0.5, ge=0, lt=1)

    def module(self, shape: Shape) -> nn.Module:
        from torch import nn

        return nn.Dropout(self.p)


class Flatten(BaseLayer):
    kind: Literal["flatten"]

    def out_shape(self, shape: Shape) -> Shape:
        return (numel(shape),)

    def rf_step(self, shape: Shape) -> RFStep:
        # What follows sees the whole map: like a kernel as tall as the map.
        return RFStep(shape[1] if len(shape) == 3 else 1, 1)

    def module(self, shape: Shape) -> nn.Module:
        from torch import nn

        return nn.Flatten()


class Linear(BaseLayer):
    kind: Literal["linear"]
    out_features: Annotated[int, Field(ge=1, le=MAX_CHANNELS)]
    in_features: PosInt | None = None  # as the source's code declares it, when it does
    bias: bool = True
    init: LayerInit | None = None
    mac_rule: ClassVar[str] = COUNTED

    def _in(self, shape: Shape) -> int:
        if len(shape) != 1:
            raise AuditError(f"linear needs a flat input but gets shape {list(shape)}; add a flatten layer before it")
        if self.in_features is not None and self.in_features != shape[0]:
            raise AuditError(f"in_features is {self.in_features} but the layer before gives {shape[0]} features")
        return shape[0]

    def out_shape(self, shape: Shape) -> Shape:
        self._in(shape)
        return (self.out_features,)

    def params(self, shape: Shape) -> ParamCount:
        return ParamCount(shape[0] * self.out_features + (self.out_features if self.bias else 0))

    def macs(self, shape: Shape, out: Shape) -> int:
        return shape[0] * self.out_features

    def module(self, shape: Shape) -> nn.Module:
        from torch import nn

        return nn.Linear(self._in(shape), self.out_features, bias=self.bias)


LayerSpec = Annotated[
    Union[
        Conv, MaxPool, AvgPool, ZeroPad, AdaptiveAvgPool, GlobalAvgPool, GlobalMaxPool, LRN, LRNTF, BatchNorm,
        ReLU, LeakyReLU, ReLU6, Hardswish, ELU, GELU, Tanh, Sigmoid, Softmax, Dropout, Flatten, Linear, Subsample, RBF,
    ],
    Field(discriminator="kind"),
]
