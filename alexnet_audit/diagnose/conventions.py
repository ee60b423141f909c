"""What other tools report for the same layers, each by its own documented convention."""

from __future__ import annotations

import math
from typing import Sequence

from ..figures import Row
from ..spec import Spec

_POOLS = ("maxpool", "avgpool", "adaptive_avgpool", "global_avgpool", "global_maxpool")
# ptflops counts one op per output of these (it has no hook for hardswish, tanh or sigmoid).
_PTFLOPS_ACTIVATIONS = ("relu", "leaky_relu", "relu6", "elu", "gelu")


def peer_conventions(rows: Sequence[Row], spec: Spec, target: str | None) -> list[tuple[str, int, int]]:
    """What other tools report for the same layers, each by its own documented convention, with
    its departures from this tool's: how many of the counted parts (conv/linear MACs, bias adds,
    activations, pooling, BatchNorm, the rest) it counts otherwise on this network."""
    chosen = [r for r in rows if target is None or r.name in spec.stages.get(target, (target,))]
    weighted = [r for r in chosen if r.kind in ("conv", "linear")]
    core = sum(r.macs for r in weighted)
    bias_adds = sum(math.prod(r.output_shape) for r in weighted if r.bias_params)
    relu = sum(math.prod(r.output_shape) for r in chosen if r.kind in _PTFLOPS_ACTIVATIONS)
    pools = sum(math.prod(r.input_shape) for r in chosen if r.kind in _POOLS)
    bn = sum(r.macs for r in chosen if r.kind == "batchnorm")
    bn_params = sum(r.params for r in chosen if r.kind == "batchnorm")  # torchinfo: weight and bias, once
    own_pools = sum(r.macs for r in chosen if r.kind in _POOLS)
    rest = sum(r.macs for r in chosen) - core - bn - own_pools  # what only this tool has a rule for (subsampling)
    own = {"core": core, "bias": 0, "activations": 0, "pools": own_pools, "batchnorm": bn, "rest": rest}

    def departures(**parts: int) -> int:
        return sum(1 for k, v in own.items() if parts.get(k, 0) != v)

    return [
        ("torchinfo's Mult-Adds (conv/linear MACs plus one add per bias output; BatchNorm as its 2 x C parameters)",
         core + bias_adds + bn_params, departures(core=core, bias=bias_adds, batchnorm=bn_params)),
        ("ptflops's MACs (adds bias, one op per ReLU output and per pooled input element)", core + bias_adds + relu + pools + bn,
         departures(core=core, bias=bias_adds, activations=relu, pools=pools, batchnorm=bn)),
        ("FlopCounterMode/calflops FLOPs (2 x conv and linear MACs)", 2 * core, departures(core=core)),
        ("fvcore's count without BatchNorm and pooling (conv and linear MACs only)", core, departures(core=core)),
    ]


def peer_mac_figures(rows: Sequence[Row], spec: Spec, target: str | None) -> list[tuple[str, int]]:
    """What other tools report for the same layers, each by its own documented convention."""
    return [(label, value) for label, value, _ in peer_conventions(rows, spec, target)]

