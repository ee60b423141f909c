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
