"""The Keras importer's table: every argument of every layer it reads (tf.keras 2 and Keras 3).

`carry` arguments become spec fields (keras.py writes them); `harmless` ones leave the network as
it is, for the reason given; `refuse` ones stop the import unless their value is one the spec
describes. Every layer also takes the base Layer's keywords (`name`, `input_shape`, ...).
"""

from __future__ import annotations

from .signatures import Param, Signature, carry, harmless, refuse

_CHANNELS_LAST = ("channels_last", None)


_DATA_FORMAT = refuse("data_format", None, "the importer reads Keras's channels-last layout", ok=_CHANNELS_LAST)
_REGULARISERS = tuple(harmless(n, None, "a penalty on the training loss: the layer it regularises is the same "
                                "(the spec's training block holds weight decay)")
                      for n in ("kernel_regularizer", "bias_regularizer", "activity_regularizer"))
_CONSTRAINTS = tuple(harmless(n, None, "a bound on the weights applied after each training step: the layer is the same")
                     for n in ("kernel_constraint", "bias_constraint"))
# The base Layer's keywords, which every layer takes.
_LAYER = (
    carry("name", None, keyword_only=True),
    carry("input_shape", None, keyword_only=True),
    harmless("dtype", None, "the number format, not the layer's shape or counts", keyword_only=True),
    harmless("batch_size", None, "the batch, not one sample's shape", keyword_only=True),
    refuse("trainable", True, "a spec's layers are trained (frozen weights are not parameters the spec counts)",
            keyword_only=True),
    refuse("weights", None, "a spec's weights are drawn by its initialisers", keyword_only=True),
    refuse("input_dim", None, "give the input with input_shape or --input", keyword_only=True),
    refuse("batch_input_shape", None, "give the input with input_shape or --input", keyword_only=True),
)


_CONCAT_AXIS = refuse("axis", -1, "a spec's concat joins the channels (Keras's last axis)", ok=(-1, 3))
_MERGE_NAME = harmless("name", None, "a merge point's name is not a spec field (claims name it add_1, concat_1)",
                        keyword_only=True)


def _layer(call: str, kind: str | None, *params: Param) -> Signature:
    return Signature(call, kind, params + _LAYER)


_POOL = (carry("pool_size", (2, 2)), carry("strides", None), carry("padding", None), _DATA_FORMAT)
_GLOBAL = (_DATA_FORMAT, refuse("keepdims", False, "a spec's global pooling gives a vector"))
_INITIALISERS = (carry("kernel_initializer", "glorot_uniform"), carry("bias_initializer", "zeros"))
_LORA = refuse("lora_rank", None, "a spec's layer has no low-rank adapter", keyword_only=True)

LAYERS: dict[str, Signature] = {s.call: s for s in (
    _layer("Conv2D", "conv", carry("filters"), carry("kernel_size"), carry("strides", (1, 1)),
           carry("padding", None), _DATA_FORMAT, carry("dilation_rate", (1, 1)), carry("groups", 1),
           carry("activation", None), carry("use_bias", None), *_INITIALISERS, *_REGULARISERS, *_CONSTRAINTS,
           _LORA),
    _layer("Dense", "linear", carry("units"), carry("activation", None), carry("use_bias", None), *_INITIALISERS,
           *_REGULARISERS, *_CONSTRAINTS, _LORA),
    _layer("MaxPooling2D", "maxpool", *_POOL),
    _layer("AveragePooling2D", "avgpool", *_POOL),
    _layer("GlobalAveragePooling2D", "global_avgpool", *_GLOBAL),
    _layer("GlobalMaxPooling2D", "global_maxpool", *_GLOBAL),
    _layer("BatchNormalization", "batchnorm",
           refuse("axis", -1, "a spec's batchnorm is over the channels (Keras's last axis)", ok=(-1, 3)),
           carry("momentum", None), carry("epsilon", None),
           refuse("center", True, "a spec's batchnorm has a trainable shift"),
           refuse("scale", True, "a spec's batchnorm has a trainable scale"),
           *(refuse(n, d, "a spec's batchnorm starts from zero shifts, unit scales and statistics of 0 and 1")
             for n, d in (("beta_initializer", "zeros"), ("gamma_initializer", "ones"),
                          ("moving_mean_initializer", "zeros"), ("moving_variance_initializer", "ones"))),
           *(harmless(n, None, "a penalty or bound applied in training: the layer is the same")
             for n in ("beta_regularizer", "gamma_regularizer", "beta_constraint", "gamma_constraint")),
           harmless("synchronized", False, "statistics over every replica's share of the batch: one batch's, as "
                     "on one device", keyword_only=True),
           refuse("renorm", False, "a spec's batchnorm is not batch renormalisation", keyword_only=True),
           refuse("renorm_clipping", None, "a spec's batchnorm is not batch renormalisation", keyword_only=True),
           refuse("renorm_momentum", 0.99, "a spec's batchnorm is not batch renormalisation", keyword_only=True),
           harmless("fused", None, "which kernel computes it, not what it computes", keyword_only=True),
           refuse("virtual_batch_size", None, "a spec's batchnorm uses the whole batch's statistics", keyword_only=True),
           refuse("adjustment", None, "a spec's batchnorm uses the whole batch's statistics", keyword_only=True)),
    _layer("Activation", None, carry("activation")),
    _layer("ReLU", "relu", carry("max_value", None), carry("negative_slope", 0.0),
           refuse("threshold", 0.0, "a spec's relu is zero below 0")),
    _layer("Softmax", "softmax", refuse("axis", -1, "a spec's softmax is over the classes (the last axis)", ok=(-1, 1))),
    _layer("Dropout", "dropout", carry("rate"),
           refuse("noise_shape", None, "a spec's dropout drops each value on its own"),
           harmless("seed", None, "which values are dropped, not how many")),
    _layer("Flatten", "flatten", _DATA_FORMAT),
    Signature("InputLayer", None, (carry("input_shape", None), harmless("batch_size", None, "the batch, not one sample's shape"),
           harmless("dtype", None, "the number format"), refuse("input_tensor", None, "give the input with --input"),
           refuse("sparse", None, "a spec's input is a dense image", ok=(None, False)),
           harmless("name", None, "the input has no spec layer to name"),
           refuse("ragged", None, "a spec's input is a dense image", ok=(None, False)),
           refuse("type_spec", None, "give the input with --input"),
           carry("shape", None, keyword_only=True),
           refuse("batch_shape", None, "give the input with --input", keyword_only=True))),
    _layer("ZeroPadding2D", "zeropad", carry("padding", (1, 1)), _DATA_FORMAT),
    _layer("LeakyReLU", "leaky_relu", Param("negative_slope", "carry", 0.3, aliases=("alpha",))),
    _layer("ELU", "elu", carry("alpha", 1.0)),
    Signature("Add", None, (_MERGE_NAME, _LAYER[2])),
    Signature("Concatenate", None, (_CONCAT_AXIS, _MERGE_NAME, _LAYER[2])),
)}

# `keras.Input(...)`, a function, not a layer.
INPUT = Signature("Input", None, (
    carry("shape", None), harmless("batch_size", None, "the batch, not one sample's shape"),
    harmless("name", None, "the input has no spec layer to name"), harmless("dtype", None, "the number format"),
    refuse("sparse", None, "a spec's input is a dense image", ok=(None, False)),
    refuse("tensor", None, "give the input with --input"),
    refuse("ragged", None, "a spec's input is a dense image", ok=(None, False)),
    refuse("type_spec", None, "give the input with --input"),
    refuse("batch_shape", None, "give the input with --input", keyword_only=True)))

# `keras.layers.add([a, b])` and `concatenate([a, b], axis=-1)`.
MERGES: dict[str, Signature] = {
    "add": Signature("add", None, (carry("inputs"), _MERGE_NAME)),
    "concatenate": Signature("concatenate", None, (carry("inputs"), _CONCAT_AXIS, _MERGE_NAME)),
}
