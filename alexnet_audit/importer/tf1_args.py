"""The TF1 importer's table: every argument of every op and variable it reads.

Positions follow TF1 (`tf.nn.conv2d(input, filter, strides, padding, use_cudnn_on_gpu, ...)`);
TF2's keyword spellings (`filters`, `rate`) are aliases. `carry` arguments become spec fields
(tf1.py writes them); `harmless` ones leave the network as it is, for the reason given; `refuse`
ones stop the import unless their value is one the spec describes.
"""

from __future__ import annotations

from .signatures import REQUIRED, Param, Signature

_NHWC = ("NHWC", None)


def _carry(name: str, default: object = REQUIRED, *, aliases: tuple[str, ...] = (), keyword_only: bool = False) -> Param:
    return Param(name, "carry", default, aliases=aliases, keyword_only=keyword_only)


def _refuse(name: str, default: object, why: str, ok: tuple[object, ...] | None = None) -> Param:
    return Param(name, "refuse", default, why=why, ok=ok)


def _harmless(name: str, default: object, why: str) -> Param:
    return Param(name, "harmless", default, why=why)


_NAME = _carry("name", None)  # the layer's name in the spec
_FORMAT = _refuse("data_format", "NHWC", "the importer reads TF1's NHWC layout", ok=_NHWC)
_DTYPE = _harmless("dtype", None, "the number format, not the layer's shape or counts")
_SEED = _harmless("seed", None, "which numbers are drawn, not how")
_POOL = (_carry("value", aliases=("input",)), _carry("ksize"), _carry("strides"), _carry("padding"), _FORMAT, _NAME)

OPS: dict[str, Signature] = {s.call.rsplit(".", 1)[-1]: s for s in (
    Signature("tf.nn.conv2d", "conv", (
        _carry("input"), _carry("filter", aliases=("filters",)), _carry("strides"), _carry("padding"),
        _harmless("use_cudnn_on_gpu", True, "which kernel computes it, not what it computes"), _FORMAT,
        _carry("dilations", None), _NAME)),
    Signature("tf.nn.max_pool", "maxpool", _POOL), Signature("tf.nn.max_pool2d", "maxpool", _POOL),
    Signature("tf.nn.avg_pool", "avgpool", _POOL), Signature("tf.nn.avg_pool2d", "avgpool", _POOL),
    *(Signature(f"tf.nn.{op}", "lrn_tf", (
        _carry("input"), _carry("depth_radius", 5), _carry("bias", 1.0), _carry("alpha", 1.0), _carry("beta", 0.5), _NAME))
      for op in ("lrn", "local_response_normalization")),
    Signature("tf.reshape", "flatten", (_carry("tensor"), _carry("shape"), _NAME)),
    Signature("tf.layers.flatten", "flatten", (
        _carry("inputs"), _NAME, _refuse("data_format", "channels_last", "the importer reads TF1's NHWC layout"))),
    Signature("tf.matmul", "linear", (
        _carry("a"), _carry("b"),
        *(_refuse(n, False, "the weight is read as [in, out], untransposed")
          for n in ("transpose_a", "transpose_b", "adjoint_a", "adjoint_b")),
        *(_harmless(n, False, "how the operand is stored, not the product") for n in ("a_is_sparse", "b_is_sparse")),
        _harmless("output_type", None, "the number format of the product"), _NAME)),
    Signature("tf.nn.xw_plus_b", "linear", (_carry("x"), _carry("weights"), _carry("biases"), _NAME)),
    Signature("tf.nn.dropout", "dropout", (
        _carry("x"), _carry("keep_prob", None), _refuse("noise_shape", None, "a spec's dropout drops each value on its own"),
        _SEED, _NAME, _carry("rate", None))),
    Signature("tf.nn.bias_add", None, (
        _carry("value"), _carry("bias"), _FORMAT,
        _harmless("name", None, "the bias joins the layer before it, which keeps its own name"))),
    *(Signature(f"tf.nn.{op}", op, (_carry("features", aliases=("x",)), _NAME)) for op in ("relu", "tanh", "sigmoid")),
    Signature("tf.nn.softmax", "softmax", (
        _carry("logits"), _refuse("axis", None, "a spec's softmax is over the classes (the last axis)", ok=(None, -1, 1)),
        _NAME, _refuse("dim", None, "a spec's softmax is over the classes (the last axis)", ok=(None, -1, 1)))),
)}

# Weights and their initial values: what a conv or linear layer's shape and init are read from.
_DRAW = (_DTYPE, _SEED, _harmless("name", None, "the op's name, not the layer's"))
VARIABLES: dict[str, Signature] = {s.call.rsplit(".", 1)[-1]: s for s in (
    Signature("tf.placeholder", None, (
        _DTYPE, _carry("shape", None), _harmless("name", None, "the input has no spec layer to name"))),
    Signature("tf.Variable", None, (
        _carry("initial_value"), _refuse("trainable", None, "a spec's weights are trained", ok=(None, True)),
        _harmless("validate_shape", True, "a check, not the value"),
        _harmless("caching_device", None, "where the value is cached, not what it is"),
        _harmless("name", None, "the variable's name, not the layer's"),
        _refuse("variable_def", None, "a spec's weights are drawn by its initialisers"),
        _DTYPE, _refuse("expected_shape", None, "the shape is read from the initial value"),
        _harmless("import_scope", None, "a name scope"),
        _harmless("constraint", None, "a bound applied after each training step: the layer is the same"))),
    Signature("tf.get_variable", None, (
        _harmless("name", REQUIRED, "the variable's name, not the layer's"), _carry("shape", None), _DTYPE,
        _carry("initializer", None),
        _harmless("regularizer", None, "a penalty on the training loss: the layer is the same"),
        _refuse("trainable", None, "a spec's weights are trained", ok=(None, True)),
        _harmless("collections", None, "graph bookkeeping"), _harmless("caching_device", None, "where the value is cached"),
        _harmless("partitioner", None, "how the value is stored"), _harmless("validate_shape", True, "a check, not the value"),
        _harmless("use_resource", None, "how the variable is stored"))),
    *(Signature(f"tf.{op}", None, (_carry("shape"), _carry("mean", 0.0), _carry("stddev", 1.0), *_DRAW))
      for op in ("truncated_normal", "random_normal")),
    Signature("tf.random.truncated_normal", None, (_carry("shape"), _carry("mean", 0.0), _carry("stddev", 1.0), *_DRAW)),
    Signature("tf.random.normal", None, (_carry("shape"), _carry("mean", 0.0), _carry("stddev", 1.0), *_DRAW)),
    Signature("tf.random_uniform", None, (_carry("shape"), _carry("minval", 0), _carry("maxval", None), *_DRAW)),
    Signature("tf.random.uniform", None, (_carry("shape"), _carry("minval", 0), _carry("maxval", None), *_DRAW)),
    *(Signature(f"tf.{op}", None, (_carry("shape"), _DTYPE, _harmless("name", None, "the op's name")))
      for op in ("zeros", "ones")),
    Signature("tf.constant", None, (
        _carry("value"), _DTYPE, _carry("shape", None), _harmless("name", None, "the op's name"),
        _harmless("verify_shape", False, "a check, not the value"))),
    *(Signature(f"tf.{op}", None, (_carry("mean", 0.0), _carry("stddev", 1.0), _SEED, _DTYPE))
      for op in ("truncated_normal_initializer", "random_normal_initializer")),
    Signature("tf.random_uniform_initializer", None, (_carry("minval", 0), _carry("maxval", None), _SEED, _DTYPE)),
    Signature("tf.constant_initializer", None, (_carry("value", 0), _DTYPE, _harmless("verify_shape", False, "a check"))),
    Signature("tf.zeros_initializer", None, (_DTYPE,)),
    Signature("tf.glorot_uniform_initializer", None, (_SEED, _DTYPE)),
    Signature("tf.contrib.layers.xavier_initializer", None, (
        _refuse("uniform", True, "a spec's Glorot initialiser is the uniform one"), _SEED, _DTYPE)),
)}
