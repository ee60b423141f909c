"""Analysis needs no weights: every figure `analyse` gets on the meta device (and from fvcore on
uninitialised storage) equals, to the last digit, what the network gives when it runs for real
on the CPU, counted here by fvcore, FlopCounterMode and forward hooks over one whole forward pass."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch
from fvcore.nn import FlopCountAnalysis
from hypothesis import given, note, settings
from torch.utils.flop_counter import FlopCounterMode

from alexnet_audit.analysis import Analysis, analyse
from alexnet_audit.build import build_meta
from alexnet_audit.layers import EXCLUDED
from alexnet_audit.node_counts import NodeCounts
from alexnet_audit.spec import Spec, load_spec, spec_from_text

from conftest import ROOT
from helpers import spec_text
from strategies import Net, nets

SPEC_PATHS = sorted((ROOT / "specs").glob("*.yaml"))
# The old path runs every whole network for real: a third of the profile's examples
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


def _zeroed(spec: Spec) -> torch.nn.Module:
    """The network on the CPU with every parameter and buffer zero. No figure compared here (shapes,
    parameter and buffer sizes, fvcore's and FlopCounterMode's counts, the ops fvcore cannot count)
    depends on the values, so drawing the spec's initial weights (a second for VGG16's 138 million)
    would prove nothing more; zeros rather than uninitialised storage, so no stray NaN or
    denormal slows the real forward passes."""
    model = build_meta(spec).to_empty(device="cpu")
    with torch.no_grad():
        for tensor in (*model.parameters(), *model.buffers()):
            tensor.zero_()
    return model


def _real(spec: Spec) -> dict[str, Measured]:
    """The path the tool took before: the whole network on real storage, two real forward passes."""
    model = _zeroed(spec).eval()
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


def _same_figures(spec: Spec, a: Analysis | None = None) -> None:
    a = a or analyse(spec)
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
def test_shipped_spec_figures_equal_the_real_forward(path: Path, shipped: dict[str, Analysis]) -> None:
    # The session's audit of every shipped spec, as `compare specs/*.yaml` counts them (one count
    # per distinct node across the specs), is what is checked; it also spares analysing each again.
    _same_figures(load_spec(path), shipped[path.stem])


@FEWER
@given(net=nets())
def test_random_network_figures_equal_the_real_forward(net: Net) -> None:
    note(net.text)
    _same_figures(spec_from_text(net.text, "fuzz.yaml"))


@FEWER
@given(net=nets(graphs=True))
def test_random_graph_figures_equal_the_real_forward(net: Net) -> None:
    note(net.text)
    _same_figures(spec_from_text(net.text, "fuzz.yaml"))


def _strided(stride: int, out_features: int) -> Spec:
    layers = (f"  - {{kind: conv, name: conv, out_channels: 4, kernel: 3, stride: {stride}}}\n"
              "  - {kind: relu}\n  - {kind: flatten}\n"
              f"  - {{kind: linear, name: fc, out_features: 10, in_features: {out_features}}}\n")
    return spec_from_text(spec_text(layers, input="[3, 8, 8]", id=f"s{stride}"))


def test_nodes_shared_by_specs_are_counted_once_and_only_where_they_are_the_same() -> None:
    # One NodeCounts for three specs, as audit_paths shares it: the convs differ only in stride
    # (same input shape, same weight shape), so a count reused across them would show here.
    counts = NodeCounts()
    one, two, one_again = (analyse(s, counts) for s in (_strided(1, 4 * 6 * 6), _strided(2, 4 * 3 * 3), _strided(1, 4 * 6 * 6)))
    # stride 1: 8 - 3 + 1 = 6, so 6x6 outputs of 3*3*3 MACs each for 4 channels; stride 2: (8 - 3) // 2 + 1 = 3
    assert (one.layer("conv").output_shape, one.layer("conv").macs) == ((4, 6, 6), 4 * 6 * 6 * 3 * 3 * 3)
    assert (two.layer("conv").output_shape, two.layer("conv").macs) == ((4, 3, 3), 4 * 3 * 3 * 3 * 3 * 3)
    assert (one.layer("fc").macs, two.layer("fc").macs) == (144 * 10, 36 * 10)
    assert one.layer("conv").macs_flop_counter == 4 * 6 * 6 * 27 and two.layer("conv").macs_flop_counter == 4 * 3 * 3 * 27
    assert one_again.layers == one.layers and not one.disagreements and not two.disagreements


@pytest.mark.starts_processes
def test_counting_and_eager_training_import_neither_sympy_nor_dynamo() -> None:
    # Meta kernels import sympy (through torch._check), torch._dynamo wraps FlopCounterMode and an
    # optimiser's methods: each costs a second or more of every run. LeNet-5 (RBF centres,
    # trainable subsampling) and the 2012 AlexNet (LRN, grouped convs) cover the unusual nodes;
    # then a few steps of LeNet-5 on the CPU, one process, as `train` runs it.
    lenet = str(ROOT / "specs/paper-lenet5-1998.yaml")
    code = ("import sys\nfrom alexnet_audit.audit import audit_paths\n"
            "from alexnet_audit.spec import load_spec\nfrom alexnet_audit.train.run import TrainOptions, train_spec\n"
            f"run = audit_paths([{lenet!r}, {str(ROOT / 'specs/paper-alexnet-2012.yaml')!r}])\n"
            "assert len(run.audits) == 2, run.broken\n"
            f"record = train_spec(load_spec({lenet!r}), TrainOptions(data='mnist5k', steps=3, device='cpu', seeds=1))\n"
            "assert record is not None and record.schedule.steps == 3\n"
            "print(sorted(m for m in ('sympy', 'torch._dynamo', 'torch.fx.experimental.symbolic_shapes') if m in sys.modules))")
    # One thread, as each xdist worker runs (conftest): the thread count changes no import, while two
    # threads against the other worker for two cores doubled the child's CPU time (9 s against 4.5 s).
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True, cwd=ROOT, timeout=120,
                          env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "[]"
