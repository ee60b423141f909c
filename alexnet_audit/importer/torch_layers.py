"""A PyTorch module or functional call, its arguments bound by torch_args.py's table, to spec fields.

Both PyTorch readers use it: the static one with values evaluated from the listing, the live one
with a module's attributes and a traced call's arguments. A field equal to the spec's default is
left out, so the spec reads as the code is written.
"""

from __future__ import annotations

from typing import Any

from .common import Sizes


def module_fields(ctor: str, b: dict[str, Any], s: Sizes, line: int) -> tuple[dict[str, Any], int | None]:
    """The spec fields of module `ctor` and the input size it declares (in_channels and the like)."""
    fields: dict[str, Any] = {}
    if ctor == "Conv2d":
        fields = {"out_channels": s.integer(b["out_channels"], "out_channels", line),
                  "kernel": s.pair(b["kernel_size"], "kernel_size", line)}
        _opt(fields, "stride", b["stride"], 1, s.pair, line)
        padding = b["padding"]
        fields["padding"] = padding if padding in ("same", "valid") else s.pair(padding, "padding", line)
        if fields["padding"] == 0:
            del fields["padding"]
        _opt(fields, "dilation", b["dilation"], 1, s.pair, line)
        _opt(fields, "groups", b["groups"], 1, s.integer, line)
        if not s.flag(b["bias"], "bias", line):
            fields["bias"] = False
        return fields, s.integer(b["in_channels"], "in_channels", line)
    if ctor == "Linear":
        fields = {"out_features": s.integer(b["out_features"], "out_features", line)}
        if not s.flag(b["bias"], "bias", line):
            fields["bias"] = False
        return fields, s.integer(b["in_features"], "in_features", line)
    if ctor in ("BatchNorm2d", "BatchNorm1d"):
        _opt(fields, "eps", b["eps"], 1e-5, s.number, line)
        _opt(fields, "momentum", b["momentum"], 0.1, s.number, line)
        return fields, s.integer(b["num_features"], "num_features", line)
    if ctor == "ZeroPad2d":
        pad = b["padding"]
        if isinstance(pad, (tuple, list)) and len(pad) == 4:  # PyTorch's (left, right, top, bottom)
            return {"padding": [s.integer(pad[i], "padding", line) for i in (2, 3, 0, 1)]}, None
        return {"padding": s.pair(pad, "padding", line)}, None
    return common_fields(ctor, b, s, line), None


def functional_fields(name: str, b: dict[str, Any], s: Sizes, line: int) -> dict[str, Any]:
    """The spec fields of a functional call (`F.max_pool2d` is "max_pool2d")."""
    if name == "gelu" and b["approximate"] == "none":
        return {}  # the functional form writes approximate only where the call sets it
    return common_fields(name, b, s, line)


def common_fields(name: str, b: dict[str, Any], s: Sizes, line: int) -> dict[str, Any]:
    """Fields of the arguments a module and its functional form share (by either's name)."""
    if name in ("MaxPool2d", "AvgPool2d", "max_pool2d", "avg_pool2d"):
        fields: dict[str, Any] = {"kernel": s.pair(b["kernel_size"], "kernel_size", line)}
        if b["stride"] is not None and b["stride"] != []:
            fields["stride"] = s.pair(b["stride"], "stride", line)
        if b["padding"] not in (0, (0, 0)):
            fields["padding"] = s.pair(b["padding"], "padding", line)
        if "dilation" in b:
            _opt(fields, "dilation", b["dilation"], 1, s.pair, line)
        if s.flag(b["ceil_mode"], "ceil_mode", line):
            fields["ceil_mode"] = True
        return fields
    if name in ("AdaptiveAvgPool2d", "adaptive_avg_pool2d"):
        return {"output_size": s.pair(b["output_size"], "output_size", line)}
    if name in ("LocalResponseNorm", "local_response_norm"):
        return {"size": s.integer(b["size"], "size", line), "alpha": s.number(b["alpha"], "alpha", line),
                "beta": s.number(b["beta"], "beta", line), "k": s.number(b["k"], "k", line)}
    if name in ("Dropout", "Dropout2d", "dropout"):
        return {"p": s.number(b["p"], "p", line)}
    if name in ("LeakyReLU", "leaky_relu"):
        return {"slope": s.number(b["negative_slope"], "negative_slope", line)}
    if name in ("ELU", "elu"):
        return {"alpha": s.number(b["alpha"], "alpha", line)}
    if name in ("GELU", "gelu"):
        return {"approximate": b["approximate"]}
    return {}


def _opt(fields: dict[str, Any], key: str, value: Any, default: Any, conv: Any, line: int) -> None:
    if value is not None and value != default and value != (default, default):
        fields[key] = conv(value, key, line)
