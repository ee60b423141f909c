"""Blocks: a conv or linear layer with the layers that follow it up to the next conv or linear
layer (its activation, normalisation, pooling, dropout), read off the built model. Layers before
the first conv/linear layer belong to no block; the totals still count them."""

from __future__ import annotations

from dataclasses import dataclass

from ..results import WEIGHTED, Analysis, ModuleInfo, followers
from ..layers import Shape

NORMS = ("lrn", "batchnorm")
POOLS = ("maxpool", "avgpool", "adaptive_avgpool", "subsample", "global_avgpool", "global_maxpool")
WINDOWED = {"maxpool": "max", "avgpool": "avg", "subsample": "subsampling"}  # pools with a kernel and stride

NAMES = {"relu": "ReLU", "tanh": "tanh", "sigmoid": "sigmoid", "softmax": "softmax", "lrn": "LRN",
          "batchnorm": "BatchNorm", "adaptive_avgpool": "adaptive avg pool", "conv": "conv", "linear": "FC",
          "leaky_relu": "leaky ReLU", "relu6": "ReLU6", "hardswish": "hardswish", "elu": "ELU", "gelu": "GELU",
          "global_avgpool": "global avg pool", "global_maxpool": "global max pool"}


@dataclass(frozen=True)
class Block:
    """A conv or linear layer and the layers after it, up to the next conv or linear layer."""

    name: str
    kind: str  # conv | linear
    position: int  # 1-based among the network's layers of the same kind
    module: ModuleInfo
    followers: tuple[ModuleInfo, ...]
    output_shape: Shape  # of the conv/linear layer itself
    params: int  # trainable, the whole block (a BatchNorm's gamma and beta included)
    macs: int  # the whole block
    bias: bool

    @property
    def label(self) -> str:
        return f"{NAMES[self.kind]} {self.position}"


def blocks(analysis: Analysis) -> tuple[Block, ...]:
    modules = analysis.modules
    starts = [i for i, m in enumerate(modules) if m.category in WEIGHTED]
    out: list[Block] = []
    seen: dict[str, int] = {}
    for n, start in enumerate(starts):
        end = starts[n + 1] if n + 1 < len(starts) else len(modules)
        layers = analysis.layers[start:end]
        head = modules[start]
        seen[head.category] = seen.get(head.category, 0) + 1
        out.append(Block(
            head.name, head.category, seen[head.category], head, followers(modules, start),
            layers[0].output_shape,
            sum(lr.params for lr in layers), sum(lr.macs for lr in layers), layers[0].bias_params > 0,
        ))
    return tuple(out)


