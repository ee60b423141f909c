"""TensorFlow 1 low-level listings: ops on tensors, weights as variables.

`tf.nn.conv2d(x, W, strides, padding)` takes its channels and kernel from the weight
variable's shape (`[kh, kw, in, out]`) and its initialiser from the variable's initial value;
`tf.nn.bias_add` or `+ b` gives a layer its bias; `tf.matmul`/`tf.nn.xw_plus_b` are linear
layers; `tf.reshape(x, [-1, N])` flattens (N is checked). The data layout is NHWC.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, replace
from typing import Any

from .common import Namer, Sizes
from .consts import Function, Obj, Opaque, Ref, Tensor, Unknown
from .hooks import Hooks, NotMine
from .interp import Walk
from .reading import Check, Node, Reading
from .signatures import bind
from .tf1_args import OPS, VARIABLES


@dataclass(frozen=True)
class Init:
    """An initial value: a shape and how it is drawn."""

    shape: tuple[Any, ...]
    spec: dict[str, Any]


@dataclass(frozen=True)
class Weight:
    """A tf.Variable / get_variable: its shape and initialiser."""

    shape: tuple[Any, ...]
    spec: dict[str, Any] | None
    line: int


RANDOM = {
    "truncated_normal": "truncated_normal", "random_normal": "normal", "normal": "normal",
    "random_uniform": "uniform", "uniform": "uniform", "zeros": "zeros", "ones": "ones", "constant": "constant",
}
INITIALIZERS = {
    "truncated_normal_initializer": "truncated_normal", "random_normal_initializer": "normal",
    "random_uniform_initializer": "uniform", "constant_initializer": "constant", "zeros_initializer": "zeros",
    "glorot_uniform_initializer": "glorot_uniform", "xavier_initializer": "glorot_uniform",
}
ACTIVATIONS = {"relu": "relu", "tanh": "tanh", "sigmoid": "sigmoid", "softmax": "softmax"}


class TF1Hooks(Hooks):
    def __init__(self, reading: Reading, sizes: Sizes) -> None:
        self.reading = reading
        self.sizes = sizes
        self.names = Namer()
        self.started = False
        self.last = Tensor()

    def call(self, walk: Walk, callee: Any, args: list[Any], kwargs: dict[str, Any], node: ast.Call,
             hint: str | None) -> Any:
        if not isinstance(callee, Ref) or not (callee.path.startswith("tensorflow") or callee.path.startswith("tf")):
            raise NotMine
        op = callee.last
        line = node.lineno
        sig = OPS.get(op) or VARIABLES.get(op)
        if sig is None:
            raise NotMine
        b = bind(sig, args, kwargs, walk.where(node))
        if op in RANDOM or op in INITIALIZERS:
            return self.initial(op, b, line)
        if op == "Variable":
            value = b["initial_value"]
            return Weight(value.shape, value.spec, line) if isinstance(value, Init) else Weight((), None, line)
        if op == "get_variable":
            init = b["initializer"]
            return Weight(tuple(b["shape"] or ()), init.spec if isinstance(init, Init) else None, line)
        if op == "placeholder":
            shape = b["shape"]
            if isinstance(shape, (list, tuple)) and len(shape) == 4 and all(isinstance(d, int) for d in shape[1:]):
                self.reading.input = (shape[3], shape[1], shape[2])
                self.reading.input_from = f"{self.sizes.where(line)}: {walk.code(node)} (NHWC)"
            return self.tensor(Tensor(), walk, node)
        x = self.tensor(b[sig.params[0].name], walk, node)
        return self.op(op, x, b, node, walk, b["name"] if isinstance(b["name"], str) else hint)

    def tensor(self, value: Any, walk: Walk, node: ast.Call) -> Tensor:
        if isinstance(value, Tensor):
            return value
        if not self.started:
            self.started = True
            what = value.name if isinstance(value, Opaque) else walk.code(node.args[0]) if node.args else "the input"
            self.reading.read.append((node.lineno, f"{what} is the network's input"))
            return Tensor()
        raise Unknown(f"{walk.code(node)}: its input is not the network's tensor", node.lineno)

    def initial(self, op: str, b: dict[str, Any], line: int) -> Init:
        kind = RANDOM.get(op) or INITIALIZERS[op]
        s = self.sizes
        if kind in ("truncated_normal", "normal"):
            spec = {"dist": kind, "mean": s.number(b["mean"], "mean", line), "std": s.number(b["stddev"], "stddev", line)}
        elif kind == "uniform":
            high = 1.0 if b["maxval"] is None else b["maxval"]  # TF's maxval for floats
            spec = {"dist": "uniform", "low": s.number(b["minval"], "minval", line), "high": s.number(high, "maxval", line)}
        elif kind in ("zeros", "ones"):
            spec = {"dist": "constant", "value": 0.0 if kind == "zeros" else 1.0}
        elif kind == "constant":
            spec = {"dist": "constant", "value": s.number(b["value"], "value", line)}
        else:
            spec = {"dist": "glorot_uniform"}
        return Init(tuple(b.get("shape") or ()), spec)

    def op(self, op: str, x: Tensor, b: dict[str, Any], node: ast.Call, walk: Walk, hint: str | None) -> Tensor:
        s, line, code = self.sizes, node.lineno, walk.code(node)
        fields: dict[str, Any] = {}
        declared = None
        if op == "conv2d":
            w = b["filter"]
            if not isinstance(w, Weight) or len(w.shape) != 4:
                raise Unknown(f"{code}: the filter's shape [kh, kw, in, out] is not known statically", line)
            kh, kw = (s.integer(d, "filter height/width", line) for d in w.shape[:2])
            declared = s.integer(w.shape[2], "filter input channels", line)
            fields = {"out_channels": s.integer(w.shape[3], "filter output channels", line),
                      "kernel": kh if kh == kw else [kh, kw]}
            stride = self._nhwc(b["strides"], "strides", line)
            if stride != 1:
                fields["stride"] = stride
            fields["padding"] = self._padding(b["padding"], code)
            dilation = 1 if b["dilations"] is None else self._nhwc(b["dilations"], "dilations", line)
            if dilation != 1:
                fields["dilation"] = dilation
            fields["bias"] = False
            if w.spec:
                fields["init"] = {"weight": w.spec}
            kind = "conv"
        elif op in ("max_pool", "max_pool2d", "avg_pool", "avg_pool2d"):
            kind = "maxpool" if op.startswith("max") else "avgpool"
            fields = {"kernel": self._nhwc(b["ksize"], "ksize", line), "stride": self._nhwc(b["strides"], "strides", line),
                      "padding": self._padding(b["padding"], code)}
        elif op in ("lrn", "local_response_normalization"):
            kind = "lrn_tf"
            fields = {"depth_radius": s.integer(b["depth_radius"], "depth_radius", line),
                      "bias": s.number(b["bias"], "bias", line), "alpha": s.number(b["alpha"], "alpha", line),
                      "beta": s.number(b["beta"], "beta", line)}
        elif op in ("reshape", "flatten"):
            kind = "flatten"
            shape = b.get("shape")
            if op == "reshape" and isinstance(shape, (list, tuple)) and len(shape) == 2 and isinstance(shape[1], int) and shape[1] > 0:
                out = self._add(x, "flatten", {}, hint, line, code, None)
                self.reading.checks.append(Check("flatten_size", out.nodes[-1].name, shape[1], line, code))
                return out
        elif op in ("xw_plus_b", "matmul"):
            w = b["weights"] if op == "xw_plus_b" else b["b"]
            if not isinstance(w, Weight) or len(w.shape) != 2:
                raise Unknown(f"{code}: the weight's shape [in, out] is not known statically", line)
            declared = s.integer(w.shape[0], "weight input size", line)
            kind, fields = "linear", {"out_features": s.integer(w.shape[1], "weight output size", line), "bias": False}
            init = {"weight": w.spec} if w.spec else {}
            if op == "xw_plus_b":
                del fields["bias"]
                bias = b["biases"]
                if isinstance(bias, Weight) and bias.spec:
                    init["bias"] = bias.spec
            if init:
                fields["init"] = init
        elif op == "bias_add":
            return self._bias(x, b["bias"], code, line)
        elif op == "dropout":
            kind = "dropout"
            keep, rate = b["keep_prob"], b["rate"]
            if isinstance(rate, (int, float)):
                fields = {"p": float(rate)}
            elif isinstance(keep, (int, float)):
                fields = {"p": round(1 - float(keep), 12)}
            else:
                what = keep.name if isinstance(keep, Opaque) else "keep_prob"
                self.reading.assumed.append(f"{s.where(line)}: dropout keep_prob is {what}, fed at run time: p 0.5 assumed")
                fields = {"p": 0.5}
        else:
            kind = ACTIVATIONS[op]
        return self._add(x, kind, fields, hint, line, code, declared)

    def _add(self, x: Tensor, kind: str, fields: dict[str, Any], hint: str | None, line: int, code: str,
             declared: int | None) -> Tensor:
        base = hint if hint and hint not in self.names.used else (f"{x.nodes[-1].name}_{kind}" if x.nodes else kind)
        node = Node(kind, tuple(fields.items()), self.names.take(base), line, code, declared,
                    str(declared) if declared is not None else None)
        self.last = x.then(node)
        return self.last

    def _bias(self, x: Tensor, b: Any, code: str, line: int) -> Tensor:
        if not x.nodes or x.nodes[-1].kind not in ("conv", "linear") or x.nodes[-1].get("bias") is not False:
            raise Unknown(f"{code}: a bias added where no conv or linear layer without one precedes", line)
        last = x.nodes[-1].with_fields(bias=True)
        if isinstance(b, Weight) and b.spec:
            init = dict(last.get("init") or {})
            init["bias"] = b.spec
            last = last.with_fields(init=init)
        fields = dict(last.fields)
        del fields["bias"]  # True is the spec's default
        self.last = Tensor(x.nodes[:-1] + (replace(last, fields=tuple(fields.items())),))
        return self.last

    def binop(self, walk: Walk, op: ast.operator, left: Any, right: Any, node: ast.expr | ast.stmt) -> Any:
        if isinstance(op, ast.Add) and isinstance(left, Tensor) and isinstance(right, Weight):
            return self._bias(left, right, walk.code(node), node.lineno)
        raise NotMine

    def _nhwc(self, value: Any, what: str, line: int) -> int | list[int]:
        if isinstance(value, (list, tuple)) and len(value) == 4:
            return self.sizes.pair((value[1], value[2]), what, line)
        return self.sizes.pair(value, what, line)

    def _padding(self, value: Any, code: str) -> str:
        if isinstance(value, str) and value.upper() in ("SAME", "VALID"):
            return value.lower()
        raise Unknown(f"{code}: padding {value!r} is not 'SAME' or 'VALID'", 0)


def make_hooks(reading: Reading, sizes: Sizes) -> TF1Hooks:
    return TF1Hooks(reading, sizes)


def read(walk: Walk, chosen: Any, hooks: TF1Hooks, reading: Reading) -> None:
    reading.assumed.append("TF1's NHWC data layout: the input is read as C x H x W here, flatten counts are equal")
    if chosen.style == "function":
        out = walk.invoke(Function(chosen.node), [], {}, chosen.node)
    else:
        obj = Obj(chosen.node)
        init = obj.method("__init__")
        if init is not None:
            walk.invoke(Function(init, obj), [], {}, init)
        builders = [m for m in chosen.node.body if isinstance(m, ast.FunctionDef) and m.name != "__init__"
                    and any(isinstance(n, ast.Attribute) and n.attr in ("conv2d", "xw_plus_b", "matmul") for n in ast.walk(m))]
        if not builders:
            raise Unknown(f"{chosen.name} has no method that builds layers", chosen.node.lineno)
        out = walk.invoke(Function(builders[0], obj), [], {}, builders[0])
    reading.nodes = list((out if isinstance(out, Tensor) else hooks.last).nodes)
