"""`alexnet-audit import --module FILE.py:NAME`: a live nn.Module, read by running it.

This path explicitly runs the user's own file (it is their model, not a post's listing). The
module is traced with torch.fx where it traces: calls of modules, functions and methods in
execution order, with the tensors each one takes, so branches that merge (`out += identity`,
`torch.cat`) become the graph blocks of a spec. Where fx cannot trace, the leaf modules are taken
in the order a forward pass calls them. The written spec is then measured and compared with the
live module layer by layer: parameters, and fvcore's MACs.
"""

from __future__ import annotations

import importlib.util
import operator
import re
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from ..errors import AuditError
from .common import Sizes, slug
from .emit import live_yaml
from .reading import Reading
from .signatures import bind
from .torch_args import LIVE_FUNCTIONS, MODULES
from .torch_layers import functional_fields
from .tree import GNode, Graph


def import_live(target: str, *, input: tuple[int, int, int] | None, spec_id: str | None) -> Any:
    from . import Imported
    from .source import Listing

    path, _, name = target.rpartition(":")
    if not path or not name:
        raise AuditError(f"--module {target!r}: expected FILE.py:NAME")
    model = _load(Path(path), name)
    reading = Reading("pytorch", name)
    shape = input or _guess_input(model, reading)
    reading.input, reading.input_from = shape, "--input" if input else None
    try:
        graph = _trace(model, shape, reading)
    except AuditError as exc:
        raise exc.located(file=path) from None
    text = live_yaml(graph, reading, path=path, spec_id=spec_id or f"{slug(name)}-live")
    differences = round_trip(model, text, shape)
    return Imported(text, reading, Listing(path, "", (), ()), tuple(differences))


def _load(path: Path, name: str) -> Any:
    from torch import nn

    if not path.is_file():
        raise AuditError("cannot read the file", file=str(path))
    spec = importlib.util.spec_from_file_location(f"_alexnet_audit_user_{abs(hash(str(path)))}", path)
    if spec is None or spec.loader is None:
        raise AuditError("not a Python file", file=str(path))
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(path.parent.resolve()))
    try:
        spec.loader.exec_module(module)
    except Exception as exc:  # noqa: BLE001 - the user's own code: any failure of it is theirs to see
        raise AuditError(f"running it failed: {type(exc).__name__}: {exc}", file=str(path)) from None
    finally:
        sys.path.pop(0)
    obj = getattr(module, name, None)
    if obj is None:
        raise AuditError(f"{name!r} is not defined in it", file=str(path))
    if not isinstance(obj, nn.Module):
        try:
            obj = obj()
        except Exception as exc:  # noqa: BLE001
            raise AuditError(f"{name}() failed: {type(exc).__name__}: {exc}", file=str(path)) from None
    if not isinstance(obj, nn.Module):
        raise AuditError(f"{name} is not an nn.Module (nor a class or function that makes one)", file=str(path))
    return obj.eval()


def _guess_input(model: Any, reading: Reading) -> tuple[int, int, int]:
    from torch import nn

    conv = next((m for m in model.modules() if isinstance(m, nn.Conv2d)), None)
    channels = conv.in_channels if conv is not None else 3
    reading.assumed.append(f"input {channels}x224x224: no --input given (the channels from the first convolution)")
    return (channels, 224, 224)


# ---------------------------------------------------------------- tracing


def _trace(model: Any, shape: tuple[int, int, int], reading: Reading) -> Graph:
    try:
        gm = _traced(model, stack_traces=False)
    except Exception as exc:  # noqa: BLE001 - fx refuses data-dependent control flow and more: fall back, say so
        reading.assumed.append(f"torch.fx cannot trace the model ({type(exc).__name__}): its leaf modules are taken "
                               "in the order a forward pass calls them; functional calls in forward() are not seen")
        return _by_calls(model, shape, reading)
    reading.read.append((0, "traced with torch.fx"))
    try:
        return _from_fx(gm, reading)
    except AuditError:
        # Stack traces cost seconds the first time, so only a refused call pays for them: the
        # same trace again, now with each call's file and line, refuses it again where it is.
        return _from_fx(_traced(model, stack_traces=True), reading)


def _traced(model: Any, *, stack_traces: bool) -> Any:
    from torch import fx

    tracer = fx.Tracer()
    tracer.record_stack_traces = stack_traces
    graph = tracer.trace(model)
    return fx.GraphModule(tracer.root, graph, type(model).__name__)


_PASS = {"contiguous", "clone", "detach", "float", "to", "dropout_eval"}


def _from_fx(gm: Any, reading: Reading) -> Graph:
    import torch

    graph = Graph()
    alias: dict[str, str] = {}
    uses: dict[str, int] = {}

    def tensor_inputs(node: Any) -> list[str]:
        names = []
        for arg in node.all_input_nodes:
            if arg.name in alias:
                names.append(alias[arg.name])
        return names

    for node in gm.graph.nodes:
        if node.op == "placeholder":
            alias[node.name] = graph.input = node.name
            continue
        if node.op == "output":
            graph.output = alias[node.all_input_nodes[0].name]
            continue
        inputs = tensor_inputs(node)
        if node.op == "get_attr" or not inputs:
            continue
        if node.op == "call_module":
            module = gm.get_submodule(node.target)
            layer = module_layer(module, node.target)
            if layer is None:  # Identity
                alias[node.name] = inputs[0]
                continue
            uses[node.target] = uses.get(node.target, 0) + 1
            name = node.target if uses[node.target] == 1 else f"{node.target}_{uses[node.target]}"
            graph.add(GNode(name, layer, inputs[:1], module=node.target if uses[node.target] == 1 else None,
                            code=type(module).__name__))
            alias[node.name] = name
            continue
        fn = node.target if isinstance(node.target, str) else getattr(node.target, "__name__", str(node.target))
        if fn in ("size", "dim", "shape", "getattr", "getitem") and node.op != "call_module":
            continue
        if fn in ("add", "iadd", "add_") and len(inputs) == 2 or node.target in (operator.add, operator.iadd, torch.add) and len(inputs) == 2:
            graph.add(GNode(node.name, None, inputs, merge="add", code="+"))
            alias[node.name] = node.name
        elif fn == "cat":
            graph.add(GNode(node.name, None, inputs, merge="concat", code="torch.cat"))
            alias[node.name] = node.name
        elif fn in ("view", "reshape"):
            graph.add(GNode(node.name, {"kind": "flatten"}, inputs[:1], code=fn))
            alias[node.name] = node.name
        elif fn in LIVE_FUNCTIONS:
            graph.add(GNode(node.name, _function_layer(fn, node, reading), inputs[:1], code=fn))
            alias[node.name] = node.name
        elif fn in _PASS:
            alias[node.name] = inputs[0]
        else:
            raise AuditError(f"{node.format_node()}: {fn} is not an operation a spec can hold")
    return graph


def _function_layer(fn: str, node: Any, reading: Reading) -> dict[str, Any]:
    """A traced functional call's layer: every argument after the input bound by the table, each
    refusal (an argument the table refuses, or a value of the wrong sort) located at the call."""
    sig = LIVE_FUNCTIONS[fn]
    where = re.search(r'File "(.+?)", line (\d+), in \S+\n\s*(.*)', node.stack_trace or "")
    code = node.format_node() if where is None else where.group(3).strip()
    kind = sig.kind or fn
    try:
        bound = bind(sig, node.args[1:], node.kwargs, code)
        return {"kind": kind, **functional_fields(kind, bound, Sizes(reading, lambda _: code), 0)}
    except AuditError as exc:
        if where is None:
            raise  # traced without stack traces: _trace traces again with them, to locate this refusal
        raise exc.located(file=where.group(1), line=int(where.group(2))) from None


def _pair(value: Any) -> Any:
    if isinstance(value, (tuple, list)):
        return value[0] if value[0] == value[1] else list(value)
    return value


def module_layer(m: Any, name: str) -> dict[str, Any] | None:
    """A leaf module's spec fields (None for Identity); anything else is not a spec layer."""
    from torch import nn

    _bind_module(m, name)
    if isinstance(m, nn.Conv2d):
        out = {"kind": "conv", "out_channels": m.out_channels, "kernel": _pair(m.kernel_size)}
        if _pair(m.dilation) != 1:
            out["dilation"] = _pair(m.dilation)
        if _pair(m.stride) != 1:
            out["stride"] = _pair(m.stride)
        padding = m.padding if isinstance(m.padding, str) else _pair(m.padding)
        if padding != 0:
            out["padding"] = padding
        if m.groups != 1:
            out["groups"] = m.groups
        if m.bias is None:
            out["bias"] = False
        return out
    if isinstance(m, nn.Linear):
        out = {"kind": "linear", "out_features": m.out_features, "in_features": m.in_features}
        return out if m.bias is not None else {**out, "bias": False}
    if isinstance(m, (nn.MaxPool2d, nn.AvgPool2d)):
        out = {"kind": "maxpool" if isinstance(m, nn.MaxPool2d) else "avgpool", "kernel": _pair(m.kernel_size),
               "stride": _pair(m.stride)}
        if _pair(m.padding) != 0:
            out["padding"] = _pair(m.padding)
        if isinstance(m, nn.MaxPool2d) and _pair(m.dilation) != 1:
            out["dilation"] = _pair(m.dilation)
        return {**out, "ceil_mode": True} if m.ceil_mode else out
    if isinstance(m, nn.AdaptiveAvgPool2d):
        return {"kind": "adaptive_avgpool", "output_size": _pair(m.output_size)}
    if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
        return {"kind": "batchnorm", "eps": m.eps, "momentum": m.momentum}
    if isinstance(m, nn.LocalResponseNorm):
        return {"kind": "lrn", "size": m.size, "alpha": m.alpha, "beta": m.beta, "k": m.k}
    if isinstance(m, (nn.Dropout, nn.Dropout2d)):
        return {"kind": "dropout", "p": m.p}
    if isinstance(m, nn.LeakyReLU):
        return {"kind": "leaky_relu", "slope": m.negative_slope}
    if isinstance(m, nn.ELU):
        return {"kind": "elu", "alpha": m.alpha}
    if isinstance(m, nn.GELU):
        return {"kind": "gelu", "approximate": m.approximate}
    if isinstance(m, nn.ZeroPad2d):
        left, right, top, bottom = m.padding
        return {"kind": "zeropad", "padding": [top, bottom, left, right]}
    for cls, kind in ((nn.ReLU, "relu"), (nn.Tanh, "tanh"), (nn.Sigmoid, "sigmoid"), (nn.Softmax, "softmax"),
                      (nn.Flatten, "flatten"), (nn.ReLU6, "relu6"), (nn.Hardswish, "hardswish")):
        if isinstance(m, cls):
            return {"kind": kind}
    if isinstance(m, nn.Identity):
        return None
    raise AuditError(f"{name}: {type(m).__name__} is not a layer kind a spec can hold")


def _bind_module(m: Any, name: str) -> None:
    """Refuse a module whose settings a spec cannot hold: the table's arguments, read back from
    the attributes PyTorch keeps them in (a weight's absence is bias=False)."""
    sig = next((MODULES[c.__name__] for c in type(m).__mro__
                if c.__module__.startswith("torch.nn") and c.__name__ in MODULES), None)
    if sig is None:
        return  # not a layer kind: module_layer says so
    attrs = {p.name: (m.bias is not None if p.name == "bias" else getattr(m, p.name))
             for p in sig.params if p.treat != "harmless"}
    bind(sig, (), attrs, f"{name} ({type(m).__name__})")


def _by_calls(model: Any, shape: tuple[int, int, int], reading: Reading) -> Graph:
    """Leaf modules in the order forward() calls them, checked against their registration order."""
    import torch

    leaves = [(n, m) for n, m in model.named_modules() if n and not any(True for _ in m.children())]
    calls: list[tuple[str, Any, tuple[int, ...]]] = []
    handles = [m.register_forward_hook(lambda mod, inp, out, n=n: calls.append((n, mod, tuple(inp[0].shape[1:]))))
               for n, m in leaves]
    try:
        with torch.no_grad():
            model(torch.zeros(1, *shape))
    except Exception as exc:  # noqa: BLE001
        raise AuditError(f"a forward pass on a {'x'.join(map(str, shape))} input failed: {type(exc).__name__}: {exc}") from None
    finally:
        for h in handles:
            h.remove()
    called = [n for n, _, _ in calls]
    if called != [n for n, _ in leaves if n in called]:
        reading.assumed.append("forward() calls the modules in another order than __init__ defines them: the call order is used")
    graph = Graph(input="x")
    prev = "x"
    uses: dict[str, int] = {}  # how often forward() has called each module so far
    for n, m, in_shape in calls:
        layer = module_layer(m, n)
        if layer is None:
            continue
        if layer["kind"] == "linear" and len(in_shape) == 1 and graph.order and _is_map(graph, prev, calls):
            graph.add(GNode(f"flatten_before_{n.replace('.', '_')}", {"kind": "flatten"}, [prev], code="view"))
            prev = graph.order[-1]
            reading.assumed.append(f"a flatten before {n} (forward() reshapes there; fx could not show how)")
        uses[n] = uses.get(n, 0) + 1
        name = n if uses[n] == 1 else f"{n}_{uses[n]}"
        graph.add(GNode(name, layer, [prev], module=n if uses[n] == 1 else None, code=type(m).__name__))
        prev = name
    graph.output = prev
    return graph


def _is_map(graph: Graph, prev: str, calls: list[tuple[str, Any, tuple[int, ...]]]) -> bool:
    node = graph.nodes[prev]
    return node.layer is not None and node.layer["kind"] in ("conv", "maxpool", "avgpool", "adaptive_avgpool", "lrn",
                                                              "relu", "batchnorm", "dropout") and any(
        len(s) == 3 for n, _, s in calls if n == (node.module or ""))


# ---------------------------------------------------------------- round trip


def round_trip(model: Any, text: str, shape: tuple[int, int, int]) -> list[str]:
    """Which layers of the written spec differ from the live module (parameters, fvcore MACs), and why."""
    import torch
    from fvcore.nn import FlopCountAnalysis

    from ..analysis import analyse
    from ..spec import spec_from_text

    analysis = analyse(spec_from_text(text))
    flops = FlopCountAnalysis(model, torch.zeros(1, *shape))
    flops.set_op_handle("aten::_convolution_mode", _conv_mode_macs)
    flops.unsupported_ops_warnings(False)
    flops.uncalled_modules_warnings(False)
    by_module = flops.by_module()
    modules = dict(model.named_modules())
    out = []
    for lr in analysis.layers:
        m = modules.get(lr.name)
        if m is None:
            continue
        params = sum(p.numel() for p in m.parameters(recurse=False) if p.requires_grad)
        if params != lr.params:
            out.append(f"{lr.name}: {lr.params:,} parameters in the spec, {params:,} in the module")
        macs = by_module.get(lr.name, 0)
        if macs != lr.macs:
            out.append(f"{lr.name}: {lr.macs:,} MACs in the spec, {macs:,} by fvcore on the module"
                       + (" (the module is called more than once)" if f"{lr.name}_2" in {x.name for x in analysis.layers} else ""))
    return out


def _conv_mode_macs(inputs: list[Any], outputs: list[Any]) -> Counter[str]:
    """A convolution with padding="same" or "valid", which fvcore (counting aten::_convolution only)
    leaves at 0: its MACs by fvcore's own formula."""
    from fvcore.nn.jit_handles import conv_flop_count, get_shape

    return Counter({"conv": conv_flop_count(get_shape(inputs[0]), get_shape(inputs[1]), get_shape(outputs[0]))})
