"""A PyTorch module or functional call, its arguments bound by torch_args.py's table, to spec fields.

Both PyTorch readers use it: the static one with values evaluated from the listing, the live one
with a module's attributes and a traced call's arguments. A field equal to the spec's default is
left out, so the spec reads as the code is written.
"""

from __future__ import annotations

from typing import Any

from .common import Sizes


def module_fields(kind: str, b: dict[str, Any], s: Sizes, line: int) -> tuple[dict[str, Any], int | None]:
    """The spec fields of a module that becomes spec `kind` and the input size it declares (in_channels and the like)."""
    fields: dict[str, Any] = {}
    if kind == "conv":
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
    if kind == "linear":
        fields = {"out_features": s.integer(b["out_features"], "out_features", line)}
        if not s.flag(b["bias"], "bias", line):
            fields["bias"] = False
        return fields, s.integer(b["in_features"], "in_features", line)
    if kind == "batchnorm":
        _opt(fields, "eps", b["eps"], 1e-5, s.number, line)
        _opt(fields, "momentum", b["momentum"], 0.1, s.number, line)
        return fields, s.integer(b["num_features"], "num_features", line)
    if kind == "zeropad":
        pad = b["padding"]
        if isinstance(pad, (tuple, list)) and len(pad) == 4:  # PyTorch's (left, right, top, bottom)
            return {"padding": [s.integer(pad[i], "padding", line) for i in (2, 3, 0, 1)]}, None
        return {"padding": s.pair(pad, "padding", line)}, None
    return common_fields(kind, b, s, line), None


def functional_fields(kind: str, b: dict[str, Any], s: Sizes, line: int) -> dict[str, Any]:
    """The spec fields of a functional call that becomes spec `kind` (`F.max_pool2d`: "maxpool")."""
    if kind == "gelu" and b["approximate"] == "none":
        return {}  # the functional form writes approximate only where the call sets it
    return common_fields(kind, b, s, line)


def common_fields(kind: str, b: dict[str, Any], s: Sizes, line: int) -> dict[str, Any]:
    """Fields of the arguments a module and its functional form share: both become spec `kind`."""
    if kind in ("maxpool", "avgpool"):
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
    if kind == "adaptive_avgpool":
        return {"output_size": s.pair(b["output_size"], "output_size", line)}
    if kind == "lrn":
        return {"size": s.integer(b["size"], "size", line), "alpha": s.number(b["alpha"], "alpha", line),
                "beta": s.number(b["beta"], "beta", line), "k": s.number(b["k"], "k", line)}
    if kind == "dropout":
        return {"p": s.number(b["p"], "p", line)}
    if kind == "leaky_relu":
        return {"slope": s.number(b["negative_slope"], "negative_slope", line)}
    if kind == "elu":
        return {"alpha": s.number(b["alpha"], "alpha", line)}
    if kind == "gelu":
        return {"approximate": b["approximate"]}
    return {}


def _opt(fields: dict[str, Any], key: str, value: Any, default: Any, conv: Any, line: int) -> None:
    if value is not None and value != default and value != (default, default):
        fields[key] = conv(value, key, line)
