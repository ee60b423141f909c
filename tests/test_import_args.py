"""Every row of the PyTorch importers' argument table (torch_args.py), static and live.

For each argument of each call: a carried one changes the spec it is written into, given by
keyword or by position alike; a harmless one leaves the spec as it is; a refused one (or a
carried one with a value the spec cannot hold) stops the import with the call, the argument,
its value and the line.
"""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

import pytest
import torch
import yaml
from import_helpers import CONV_NET, import_listing
from import_rows import STATIC, call_args, check_row, ids, imported, rows
from torch import fx, nn
from torch.nn import functional as F  # the listings' own spelling

from alexnet_audit.errors import AuditError
from alexnet_audit.importer import import_spec
from alexnet_audit.importer.live import _from_fx, module_layer
from alexnet_audit.importer.reading import Reading
from alexnet_audit.importer.signatures import REQUIRED, Param, Signature
from alexnet_audit.importer.torch_args import (
    FUNCTIONS,
    INIT_FUNCTIONS,
    INIT_METHODS,
    LIVE_FUNCTIONS,
    MODULES,
)

# The required arguments of each call, as a listing writes them (after the input, for a function).
BASE = {
    "nn.Conv2d": ["8", "4", "3"], "nn.Linear": ["8", "6"], "nn.MaxPool2d": ["2"], "nn.AvgPool2d": ["2"],
    "nn.AdaptiveAvgPool2d": ["1"], "nn.LocalResponseNorm": ["3"], "nn.BatchNorm2d": ["8"], "nn.BatchNorm1d": ["8"],
    "nn.ZeroPad2d": ["1"], "F.max_pool2d": ["2"], "F.avg_pool2d": ["2"], "F.adaptive_avg_pool2d": ["1"],
    "F.local_response_norm": ["3"], "F.flatten": ["1"],
}
# A value other than the default for each argument name (the same name means the same thing in
# every call); for a refused argument, one the spec cannot hold.
EXAMPLE = {
    "in_channels": "5", "out_channels": "6", "kernel_size": "5", "stride": "3", "padding": "2", "dilation": "2",
    "groups": "2", "bias": "False", "padding_mode": "'reflect'", "device": "'cpu'", "dtype": "torch.float64",
    "in_features": "5", "out_features": "7", "return_indices": "True", "ceil_mode": "True",
    "count_include_pad": "False", "divisor_override": "3", "output_size": "2", "size": "5", "alpha": "0.5",
    "beta": "0.5", "k": "2.0", "num_features": "6", "eps": "0.001", "momentum": "0.2", "affine": "False",
    "track_running_stats": "False", "inplace": "True", "dim": "0", "start_dim": "2", "end_dim": "2",
    "negative_slope": "0.2", "approximate": "'tanh'", "p": "0.3", "training": "False", "_stacklevel": "5",
}
# Carried arguments with values the spec cannot hold.
BAD = {"momentum": "None", "approximate": "'erf'"}
# How a function is spelled in a listing where torch.nn.functional has no such name.
SPELLING = {"flatten": "torch.flatten"}


LISTING = '''
import torch
import torch.nn as nn
import torch.nn.functional as F

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3)
        self.layer = {module}
        self.fc = nn.Linear(8, 10)

    def forward(self, x):
        x = {function}
        return self.fc(torch.flatten(x, 1))
'''


def _listing(sig: Signature, args: str) -> str:
    """LISTING with the call given `args`: a module as a layer, a function on the convolution's output."""
    if sig.call.startswith("nn."):
        module, function = f"{sig.call}({args})", "self.layer(self.conv(x))"
    else:
        name = sig.call.removeprefix("F.")
        module, function = "nn.Identity()", f"{SPELLING.get(name, sig.call)}(self.conv(x){', ' if args else ''}{args})"
    return LISTING.format(module=module, function=function)


def _static(sig: Signature, args: str) -> tuple[Any, ...]:
    """The imported spec's layers and claims (what the code states), without the code it quotes."""
    return imported(_listing(sig, args))


@pytest.mark.parametrize("sig, param", rows(MODULES) + rows(FUNCTIONS), ids=ids(rows(MODULES) + rows(FUNCTIONS)))
def test_static_pytorch_argument(sig: Signature, param: Param) -> None:
    check_row(lambda args: _static(sig, args), sig, param, BASE.get(sig.call, []), EXAMPLE[param.name],
              BAD.get(param.name), STATIC)


def test_an_argument_the_table_does_not_know_is_refused() -> None:
    conv = MODULES["Conv2d"]
    with pytest.raises(AuditError, match=r"net.py: line 10: .*padding_value=1 is not an argument of nn.Conv2d"):
        _static(conv, call_args(conv, None, None, False, BASE["nn.Conv2d"]) + ", padding_value=1")
    with pytest.raises(AuditError, match=r"line 10: .*nn.Conv2d takes at most 11 positional arguments.*argument 12 is 1"):
        _static(conv, "8, 4, 3, 1, 0, 1, 1, True, 'zeros', None, None, 1")


def test_a_refused_value_not_known_statically_is_named() -> None:
    with pytest.raises(AuditError, match=r"line 10: ceil_mode is self.training, which is not known statically"):
        _static(MODULES["MaxPool2d"], "2, ceil_mode=self.training")


# ---------------------------------------------------------------- live: the same table on modules and traces

# In the live spec a convolution's or batchnorm's input size is what the traced network gives it
# (the round trip in test_import_live.py checks the parameters that follow from it), not a field.
LIVE_FROM_INPUT = {("nn.Conv2d", "in_channels"), ("nn.BatchNorm2d", "num_features"), ("nn.BatchNorm1d", "num_features")}


def _module(sig: Signature, args: str) -> dict[str, Any] | None:
    module = eval(f"{sig.call}({args})", {"nn": nn, "torch": torch})
    return module_layer(module, "layer")


@pytest.mark.parametrize("sig, param", rows(MODULES), ids=ids(rows(MODULES)))
def test_live_module_argument(sig: Signature, param: Param) -> None:
    bad = None if param.name == "approximate" else BAD.get(param.name)  # nn.GELU refuses 'erf' itself
    check_row(lambda args: _module(sig, args), sig, param, BASE.get(sig.call, []), EXAMPLE[param.name], bad,
              r"layer \(\w+\): ", same=param.treat == "harmless" or (sig.call, param.name) in LIVE_FROM_INPUT)


class _Calls(nn.Module):
    def __init__(self, fn: Any) -> None:
        super().__init__()
        self.fn = fn

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fn(x)


def _traced(sig: Signature, args: str) -> dict[str, Any]:
    name = sig.call.removeprefix("F.")
    fn = eval(f"lambda x: {SPELLING.get(name, sig.call)}(x{', ' if args else ''}{args})",
              {"F": F, "torch": torch})
    graph = _from_fx(fx.symbolic_trace(_Calls(fn)), Reading("pytorch", "t"))
    (node,) = [graph.nodes[n] for n in graph.order]
    assert node.layer is not None
    return node.layer


LIVE_ROWS = rows(LIVE_FUNCTIONS)


@pytest.mark.parametrize("sig, param", LIVE_ROWS, ids=ids(LIVE_ROWS))
def test_live_function_argument(sig: Signature, param: Param) -> None:
    # A refusal names the traced node (`call_function[target=...](args = ...)`) before the call.
    check_row(lambda args: _traced(sig, args), sig, param, BASE.get(sig.call, []), EXAMPLE[param.name],
              BAD.get(param.name), r"call_function\[.*\]\(.*\): ")


@pytest.mark.parametrize("sig", list(MODULES.values()), ids=[s.call for s in MODULES.values()])
def test_the_table_names_every_constructor_argument(sig: Signature) -> None:
    """A PyTorch version with a new argument shows here: the table must say what it does."""
    cls = getattr(nn, sig.call.removeprefix("nn."))
    params = inspect.signature(cls.__init__).parameters.values()
    positional = [p.name for p in params if p.name != "self" and p.kind == p.POSITIONAL_OR_KEYWORD]
    keyword = {p.name for p in params if p.kind == p.KEYWORD_ONLY}
    assert positional == [p.name for p in sig.params if not p.keyword_only]
    assert keyword <= {p.name for p in sig.params if p.keyword_only}  # an older torch may lack one (BatchNorm's bias)
    defaults = {p.name: p.default for p in params}
    for p in sig.params:
        if p.name in defaults:
            assert (p.default is REQUIRED) == (defaults[p.name] is inspect.Parameter.empty), p.name
            assert p.default is REQUIRED or p.default == defaults[p.name], p.name


def test_the_post_bug_ceil_mode_and_approximate_in_forward(tmp_path: Path) -> None:
    code = CONV_NET.format(forward='F.max_pool2d(F.gelu(self.conv(x), approximate="tanh"), 3, 2, 0, 1, True)')
    layers = yaml.safe_load(import_listing(tmp_path, code, "net.py").text)["layers"]
    assert layers[1] == {"kind": "gelu", "name": "conv_gelu", "approximate": "tanh"}
    assert layers[2] == {"kind": "maxpool", "name": "conv_maxpool", "kernel": 3, "stride": 2, "ceil_mode": True}


def test_a_live_refusal_names_the_file_and_line_of_the_call(tmp_path: Path) -> None:
    path = tmp_path / "net.py"
    path.write_text(CONV_NET.format(forward="F.avg_pool2d(self.conv(x), 2, count_include_pad=False)"))
    with pytest.raises(AuditError) as err:
        import_spec(None, module=f"{path}:Net", input="3x16x16")
    assert str(err.value) == (f"{path}:10: return F.avg_pool2d(self.conv(x), 2, count_include_pad=False): "
                              "F.avg_pool2d count_include_pad=False is refused: a spec's average pool counts explicit "
                              "pads as zeros in the mean (PyTorch's default)")


# ---------------------------------------------------------------- initialisers in an init method

INIT_LISTING = '''
import torch
import torch.nn as nn

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3)
        self.fc = nn.Linear(8, 10)
        self._initialize_weights()

    def forward(self, x):
        return self.fc(torch.flatten(self.conv(x), 1))

    def _initialize_weights(self):
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                {call}
'''
INIT_BASE = {"nn.init.constant_": ["0.5"], "Tensor.fill_": ["0.5"]}
INIT_EXAMPLE = {"mean": "0.5", "std": "0.2", "a": "0.1", "b": "3.0", "from": "-1.0", "to": "2.0", "val": "0.25",
                "value": "0.25", "gain": "2.0", "mode": "'fan_out'", "nonlinearity": "'tanh'", "generator": "None"}
INIT_ROWS = [(sig, p) for sig, p in rows(INIT_FUNCTIONS) + rows(INIT_METHODS) if sig.call != "nn.init.trunc_normal_"]


def _init(sig: Signature, args: str) -> tuple[Any, ...]:
    name = sig.call.rsplit(".", 1)[-1]
    call = (f"nn.init.{name}(m.weight{', ' if args else ''}{args})" if sig.call.startswith("nn.init.")
            else f"m.weight.data.{name}({args})")
    return imported(INIT_LISTING.format(call=call))


@pytest.mark.parametrize("sig, param", INIT_ROWS, ids=ids(INIT_ROWS))
def test_static_initialiser_argument(sig: Signature, param: Param) -> None:
    check_row(lambda args: _init(sig, args), sig, param, INIT_BASE.get(sig.call, []), INIT_EXAMPLE[param.name], None,
              r"line 18: .*")


def test_static_truncated_normal_is_read_only_cut_at_two_deviations() -> None:
    """trunc_normal_'s bounds a and b are absolute: a spec's truncated normal is the one cut at mean ± 2 std."""
    sig = INIT_FUNCTIONS["trunc_normal_"]
    conv_init = next(n for n in _init(sig, "0.5, 0.25, 0.0, 1.0")[1] if n[2] == "conv")[1]
    assert dict(conv_init)["init"]["weight"] == {"dist": "truncated_normal", "mean": 0.5, "std": 0.25}
    assert _init(sig, "mean=0.5, std=0.25, a=0.0, b=1.0, generator=None") == _init(sig, "0.5, 0.25, 0.0, 1.0")
    assert _init(sig, "") != _init(sig, "0.5, 0.25, 0.0, 1.0")
    with pytest.raises(AuditError, match=r"line 18: nn.init.trunc_normal_\(m.weight, std=0.02\): a, b=\(-2.0, 2.0\) is refused"):
        _init(sig, "std=0.02")


def test_an_initialiser_no_spec_holds_is_refused() -> None:
    with pytest.raises(AuditError, match=r"line 18: nn.init.orthogonal_\(m.weight\): orthogonal_ is not an initialiser"):
        imported(INIT_LISTING.format(call="nn.init.orthogonal_(m.weight)"))
    with pytest.raises(AuditError, match=r"line 18: .*normal_ is not a literal"):
        imported(INIT_LISTING.format(call="nn.init.normal_(m.weight, 0, 1 / m.in_channels)"))


def _inspectable(table: dict[str, Signature], owner: Any) -> list[tuple[str, Signature, Any]]:
    """The table's functions whose signature Python can read (builtins and dispatchers it cannot)."""
    out = []
    for name, sig in table.items():
        try:
            signature = inspect.signature(getattr(owner, name, None) or getattr(torch, name))
        except (ValueError, TypeError):
            continue
        if all(p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in signature.parameters.values()):
            continue  # a dispatcher's (*args, **kwargs)
        out.append((name, sig, signature))
    return out


@pytest.mark.parametrize("name, sig, signature", _inspectable(FUNCTIONS, F) + _inspectable(INIT_FUNCTIONS, nn.init),
                         ids=lambda v: v if isinstance(v, str) else "")
def test_the_table_names_every_function_argument(name: str, sig: Signature, signature: inspect.Signature) -> None:
    params = list(signature.parameters.values())[1:]  # after the input or the tensor
    assert [(p.name, p.kind == p.KEYWORD_ONLY) for p in params] == [(p.name, p.keyword_only) for p in sig.params]
    for ours, theirs in zip(sig.params, params):
        assert (ours.default is REQUIRED) == (theirs.default is inspect.Parameter.empty), ours.name
        assert ours.default is REQUIRED or ours.default == theirs.default, ours.name
