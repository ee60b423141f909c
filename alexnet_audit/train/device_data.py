"""The training and held-out images on the training device, where every batch is made: scaled to
[0, 1], normalised with the training part's per-channel mean and standard deviation, mapped to
the network's channels (grey replicated, colour averaged to grey) and resized to its input
(bilinear, antialiased when shrinking). A GPU so never waits on a DataLoader round trip.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import torch
import torch.nn.functional as F

from ..errors import AuditError
from .image_set import ImageSet


@dataclass(frozen=True)
class DeviceData:
    """Images resident on the training device; `batch` makes network inputs there."""

    x: torch.Tensor  # uint8 (N, C, h, w) as stored
    y: torch.Tensor  # int64 (N,)
    mean: torch.Tensor  # (1, C, 1, 1), per stored channel, in [0, 1] units
    std: torch.Tensor
    shape: tuple[int, int, int]  # the network's input (C, H, W)
    channels_last: bool

    @property
    def n(self) -> int:
        return int(self.x.shape[0])

    def batch(self, idx: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.inputs(self.x[idx]), self.y[idx]

    def inputs(self, raw: torch.Tensor) -> torch.Tensor:
        x = (raw.float() / 255 - self.mean) / self.std
        c, h, w = self.shape
        if x.shape[1] != c:
            x = x.mean(1, keepdim=True) if c == 1 else x.expand(-1, c, -1, -1)
        if tuple(x.shape[-2:]) != (h, w):
            shrink = x.shape[-2] > h or x.shape[-1] > w
            x = F.interpolate(x, size=(h, w), mode="bilinear", align_corners=False, antialias=shrink)
        return x.contiguous(memory_format=torch.channels_last if self.channels_last else torch.contiguous_format)

    def subset(self, idx: torch.Tensor) -> "DeviceData":
        return replace(self, x=self.x[idx], y=self.y[idx])


def _channel_stats(x: torch.Tensor, chunk: int = 256) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-channel mean and standard deviation of uint8 images in [0, 1] units, in float64 chunks."""
    total = torch.zeros(x.shape[1], dtype=torch.float64)
    squares = torch.zeros(x.shape[1], dtype=torch.float64)
    for start in range(0, len(x), chunk):
        part = x[start:start + chunk].double() / 255
        total += part.sum((0, 2, 3))
        squares += (part * part).sum((0, 2, 3))
    count = x.shape[0] * x.shape[2] * x.shape[3]
    mean = total / count
    std = (squares / count - mean * mean).clamp_min(1e-12).sqrt()
    return mean.float().view(1, -1, 1, 1), std.clamp_min(1e-3).float().view(1, -1, 1, 1)


def to_device(images: ImageSet, shape: tuple[int, int, int], device: torch.device,
              channels_last: bool) -> tuple[DeviceData, DeviceData]:
    """The training and held-out parts on `device`, both normalised with the training part's statistics."""
    stored = images.x_train.shape[1]
    if stored != shape[0] and shape[0] != 1 and stored != 1:
        raise AuditError(f"the network takes {shape[0]}-channel input; {images.name}'s {stored}-channel images "
                         "cannot be mapped to it (only grey to any, or colour to grey)")
    mean, std = _channel_stats(images.x_train)
    make = lambda x, y: DeviceData(x.to(device), y.to(device), mean.to(device), std.to(device), shape, channels_last)  # noqa: E731
    return make(images.x_train, images.y_train), make(images.x_test, images.y_test)
