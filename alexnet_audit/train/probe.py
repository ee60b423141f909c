"""What a network's activations say about why it might not train: each layer's output scale and
its dead ReLUs on one batch, at initialisation and after the run, read down to one finding.

Kept apart from verdict.py so that the verdict's rules stay pure arithmetic on recorded figures
(an old record is re-judged without torch); this module is the part that needs the network.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from ..build import SpecNet

EXPLODING_RMS = 1e3  # inputs are normalised to unit scale; a thousandfold growth is not learning
VANISHING_RMS = 1e-4
DEAD_FRACTION = 0.9


@dataclass(frozen=True)
class LayerProbe:
    name: str
    rms: float  # root mean square of the layer's output on the probe batch
    dead: float | None  # ReLU layers: share of channels/features that never fire on the batch


@torch.no_grad()
def probe(model: SpecNet, x: torch.Tensor) -> tuple[LayerProbe, ...]:
    """Every layer's output scale, and dead ReLUs, on one batch in fp32 and eval mode."""
    model.eval()
    outputs: dict[str, torch.Tensor] = {}
    hooks = [module.register_forward_hook(lambda _m, _i, out, name=name: outputs.__setitem__(name, out))
             for name, module in model.named_layers()]
    try:
        model(x.float())
    finally:
        for hook in hooks:
            hook.remove()
    probes = []
    for name, module in model.named_layers():
        out = outputs[name]
        dead = None
        if isinstance(module, nn.ReLU):
            fired = (out > 0).flatten(2).any(2) if out.dim() > 2 else out > 0  # (N, channels or features)
            dead = 1 - fired.any(0).float().mean().item()
        probes.append(LayerProbe(name, out.float().pow(2).mean().sqrt().item(), dead))
    return tuple(probes)


def structural_finding(at_init: tuple[LayerProbe, ...], at_end: tuple[LayerProbe, ...], images: int) -> str | None:
    """The first thing in the activations that stops a network learning, in this order: outputs
    that explode (at initialisation or after training), ReLUs that no longer fire, outputs that
    vanish at initialisation; None when the activations look healthy."""
    for when, probes in (("at initialisation", at_init), ("after training", at_end)):
        big = next((p for p in probes if not math.isfinite(p.rms) or p.rms > EXPLODING_RMS), None)
        if big:
            return f"exploding activations at layer {big.name} (output RMS {big.rms:.3g} {when}, inputs of RMS about 1)"
    dead = next((p for p in at_end if p.dead is not None and p.dead >= DEAD_FRACTION), None)
    if dead:
        return f"most ReLUs dead: {dead.dead:.0%} of the units after {dead.name} never fire on a batch of {images}"
    small = next((p for p in at_init if p.rms < VANISHING_RMS), None)
    if small:
        return f"vanishing activations: by layer {small.name} the output RMS is {small.rms:.3g} at initialisation"
    return None
