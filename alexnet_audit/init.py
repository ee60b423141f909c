"""Weight initialisation as a source's code wrote it: schema and application.

Initialisation decides whether a network trains (N(0, 1) weights into a 9,216-wide layer do
not), so a spec records it exactly instead of taking PyTorch's default silently.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal, Union

from pydantic import Field, model_validator

from .strict import Frozen


class _Init(Frozen):
    """The base of every initialiser."""


class TorchDefault(_Init):
    """Leave the tensor as PyTorch's layer constructor made it."""

    dist: Literal["pytorch"]


class Normal(_Init):
    dist: Literal["normal"]
    mean: float = 0.0
    std: float = Field(gt=0)


class TruncatedNormal(_Init):
    """TensorFlow's truncated normal: redraw values beyond two standard deviations."""

    dist: Literal["truncated_normal"]
    mean: float = 0.0
    std: float = Field(gt=0)


class Uniform(_Init):
    dist: Literal["uniform"]
    low: float
    high: float

    @model_validator(mode="after")
    def _ordered(self) -> "Uniform":
        if self.low >= self.high:
            raise ValueError(f"low ({self.low:g}) must be below high ({self.high:g})")
        return self


class Constant(_Init):
    dist: Literal["constant"]
    value: float = 0.0


class GlorotUniform(_Init):
    """Keras's default kernel initialiser."""

    dist: Literal["glorot_uniform"]


class KaimingNormal(_Init):
    dist: Literal["kaiming_normal"]
    mode: Literal["fan_in", "fan_out"] = "fan_in"
    nonlinearity: Literal["relu", "linear", "tanh", "sigmoid"] = "relu"


InitSpec = Annotated[
    Union[TorchDefault, Normal, TruncatedNormal, Uniform, Constant, GlorotUniform, KaimingNormal],
    Field(discriminator="dist"),
]

if TYPE_CHECKING:  # torch loads only when a model is built
    import torch


class LayerInit(_Init):
    """How one conv/linear layer's weight and bias are drawn."""

    weight: InitSpec = TorchDefault(dist="pytorch")
    bias: InitSpec = TorchDefault(dist="pytorch")


FRAMEWORK_DEFAULTS: dict[str, LayerInit] = {
    # Keras Conv2D/Dense: glorot_uniform kernels, zero biases.
    "keras": LayerInit(weight=GlorotUniform(dist="glorot_uniform"), bias=Constant(dist="constant", value=0.0)),
    "pytorch": LayerInit(),
    # TF1 low-level code and the paper always state their initialisers; these defaults only
    # apply where a spec leaves a layer unstated.
    "tf1": LayerInit(weight=GlorotUniform(dist="glorot_uniform"), bias=Constant(dist="constant", value=0.0)),
    "paper": LayerInit(weight=Normal(dist="normal", std=0.01), bias=Constant(dist="constant", value=0.0)),
}


def apply_init(tensor: torch.Tensor, spec: InitSpec) -> None:
    """Fill `tensor` in place as `spec` says."""
    import torch

    with torch.no_grad():
        if isinstance(spec, Normal):
            tensor.normal_(spec.mean, spec.std)
        elif isinstance(spec, TruncatedNormal):
            torch.nn.init.trunc_normal_(
                tensor, spec.mean, spec.std, spec.mean - 2 * spec.std, spec.mean + 2 * spec.std
            )
        elif isinstance(spec, Uniform):
            tensor.uniform_(spec.low, spec.high)
        elif isinstance(spec, Constant):
            tensor.fill_(spec.value)
        elif isinstance(spec, GlorotUniform):
            torch.nn.init.xavier_uniform_(tensor)
        elif isinstance(spec, KaimingNormal):
            torch.nn.init.kaiming_normal_(tensor, mode=spec.mode, nonlinearity=spec.nonlinearity)


def describe(spec: InitSpec) -> str:
    """A short human-readable name, for reports."""
    if isinstance(spec, (Normal, TruncatedNormal)):
        return f"{spec.dist}(mean={spec.mean:g}, std={spec.std:g})"
    if isinstance(spec, Uniform):
        return f"uniform({spec.low:g}, {spec.high:g})"
    if isinstance(spec, Constant):
        return f"constant({spec.value:g})"
    if isinstance(spec, KaimingNormal):
        return f"kaiming_normal({spec.mode}, {spec.nonlinearity})"
    return spec.dist
