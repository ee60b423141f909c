"""The TF1 importer's table: every argument of every op and variable it reads.

Positions follow TF1 (`tf.nn.conv2d(input, filter, strides, padding, use_cudnn_on_gpu, ...)`);
TF2's keyword spellings (`filters`, `rate`) are aliases. `carry` arguments become spec fields
(tf1.py writes them); `harmless` ones leave the network as it is, for the reason given; `refuse`
ones stop the import unless their value is one the spec describes.
"""

from __future__ import annotations

from .signatures import REQUIRED, Signature, carry, harmless, refuse

_NHWC = ("NHWC", None)


_NAME = carry("name", None)  # the layer's name in the spec
_FORMAT = refuse("data_format", "NHWC", "the importer reads TF1's NHWC layout", ok=_NHWC)
_DTYPE = harmless("dtype", None, "the number format, not the layer's shape or counts")
_SEED = harmless("seed", None, "which numbers are drawn, not how")
_POOL = (carry("value", aliases=("input",)), carry("ksize"), carry("strides"), carry("padding"), _FORMAT, _NAME)

OPS: dict[str, Signature] = {s.call.rsplit(".", 1)[-1]: s for s in (
    Signature("tf.nn.conv2d", "conv", (
        carry("input"), carry("filter", aliases=("filters",)), carry("strides"), carry("padding"),
        harmless("use_cudnn_on_gpu", True, "which kernel computes it, not what it computes"), _FORMAT,
        carry("dilations", None), _NAME)),
    Signature("tf.nn.max_pool", "maxpool", _POOL), Signature("tf.nn.max_pool2d", "maxpool", _POOL),
    Signature("tf.nn.avg_pool", "avgpool", _POOL), Signature("tf.nn.avg_pool2d", "avgpool", _POOL),
    *(Signature(f"tf.nn.{op}", "lrn_tf", (
        carry("input"), carry("depth_radius", 5), carry("bias", 1.0), carry("alpha", 1.0), carry("beta", 0.5), _NAME))
      for op in ("lrn", "local_response_normalization")),
    Signature("tf.reshape", "flatten", (carry("tensor"), carry("shape"), _NAME)),
    Signature("tf.layers.flatten", "flatten", (
        carry("inputs"), _NAME, refuse("data_format", "channels_last", "the importer reads TF1's NHWC layout"))),
    Signature("tf.matmul", "linear", (
        carry("a"), carry("b"),
        *(refuse(n, False, "the weight is read as [in, out], untransposed")
          for n in ("transpose_a", "transpose_b", "adjoint_a", "adjoint_b")),
        *(harmless(n, False, "how the operand is stored, not the product") for n in ("a_is_sparse", "b_is_sparse")),
        harmless("output_type", None, "the number format of the product"), _NAME)),
    Signature("tf.nn.xw_plus_b", "linear", (carry("x"), carry("weights"), carry("biases"), _NAME)),
    Signature("tf.nn.dropout", "dropout", (
        carry("x"), carry("keep_prob", None), refuse("noise_shape", None, "a spec's dropout drops each value on its own"),
        _SEED, _NAME, carry("rate", None))),
    Signature("tf.nn.bias_add", None, (
        carry("value"), carry("bias"), _FORMAT,
        harmless("name", None, "the bias joins the layer before it, which keeps its own name"))),
    *(Signature(f"tf.nn.{op}", op, (carry("features", aliases=("x",)), _NAME)) for op in ("relu", "tanh", "sigmoid")),
    Signature("tf.nn.softmax", "softmax", (
        carry("logits"), refuse("axis", None, "a spec's softmax is over the classes (the last axis)", ok=(None, -1, 1)),
        _NAME, refuse("dim", None, "a spec's softmax is over the classes (the last axis)", ok=(None, -1, 1)))),
)}

# Weights and their initial values: what a conv or linear layer's shape and init are read from.
_DRAW = (_DTYPE, _SEED, harmless("name", None, "the op's name, not the layer's"))
VARIABLES: dict[str, Signature] = {s.call.rsplit(".", 1)[-1]: s for s in (
    Signature("tf.placeholder", None, (
        _DTYPE, carry("shape", None), harmless("name", None, "the input has no spec layer to name"))),
    Signature("tf.Variable", None, (
        carry("initial_value"), refuse("trainable", None, "a spec's weights are trained", ok=(None, True)),
        harmless("validate_shape", True, "a check, not the value"),
        harmless("caching_device", None, "where the value is cached, not what it is"),
        harmless("name", None, "the variable's name, not the layer's"),
        refuse("variable_def", None, "a spec's weights are drawn by its initialisers"),
        _DTYPE, refuse("expected_shape", None, "the shape is read from the initial value"),
        harmless("import_scope", None, "a name scope"),
        harmless("constraint", None, "a bound applied after each training step: the layer is the same"))),
    Signature("tf.get_variable", None, (
        harmless("name", REQUIRED, "the variable's name, not the layer's"), carry("shape", None), _DTYPE,
        carry("initializer", None),
        harmless("regularizer", None, "a penalty on the training loss: the layer is the same"),
        refuse("trainable", None, "a spec's weights are trained", ok=(None, True)),
        harmless("collections", None, "graph bookkeeping"), harmless("caching_device", None, "where the value is cached"),
        harmless("partitioner", None, "how the value is stored"), harmless("validate_shape", True, "a check, not the value"),
        harmless("use_resource", None, "how the variable is stored"))),
    *(Signature(f"tf.{op}", None, (carry("shape"), carry("mean", 0.0), carry("stddev", 1.0), *_DRAW))
      for op in ("truncated_normal", "random_normal")),
    Signature("tf.random.truncated_normal", None, (carry("shape"), carry("mean", 0.0), carry("stddev", 1.0), *_DRAW)),
    Signature("tf.random.normal", None, (carry("shape"), carry("mean", 0.0), carry("stddev", 1.0), *_DRAW)),
    Signature("tf.random_uniform", None, (carry("shape"), carry("minval", 0), carry("maxval", None), *_DRAW)),
    Signature("tf.random.uniform", None, (carry("shape"), carry("minval", 0), carry("maxval", None), *_DRAW)),
    *(Signature(f"tf.{op}", None, (carry("shape"), _DTYPE, harmless("name", None, "the op's name")))
      for op in ("zeros", "ones")),
    Signature("tf.constant", None, (
        carry("value"), _DTYPE, carry("shape", None), harmless("name", None, "the op's name"),
        harmless("verify_shape", False, "a check, not the value"))),
    *(Signature(f"tf.{op}", None, (carry("mean", 0.0), carry("stddev", 1.0), _SEED, _DTYPE))
      for op in ("truncated_normal_initializer", "random_normal_initializer")),
    Signature("tf.random_uniform_initializer", None, (carry("minval", 0), carry("maxval", None), _SEED, _DTYPE)),
    Signature("tf.constant_initializer", None, (carry("value", 0), _DTYPE, harmless("verify_shape", False, "a check"))),
    Signature("tf.zeros_initializer", None, (_DTYPE,)),
    Signature("tf.glorot_uniform_initializer", None, (_SEED, _DTYPE)),
    Signature("tf.contrib.layers.xavier_initializer", None, (
        refuse("uniform", True, "a spec's Glorot initialiser is the uniform one"), _SEED, _DTYPE)),
)}
