"""The nn.Module helpers the layer registry builds with, where no stock PyTorch module fits."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class Padded(nn.Module):
    """Pads (left, right, top, bottom) with a constant, then applies `inner`: asymmetric TF SAME."""

    def __init__(self, pads: tuple[int, int, int, int], value: float, inner: nn.Module) -> None:
        super().__init__()
        self.pads = pads
        self.value = value
        self.inner = inner

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.inner(F.pad(x, self.pads, value=self.value))


class CountExcludingAvgPool(nn.Module):
    """TF's SAME average pooling: padded cells do not count in the mean, even when asymmetric."""

    def __init__(self, pads: tuple[int, int, int, int], kernel: tuple[int, int], stride: tuple[int, int], in_hw: tuple[int, int]) -> None:
        super().__init__()
        self.pads = pads
        self.pool = nn.AvgPool2d(kernel, stride)
        ones = F.pad(torch.ones(1, 1, *in_hw), pads)
        self.register_buffer("inv_count", 1.0 / self.pool(ones), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pool(F.pad(x, self.pads)) * self.inv_count


class PartialConv2d(nn.Module):
    """A conv whose output map i sees only the input maps `connections[i]` (LeNet-5's C3 table).

    Each output map is its own nn.Conv2d over the maps its row names, so every counter that
    hooks nn.Conv2d (fvcore, thop, ptflops, torchinfo) sees exactly the connected weights. (On a
    CPU this runs faster than grouping the maps of equal fan-in into grouped convolutions.) The
    attributes below describe the layer as a whole, for readers of the built model.
    """

    def __init__(self, connections: tuple[tuple[int, ...], ...], kernel: tuple[int, int], stride: tuple[int, int],
                 padding: tuple[int, int], dilation: tuple[int, int], bias: bool) -> None:
        super().__init__()
        self.kernel_size, self.stride, self.padding, self.dilation = kernel, stride, padding, dilation
        self.groups = 1
        self.out_channels = len(connections)
        self.rows = [list(row) for row in connections]
        self.maps = nn.ModuleList(nn.Conv2d(len(row), 1, kernel, stride, padding, dilation, bias=bias) for row in connections)
        # Index tensors made once per device, on first use: indexing with a Python list copies it to
        # the device on every call, which a CUDA graph cannot capture. Not buffers: a model built on
        # the meta device and then given empty storage would hold garbage indices.
        self._indices: dict[torch.device, list[torch.Tensor]] = {}

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.device not in self._indices:
            self._indices[x.device] = [torch.tensor(row, device=x.device) for row in self.rows]
        return torch.cat([conv(x[:, index]) for conv, index in zip(self.maps, self._indices[x.device])], dim=1)


class SumPoolAffine(nn.Module):
    """LeCun et al.'s subsampling: a window's sum times a per-map coefficient, plus a per-map bias.

    Computed as a depthwise convolution whose kernel repeats the map's coefficient, so fvcore
    and FlopCounterMode count it as the convolution it is.
    """

    def __init__(self, channels: int, kernel: tuple[int, int], stride: tuple[int, int]) -> None:
        super().__init__()
        self.kernel_size, self.stride = kernel, stride
        # The paper's rule: uniform in +-2.4 / fan-in, the fan-in being the window's size.
        bound = 2.4 / (kernel[0] * kernel[1])
        self.coefficient = nn.Parameter(torch.empty(channels).uniform_(-bound, bound))
        self.offset = nn.Parameter(torch.empty(channels).uniform_(-bound, bound))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        kernel = self.coefficient.view(-1, 1, 1, 1).expand(-1, 1, *self.kernel_size)
        return F.conv2d(x, kernel, self.offset, self.stride, groups=self.coefficient.numel())


class RBFUnits(nn.Module):
    """Output j = sum_i (x_i - centre_ji)^2. Fixed centres are a +1/-1 buffer drawn from the seeded RNG."""

    def __init__(self, in_features: int, out_features: int, trainable: bool) -> None:
        super().__init__()
        centres = torch.empty(out_features, in_features)
        if not centres.is_meta:  # built on meta only to be counted: nothing to draw (meta randint imports sympy)
            centres = torch.randint(0, 2, (out_features, in_features)).float() * 2 - 1
        if trainable:
            self.centres = nn.Parameter(centres)
        else:
            self.register_buffer("centres", centres)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return ((x.unsqueeze(1) - self.centres) ** 2).sum(dim=-1)


class ScaledTanh(nn.Module):
    """amplitude * tanh(input_scale * x): the 1998 LeNet-5's squashing function with (1.7159, 2/3)."""

    def __init__(self, amplitude: float, input_scale: float) -> None:
        super().__init__()
        self.amplitude, self.input_scale = amplitude, input_scale
        self.tanh = nn.Tanh()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.amplitude * self.tanh(self.input_scale * x)


class GlobalAvgPool2d(nn.Sequential):
    """The mean of each map, as a vector: adaptive pooling to 1x1 (what fvcore counts), then flatten."""

    def __init__(self) -> None:
        super().__init__(nn.AdaptiveAvgPool2d(1), nn.Flatten())


class GlobalMaxPool2d(nn.Sequential):
    """The maximum of each map, as a vector."""

    def __init__(self) -> None:
        super().__init__(nn.AdaptiveMaxPool2d(1), nn.Flatten())
