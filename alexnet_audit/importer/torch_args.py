"""The PyTorch importers' table: every argument of every module and function they read.

The static reader (pytorch.py) and the live one (live.py) share it: a module's constructor
arguments are also its attributes, which is how live.py reads them. `carry` arguments become
spec fields (torch_layers.py writes them); `harmless` ones leave the network as it is, for the
reason given; `refuse` ones stop the import unless their value is one the spec describes.
"""

from __future__ import annotations

from dataclasses import replace

from .signatures import Param, Signature, carry, refuse

_INPLACE = Param("inplace", "harmless", False, why="writing into the input tensor computes the same values")
_DEVICE = Param("device", "harmless", None, why="where the weights live, not what the layer computes")
_DTYPE = Param("dtype", "harmless", None, why="the number format, not the layer's shape or counts")


_RETURN_INDICES = refuse("return_indices", False, "a spec's maxpool returns no indices")
_COUNT_PAD = refuse("count_include_pad", True, "a spec's average pool counts explicit pads as zeros in the mean "
                     "(PyTorch's default)")
_DIVISOR = refuse("divisor_override", None, "a spec's average pool divides by the window")
_SOFTMAX_DIM = refuse("dim", None, "a spec's softmax is over the classes (dim 1 of the output vector)", ok=(None, 1, -1))
_START = refuse("start_dim", 1, "a spec's flatten keeps the batch and flattens each sample (start_dim=1)", ok=(1, -3))
_APPROXIMATE = Param("approximate", "carry", "none", why="a spec's gelu is exact ('none') or tanh's", ok=("none", "tanh"))
_END = refuse("end_dim", -1, "a spec's flatten flattens each sample whole (end_dim=-1)", ok=(-1, 3))


def _act(call: str, kind: str, *params: Param) -> Signature:
    return Signature(call, kind, params)


MODULES: dict[str, Signature] = {s.call.removeprefix("nn."): s for s in (
    Signature("nn.Conv2d", "conv", (
        carry("in_channels"), carry("out_channels"), carry("kernel_size"), carry("stride", 1),
        carry("padding", 0), carry("dilation", 1), carry("groups", 1), carry("bias", True),
        refuse("padding_mode", "zeros", "a spec's convolution pads with zeros"), _DEVICE, _DTYPE)),
    Signature("nn.Linear", "linear", (carry("in_features"), carry("out_features"), carry("bias", True), _DEVICE, _DTYPE)),
    Signature("nn.MaxPool2d", "maxpool", (
        carry("kernel_size"), carry("stride", None), carry("padding", 0), carry("dilation", 1),
        _RETURN_INDICES, carry("ceil_mode", False))),
    Signature("nn.AvgPool2d", "avgpool", (
        carry("kernel_size"), carry("stride", None), carry("padding", 0), carry("ceil_mode", False),
        _COUNT_PAD, _DIVISOR)),
    Signature("nn.AdaptiveAvgPool2d", "adaptive_avgpool", (carry("output_size"),)),
    Signature("nn.LocalResponseNorm", "lrn", (carry("size"), carry("alpha", 1e-4), carry("beta", 0.75), carry("k", 1.0))),
    *(Signature(f"nn.{name}", "batchnorm", (
        carry("num_features"), carry("eps", 1e-5),
        Param("momentum", "carry", 0.1, why="a spec's batchnorm keeps an exponential running average (a number, not None)",
              ok=(float, int)),
        refuse("affine", True, "a spec's batchnorm has a trainable scale and shift"),
        refuse("track_running_stats", True, "a spec's batchnorm normalises with running statistics in eval mode"),
        _DEVICE, _DTYPE,
        replace(refuse("bias", True, "a spec's batchnorm has a trainable shift"), keyword_only=True),
    )) for name in ("BatchNorm2d", "BatchNorm1d")),
    *(_act(f"nn.{name}", kind, _INPLACE) for name, kind in (("ReLU", "relu"), ("ReLU6", "relu6"), ("Hardswish", "hardswish"))),
    _act("nn.Tanh", "tanh"), _act("nn.Sigmoid", "sigmoid"), _act("nn.Softmax", "softmax", _SOFTMAX_DIM),
    *(_act(f"nn.{name}", "dropout", carry("p", 0.5), _INPLACE) for name in ("Dropout", "Dropout2d")),
    _act("nn.Flatten", "flatten", _START, _END),
    Signature("nn.Identity", None, (), rest="nn.Identity ignores every argument it is given"),
    _act("nn.LeakyReLU", "leaky_relu", carry("negative_slope", 0.01), _INPLACE),
    _act("nn.ELU", "elu", carry("alpha", 1.0), _INPLACE),
    _act("nn.GELU", "gelu", _APPROXIMATE),
    _act("nn.ZeroPad2d", "zeropad", carry("padding")),
)}

# Functional forms, after the input tensor (`F.max_pool2d(x, 3, 2)`: kernel_size 3, stride 2). The
# same name is read on torch., torch.nn.functional. and as a tensor method (`x.relu()`).
FUNCTIONS: dict[str, Signature] = {s.call.removeprefix("F."): s for s in (
    _act("F.relu", "relu", _INPLACE), _act("F.relu_", "relu"), _act("F.relu6", "relu6", _INPLACE),
    _act("F.hardswish", "hardswish", _INPLACE), _act("F.tanh", "tanh"), _act("F.sigmoid", "sigmoid"),
    _act("F.softmax", "softmax", _SOFTMAX_DIM, Param("_stacklevel", "harmless", 3, why="where a warning points"), _DTYPE),
    Signature("F.max_pool2d", "maxpool", (
        carry("kernel_size"), carry("stride", None), carry("padding", 0), carry("dilation", 1),
        carry("ceil_mode", False), _RETURN_INDICES)),
    Signature("F.avg_pool2d", "avgpool", (
        carry("kernel_size"), carry("stride", None), carry("padding", 0), carry("ceil_mode", False),
        _COUNT_PAD, _DIVISOR)),
    Signature("F.adaptive_avg_pool2d", "adaptive_avgpool", (carry("output_size"),)),
    Signature("F.dropout", "dropout", (carry("p", 0.5), carry("training", True), _INPLACE)),
    Signature("F.flatten", "flatten", (
        refuse("start_dim", 0, _START.why, ok=_START.ok), _END)),
    Signature("F.local_response_norm", "lrn", (carry("size"), carry("alpha", 1e-4), carry("beta", 0.75), carry("k", 1.0))),
    _act("F.leaky_relu", "leaky_relu", carry("negative_slope", 0.01), _INPLACE),
    _act("F.elu", "elu", carry("alpha", 1.0), _INPLACE),
    _act("F.gelu", "gelu", replace(_APPROXIMATE, keyword_only=True)),
)}

# The live importer traces the model in eval mode, where `F.dropout(x, p, self.training)` is called
# with training=False: the spec describes the network as trained, so the dropout is written.
LIVE_FUNCTIONS: dict[str, Signature] = {
    **FUNCTIONS,
    "max_pool2d_with_indices": FUNCTIONS["max_pool2d"],  # what fx records for F.max_pool2d(..., return_indices=True)
    "dropout": Signature("F.dropout", "dropout", (
        carry("p", 0.5),
        Param("training", "harmless", True, why="the live model is traced in eval mode (training=False there); "
              "the spec describes it as trained, with its dropout"),
        _INPLACE)),
}

# Initialisers in an init method, after the tensor they fill (`nn.init.normal_(m.weight, 0, 0.01)`);
# the kind names the spec INIT they become.
_GENERATOR = Param("generator", "harmless", None, why="which numbers are drawn, not from what distribution")
INIT_FUNCTIONS: dict[str, Signature] = {s.call.removeprefix("nn.init."): s for s in (
    Signature("nn.init.normal_", "normal", (carry("mean", 0.0), carry("std", 1.0), _GENERATOR)),
    Signature("nn.init.uniform_", "uniform", (carry("a", 0.0), carry("b", 1.0), _GENERATOR)),
    Signature("nn.init.constant_", "constant", (carry("val"),)),
    Signature("nn.init.zeros_", "constant", ()),
    Signature("nn.init.ones_", "ones", ()),
    Signature("nn.init.trunc_normal_", "truncated_normal", (
        carry("mean", 0.0), carry("std", 1.0), carry("a", -2.0), carry("b", 2.0), _GENERATOR)),
    Signature("nn.init.xavier_uniform_", "glorot_uniform", (
        refuse("gain", 1.0, "a spec's glorot_uniform has gain 1"), _GENERATOR)),
    Signature("nn.init.kaiming_normal_", "kaiming_normal", (
        refuse("a", 0, "a spec's kaiming_normal has no leaky_relu slope"), carry("mode", "fan_in"),
        carry("nonlinearity", "leaky_relu"), _GENERATOR)),
)}
# The same as tensor methods (`m.weight.data.normal_(0, 0.01)`), with the methods' own names.
INIT_METHODS: dict[str, Signature] = {s.call.removeprefix("Tensor."): s for s in (
    Signature("Tensor.normal_", "normal", (carry("mean", 0.0), carry("std", 1.0), replace(_GENERATOR, keyword_only=True))),
    Signature("Tensor.uniform_", "uniform", (carry("from", 0.0), carry("to", 1.0), replace(_GENERATOR, keyword_only=True))),
    Signature("Tensor.fill_", "constant", (carry("value"),)),
    Signature("Tensor.zero_", "constant", ()),
)}
