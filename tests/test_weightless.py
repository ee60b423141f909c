"""Analysis needs no weights: every figure `analyse` gets on the meta device (and from fvcore on
uninitialised storage) equals, to the last digit, what the initialised network gives when it
runs for real on the CPU, counted here by fvcore, FlopCounterMode and forward hooks."""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch
from fvcore.nn import FlopCountAnalysis
from hypothesis import given, note, settings
from torch.utils.flop_counter import FlopCounterMode

from alexnet_audit.analysis import analyse
from alexnet_audit.build import build_model
from alexnet_audit.layers import EXCLUDED
from alexnet_audit.spec import Spec, load_spec, spec_from_text

from conftest import ROOT
from strategies import Net, nets

SPEC_PATHS = sorted((ROOT / "specs").glob("*.yaml"))
# The old path initialises and runs every network for real: a third of the profile's examples
# (the fuzz and oracle suites already run the full count through the new path).
FEWER = settings(max_examples=max(10, settings.default.max_examples // 3))


@dataclass(frozen=True)
class Measured:
    shape: tuple[int, ...]
    params: int
    stats: int
    bias: int
    macs: int
    flop_counter_macs: int
    uncounted: tuple[str, ...]


def _real(spec: Spec) -> dict[str, Measured]:
    """The path the tool took before: the spec's initialised weights, two real forward passes."""
    model = build_model(spec).eval()
    x = torch.zeros(1, *spec.doc.input)
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        logging.getLogger("fvcore").setLevel(logging.ERROR)
        fv = FlopCountAnalysis(model, x)
        fv.unsupported_ops_warnings(False)
        fv.uncalled_modules_warnings(False)
        fv.tracer_warnings("none")
        by_module = fv.by_module()
        shapes: dict[str, tuple[int, ...]] = {}
        hooks = [m.register_forward_hook(lambda _m, _i, out, key=f"nodes.{i}": shapes.__setitem__(key, tuple(out.shape[1:])))
                 for i, m in enumerate(model.nodes)]
        with FlopCounterMode(display=False) as counter:
            model(x)
        for hook in hooks:
            hook.remove()
    flops = counter.get_flop_counts()
    out = {}
    for i, (name, module) in enumerate(model.named_layers()):
        key = f"nodes.{i}"
        out[name] = Measured(
            shapes[key],
            sum(p.numel() for p in module.parameters()),
            sum(b.numel() for n, b in module.named_buffers() if n.endswith(("running_mean", "running_var"))),
            sum(p.numel() for n, p in module.named_parameters() if n.endswith("bias")),
            int(by_module.get(key, 0)),
            sum(flops.get(f"SpecNet.{key}", {}).values()) // 2,
            tuple(sorted(fv.unsupported_ops(key))),
        )
    return out


def _same_figures(spec: Spec) -> None:
    a = analyse(spec)
    real = _real(spec)
    assert [lr.name for lr in a.layers] == list(real)
    for lr, layer in zip(a.layers, spec.layers):
        r = real[lr.name]
        assert (lr.output_shape, lr.params, lr.non_trainable_params, lr.bias_params, lr.macs) == (
            r.shape, r.params, r.stats, r.bias, r.macs), lr.name
        if lr.kind in ("conv", "linear"):
            assert lr.macs_flop_counter == r.flop_counter_macs, lr.name
        # Ops the convention excludes by definition are not "uncounted" (ReLU, pooling, ...).
        assert lr.uncounted_ops == (r.uncounted if layer.spec.mac_rule != EXCLUDED else ()), lr.name
    assert a.totals.macs == sum(r.macs for r in real.values())
    assert a.totals.params == sum(r.params + r.stats for r in real.values())


@pytest.mark.parametrize("path", SPEC_PATHS, ids=lambda p: p.stem)
def test_shipped_spec_figures_equal_the_initialised_real_forward(path: Path) -> None:
    _same_figures(load_spec(path))


@FEWER
@given(net=nets())
def test_random_network_figures_equal_the_initialised_real_forward(net: Net) -> None:
    note(net.text)
    _same_figures(spec_from_text(net.text, "fuzz.yaml"))


@FEWER
@given(net=nets(graphs=True))
def test_random_graph_figures_equal_the_initialised_real_forward(net: Net) -> None:
    note(net.text)
    _same_figures(spec_from_text(net.text, "fuzz.yaml"))
