"""What a measurement gives: frozen results per layer, per stage and in total, that claims
judge and renderers format.

They live apart from analysis.py, which measures with torch and fvcore, so that judging and
rendering an analysis read from the cache (cache.py) imports neither.
"""

from __future__ import annotations

from dataclasses import dataclass

from .layers import Shape
from .spec import Spec


@dataclass(frozen=True)
class Convention:
    """What "MACs" means in this tool's figures; peers differ exactly here."""

    name: str
    counted: str
    excluded: str
    flops: str


CONVENTION = Convention(
    name="fvcore MACs",
    counted="conv and linear multiply-accumulates (bias adds not counted); BatchNorm in eval mode "
    "(2 per element); adaptive and global average pooling (1 per input element); LeNet-5's trainable "
    "subsampling (1 per window cell)",
    excluded="activations (ReLU and its variants, tanh, sigmoid, ELU, GELU, hardswish, softmax), max and average "
    "pooling, global max pooling, dropout, flatten, padding, concatenation and residual adds",
    flops="FLOPs = 2 x MACs (one multiply and one add per MAC)",
)


@dataclass(frozen=True)
class ModuleInfo:
    """What the built model holds at one position, read from the module itself (not the spec)."""

    name: str
    category: str  # conv, linear, maxpool, avgpool, adaptive_avgpool, lrn, batchnorm, relu, ...
    kernel: int | None = None
    stride: int | None = None
    p: float | None = None
    groups: int | None = None
    out_channels: int | None = None
    padding: tuple[int, int] | None = None  # (top, bottom) of the height axis
    inputs: tuple[str, ...] = ()  # the nodes feeding it (graph.Layer.inputs)
    feeds: tuple[int, ...] = ()  # the positions of the nodes it feeds
    lrn: tuple[float, float, float, float] | None = None  # an LRN's size, alpha, beta, k in PyTorch's form


WEIGHTED = ("conv", "linear")
ACTIVATIONS = ("relu", "tanh", "sigmoid", "leaky_relu", "relu6", "hardswish", "elu", "gelu")


def followers(modules: tuple[ModuleInfo, ...], index: int) -> tuple[ModuleInfo, ...]:
    """The layers that `modules[index]`'s output reaches along the data path before it meets a
    conv or linear layer, in execution order (on a line: the layers up to the next one)."""
    reached: set[int] = set()
    stack = list(modules[index].feeds)
    while stack:  # visits only what it reaches: linear in the network over all layers' calls on a line
        j = stack.pop()
        if j not in reached and modules[j].category not in WEIGHTED:
            reached.add(j)
            stack.extend(modules[j].feeds)
    return tuple(modules[j] for j in sorted(reached))


@dataclass(frozen=True)
class LayerResult:
    name: str
    kind: str
    stage: str | None
    input_shape: Shape
    output_shape: Shape
    params: int  # trainable
    non_trainable_params: int  # BatchNorm running statistics (Keras's summary() counts them)
    bias_params: int
    macs: int  # fvcore
    macs_closed_form: int
    macs_flop_counter: int | None  # FlopCounterMode FLOPs / 2, on conv and linear layers
    receptive_field: int
    effective_stride: int
    uncounted_ops: tuple[str, ...]  # ops in this layer that the convention does not cover


@dataclass(frozen=True)
class StageResult:
    """A stage or a named block (which of them: `spec.blocks`): its members' sums, and the output
    of its last node."""

    name: str
    layers: tuple[str, ...]
    output_shape: Shape
    params: int
    macs: int


@dataclass(frozen=True)
class Totals:
    params: int
    trainable_params: int
    non_trainable_params: int
    macs: int
    flops: int
    neurons: int  # conv and linear output activations: the 2012 paper's definition
    connections: int  # one weight applied to one input: the conv and linear MACs
    activation_bytes: int  # fp32 outputs of every layer for one sample
    macs_complete: bool


@dataclass(frozen=True)
class Analysis:
    spec: Spec
    layers: tuple[LayerResult, ...]
    stages: tuple[StageResult, ...]
    totals: Totals
    incomplete: tuple[str, ...]  # "lrn1: aten::pow, ..." where the MAC total leaves arithmetic out
    disagreements: tuple[str, ...]  # counters or shapes that do not agree (never hidden)
    modules: tuple[ModuleInfo, ...]  # the built model's layers, for structure claims

    @property
    def receptive_field_rule(self) -> str | None:
        """How receptive field and effective stride read where branches meet; None on a line."""
        return GRAPH_RF_RULE if self.spec.is_graph else None

    def layer(self, name: str) -> LayerResult:
        return next(layer for layer in self.layers if layer.name == name)

    def stage(self, name: str) -> StageResult | None:
        return next((s for s in self.stages if s.name == name), None)

    def target_layers(self, target: str | None) -> tuple[LayerResult, ...]:
        if target is None:
            return self.layers
        stage = self.stage(target)
        names = stage.layers if stage else (target,)
        return tuple(layer for layer in self.layers if layer.name in names)

    def output_shape(self, target: str) -> Shape:
        return self.target_layers(target)[-1].output_shape


GRAPH_RF_RULE = "the largest over all paths through the branches"
