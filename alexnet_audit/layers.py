"""The layer registry: every layer kind a spec may use, in one place.

Each kind is a pydantic model (its spec fields) that also knows how to build its PyTorch
module, its output shape, its closed-form parameter and MAC counts, and its receptive-field
step. A new kind touches this file only: write its class and add it to `LayerSpec`.

Shapes are per sample, without the batch dimension: (C, H, W) for maps, (F,) for vectors.
Nothing here imports torch at module level: each `module()` imports it when it builds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, ClassVar, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .errors import AuditError
from .init import LayerInit
from .strict import refuse_stray_values

if TYPE_CHECKING:  # torch loads only when a model is built: `--help` and bad input stay fast
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
Padding = Union[PadInt, tuple[PadInt, PadInt], Literal["same", "valid"]]

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
    p = pair(padding)[axis]
    return p, p


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


class _Layer(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    name: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_]{1,64}$")  # digits too: torchvision's layer1.0
    mac_rule: ClassVar[str] = EXCLUDED

    @model_validator(mode="before")
    @classmethod
    def _no_stray_values(cls, data: object) -> object:
        return refuse_stray_values(cls, data)

    def out_shape(self, shape: Shape) -> Shape:
        return shape

    def params(self, shape: Shape) -> ParamCount:
        return ParamCount(0)

    def macs(self, shape: Shape, out: Shape) -> int:
        return 0

    def rf_step(self, shape: Shape) -> RFStep:
        return RFStep(1, 1)

    def module(self, shape: Shape) -> nn.Module:
        raise NotImplementedError


class Conv(_Layer):
    kind: Literal["conv"]
    out_channels: Annotated[int, Field(ge=1, le=MAX_CHANNELS)]
    kernel: Pair
    stride: Pair = 1
    padding: Padding = 0
    groups: PosInt = 1
    bias: bool = True
    init: LayerInit | None = None
    mac_rule: ClassVar[str] = COUNTED

    def _geometry(self, shape: Shape) -> tuple[int, int, int, tuple[int, int], tuple[int, int]]:
        c, h, w = need_map("conv", shape)
        if c % self.groups or self.out_channels % self.groups:
            raise AuditError(
                f"groups={self.groups} must divide both input channels ({c}) and out_channels ({self.out_channels})"
            )
        kh, kw = pair(self.kernel)
        sh, sw = pair(self.stride)
        return c, h, w, axis_pads(self.padding, 0, h, kh, sh), axis_pads(self.padding, 1, w, kw, sw)

    def out_shape(self, shape: Shape) -> Shape:
        _, h, w, ph, pw = self._geometry(shape)
        (kh, kw), (sh, sw) = pair(self.kernel), pair(self.stride)
        return (self.out_channels, window_out(h, kh, sh, ph), window_out(w, kw, sw, pw))

    def params(self, shape: Shape) -> ParamCount:
        kh, kw = pair(self.kernel)
        weights = self.out_channels * (shape[0] // self.groups) * kh * kw
        return ParamCount(weights + (self.out_channels if self.bias else 0))

    def macs(self, shape: Shape, out: Shape) -> int:
        kh, kw = pair(self.kernel)
        return numel(out) * (shape[0] // self.groups) * kh * kw

    def rf_step(self, shape: Shape) -> RFStep:
        return RFStep(pair(self.kernel)[0], pair(self.stride)[0])

    def module(self, shape: Shape) -> nn.Module:
        from torch import nn

        from .modules import Padded

        c, _, _, ph, pw = self._geometry(shape)
        symmetric = ph[0] == ph[1] and pw[0] == pw[1]
        conv = nn.Conv2d(
            c,
            self.out_channels,
            pair(self.kernel),
            pair(self.stride),
            padding=(ph[0], pw[0]) if symmetric else 0,
            groups=self.groups,
            bias=self.bias,
        )
        return conv if symmetric else Padded((pw[0], pw[1], ph[0], ph[1]), 0.0, conv)


class _Pool(_Layer):
    kernel: Pair
    stride: Pair | None = None  # None: the kernel size, as both Keras and PyTorch default
    padding: Padding = 0
    ceil_mode: bool = False

    def _geometry(self, shape: Shape) -> tuple[tuple[int, int], tuple[int, int], tuple[int, int], tuple[int, int]]:
        _, h, w = need_map(self.kind, shape)  # type: ignore[attr-defined]
        k = pair(self.kernel)
        s = pair(self.stride if self.stride is not None else self.kernel)
        ph, pw = axis_pads(self.padding, 0, h, k[0], s[0]), axis_pads(self.padding, 1, w, k[1], s[1])
        if not isinstance(self.padding, str) and (max(ph) * 2 > k[0] or max(pw) * 2 > k[1]):
            raise AuditError(f"pool padding {self.padding} exceeds half the kernel {list(k)}")
        return k, s, ph, pw

    def out_shape(self, shape: Shape) -> Shape:
        k, s, ph, pw = self._geometry(shape)
        return (
            shape[0],
            window_out(shape[1], k[0], s[0], ph, self.ceil_mode),
            window_out(shape[2], k[1], s[1], pw, self.ceil_mode),
        )

    def rf_step(self, shape: Shape) -> RFStep:
        return RFStep(pair(self.kernel)[0], pair(self.stride if self.stride is not None else self.kernel)[0])


class MaxPool(_Pool):
    kind: Literal["maxpool"]

    def module(self, shape: Shape) -> nn.Module:
        from torch import nn

        from .modules import Padded

        k, s, ph, pw = self._geometry(shape)
        if ph[0] == ph[1] and pw[0] == pw[1]:
            return nn.MaxPool2d(k, s, padding=(ph[0], pw[0]), ceil_mode=self.ceil_mode)
        return Padded((pw[0], pw[1], ph[0], ph[1]), float("-inf"), nn.MaxPool2d(k, s, ceil_mode=self.ceil_mode))


class AvgPool(_Pool):
    kind: Literal["avgpool"]

    def module(self, shape: Shape) -> nn.Module:
        from torch import nn

        from .modules import CountExcludingAvgPool

        k, s, ph, pw = self._geometry(shape)
        if self.padding == "same":
            return CountExcludingAvgPool((pw[0], pw[1], ph[0], ph[1]), k, s, (shape[1], shape[2]))
        return nn.AvgPool2d(k, s, padding=(ph[0], pw[0]), ceil_mode=self.ceil_mode)


class AdaptiveAvgPool(_Layer):
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


class _LocalResponseNorm(_Layer):
    mac_rule: ClassVar[str] = UNCOUNTED

    def window(self) -> int:
        raise NotImplementedError

    def out_shape(self, shape: Shape) -> Shape:
        c, h, w = need_map(self.kind, shape)  # type: ignore[attr-defined]
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


class BatchNorm(_Layer):
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


class ReLU(_Layer):
    kind: Literal["relu"]

    def module(self, shape: Shape) -> nn.Module:
        from torch import nn

        return nn.ReLU()


class Tanh(_Layer):
    kind: Literal["tanh"]

    def module(self, shape: Shape) -> nn.Module:
        from torch import nn

        return nn.Tanh()


class Sigmoid(_Layer):
    kind: Literal["sigmoid"]

    def module(self, shape: Shape) -> nn.Module:
        from torch import nn

        return nn.Sigmoid()


class Softmax(_Layer):
    kind: Literal["softmax"]

    def module(self, shape: Shape) -> nn.Module:
        from torch import nn

        return nn.Softmax(dim=1)


class Dropout(_Layer):
    """`p` is the drop probability (TF1's keep_prob is 1 - p)."""

    kind: Literal["dropout"]
    p: float = Field(default=0.5, ge=0, lt=1)

    def module(self, shape: Shape) -> nn.Module:
        from torch import nn

        return nn.Dropout(self.p)


class Flatten(_Layer):
    kind: Literal["flatten"]

    def out_shape(self, shape: Shape) -> Shape:
        return (numel(shape),)

    def rf_step(self, shape: Shape) -> RFStep:
        # What follows sees the whole map: like a kernel as tall as the map.
        return RFStep(shape[1] if len(shape) == 3 else 1, 1)

    def module(self, shape: Shape) -> nn.Module:
        from torch import nn

        return nn.Flatten()


class Linear(_Layer):
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


_KIND_CLASSES = (
    Conv, MaxPool, AvgPool, AdaptiveAvgPool, LRN, LRNTF, BatchNorm,
    ReLU, Tanh, Sigmoid, Softmax, Dropout, Flatten, Linear,
)
LayerSpec = Annotated[Union[_KIND_CLASSES], Field(discriminator="kind")]  # type: ignore[valid-type]
