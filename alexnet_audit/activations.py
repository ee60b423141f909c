"""Activation kinds: weightless, shape-keeping, excluded from the MAC convention by definition."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field

from .layer_base import BaseLayer, Shape

if TYPE_CHECKING:
    from torch import nn


class ReLU(BaseLayer):
    kind: Literal["relu"]

    def module(self, shape: Shape) -> nn.Module:
        from torch import nn

        return nn.ReLU()


class LeakyReLU(BaseLayer):
    """`slope` is PyTorch's negative_slope (0.01); Keras's LeakyReLU defaults to 0.3."""

    kind: Literal["leaky_relu"]
    slope: float = Field(default=0.01, ge=0, le=1)

    def module(self, shape: Shape) -> nn.Module:
        from torch import nn

        return nn.LeakyReLU(self.slope)


class ReLU6(BaseLayer):
    kind: Literal["relu6"]

    def module(self, shape: Shape) -> nn.Module:
        from torch import nn

        return nn.ReLU6()


class Hardswish(BaseLayer):
    kind: Literal["hardswish"]

    def module(self, shape: Shape) -> nn.Module:
        from torch import nn

        return nn.Hardswish()


class ELU(BaseLayer):
    kind: Literal["elu"]
    alpha: float = Field(default=1.0, gt=0, le=100)

    def module(self, shape: Shape) -> nn.Module:
        from torch import nn

        return nn.ELU(self.alpha)


class GELU(BaseLayer):
    """`approximate: tanh` is the tanh approximation (Keras's `approximate=True`)."""

    kind: Literal["gelu"]
    approximate: Literal["none", "tanh"] = "none"

    def module(self, shape: Shape) -> nn.Module:
        from torch import nn

        return nn.GELU(approximate=self.approximate)


class Tanh(BaseLayer):
    """amplitude * tanh(input_scale * x); LeCun et al. (1998) squash with 1.7159 * tanh(2x/3)."""

    kind: Literal["tanh"]
    amplitude: float = Field(default=1.0, gt=0, le=100)
    input_scale: float = Field(default=1.0, gt=0, le=100)

    def module(self, shape: Shape) -> nn.Module:
        from torch import nn

        from .modules import ScaledTanh

        if self.amplitude == 1.0 and self.input_scale == 1.0:
            return nn.Tanh()
        return ScaledTanh(self.amplitude, self.input_scale)


class Sigmoid(BaseLayer):
    kind: Literal["sigmoid"]

    def module(self, shape: Shape) -> nn.Module:
        from torch import nn

        return nn.Sigmoid()


class Softmax(BaseLayer):
    kind: Literal["softmax"]

    def module(self, shape: Shape) -> nn.Module:
        from torch import nn

        return nn.Softmax(dim=1)
