"""Every row of the Keras and TF1 importers' argument tables (keras_args.py, tf1_args.py).

As for PyTorch (test_import_args.py): a carried argument changes the spec, given by keyword or by
position alike; a harmless one leaves it as it is; a refused one (or a carried one with a value
the spec cannot hold) stops the import naming the call, the argument, its value and the line.
"""

from __future__ import annotations

import pytest
from import_rows import STATIC, check_row, ids, imported, rows

from alexnet_audit.errors import AuditError
from alexnet_audit.importer.keras_args import INPUT, LAYERS, MERGES
from alexnet_audit.importer.signatures import Param, Signature
from alexnet_audit.importer.tf1_args import OPS, VARIABLES

# ---------------------------------------------------------------- Keras

KERAS_BASE = {"Conv2D": ["4", "3"], "Dense": ["6"], "Activation": ["'relu'"], "Dropout": ["0.5"],
              "InputLayer": ["(32, 32, 3)"], "Input": ["(32, 32, 3)"], "add": ["[a, b]"], "concatenate": ["[a, b]"]}
KERAS_EXAMPLE = {
    "filters": "6", "units": "7", "kernel_size": "5", "strides": "2", "padding": "'same'", "data_format": "'channels_first'",
    "dilation_rate": "2", "groups": "2", "activation": "'tanh'", "use_bias": "False",
    "kernel_initializer": "'random_normal'", "bias_initializer": "'ones'", "kernel_regularizer": "'l2'",
    "bias_regularizer": "'l2'", "activity_regularizer": "'l2'", "kernel_constraint": "'non_neg'",
    "bias_constraint": "'non_neg'", "lora_rank": "4", "name": "'given'", "input_shape": "(7,)", "dtype": "'float64'",
    "batch_size": "32", "trainable": "False", "weights": "[1]", "input_dim": "5", "batch_input_shape": "(None, 7)",
    "pool_size": "3", "keepdims": "True", "axis": "1", "momentum": "0.9", "epsilon": "0.01", "center": "False",
    "scale": "False", "beta_initializer": "'ones'", "gamma_initializer": "'zeros'", "moving_mean_initializer": "'ones'",
    "moving_variance_initializer": "'zeros'", "beta_regularizer": "'l2'", "gamma_regularizer": "'l2'",
    "beta_constraint": "'non_neg'", "gamma_constraint": "'non_neg'", "synchronized": "True", "renorm": "True",
    "renorm_clipping": "{'rmax': 3}", "renorm_momentum": "0.9", "fused": "True", "virtual_batch_size": "8",
    "adjustment": "'f'", "max_value": "6", "negative_slope": "0.1", "threshold": "0.5", "rate": "0.3",
    "noise_shape": "(1, 1, 8)", "seed": "1", "input_tensor": "1", "sparse": "True", "ragged": "True", "type_spec": "1",
    "shape": "(16, 16, 3)", "batch_shape": "(None, 32, 32, 3)", "alpha": "0.5", "tensor": "1", "inputs": "[b, a]",
}
# Per call where a name means another thing: the input layer's own shape, not a later layer's.
KERAS_OVERRIDE = {("InputLayer", "input_shape"): "(16, 16, 3)", ("Input", "shape"): "(16, 16, 3)",
                  ("Softmax", "axis"): "0", ("ZeroPadding2D", "padding"): "2"}
KERAS_BAD = {"activation": "'swish'", "kernel_initializer": "'he_normal'", "bias_initializer": "'he_normal'",
             "padding": "'causal'", "max_value": "4"}
KERAS_BAD_OVERRIDE = {("ZeroPadding2D", "padding"): "'same'"}

SEQUENTIAL = '''
from tensorflow import keras
from tensorflow.keras import layers

model = keras.Sequential([
    layers.Conv2D(8, 3, input_shape=(32, 32, 3)),
    {call},
    layers.Flatten(),
    layers.Dense(10),
])
'''
FUNCTIONAL = '''
from tensorflow import keras
from tensorflow.keras import layers

inputs = {input}
a = layers.Conv2D(8, 3, padding='same')(inputs)
b = layers.Conv2D(8, 1)(inputs)
m = {merge}
out = layers.Dense(10)(layers.Flatten()(m))
model = keras.Model(inputs, out)
'''


def _keras(sig: Signature, args: str) -> str:
    if sig.call == "Input":
        return FUNCTIONAL.format(input=f"keras.Input({args})", merge="layers.add([a, b])")
    if sig.call in MERGES:
        return FUNCTIONAL.format(input="keras.Input(shape=(32, 32, 3))", merge=f"layers.{sig.call}({args})")
    if sig.call in ("Add", "Concatenate"):
        return FUNCTIONAL.format(input="keras.Input(shape=(32, 32, 3))", merge=f"layers.{sig.call}({args})([a, b])")
    return SEQUENTIAL.format(call=f"layers.{sig.call}({args})")


KERAS_ROWS = rows(LAYERS) + rows({"Input": INPUT}) + rows(MERGES)


@pytest.mark.parametrize("sig, param", KERAS_ROWS, ids=ids(KERAS_ROWS))
def test_keras_argument(sig: Signature, param: Param) -> None:
    value = KERAS_OVERRIDE.get((sig.call, param.name), KERAS_EXAMPLE[param.name])
    bad = KERAS_BAD_OVERRIDE.get((sig.call, param.name), KERAS_BAD.get(param.name))
    check_row(lambda args: imported(_keras(sig, args)), sig, param, KERAS_BASE.get(sig.call, []), value, bad, STATIC)


def test_keras_relu_capped_and_sloped_is_refused() -> None:
    """ReLU(max_value=6) is relu6 and ReLU(negative_slope=s) leaky_relu (rows above); both at once no spec kind holds."""
    with pytest.raises(AuditError, match=r"net.py: line 7: layers.ReLU\(6, 0.1\): max_value=6 is refused"):
        imported(SEQUENTIAL.format(call="layers.ReLU(6, 0.1)"))


# ---------------------------------------------------------------- TF1

TF1 = '''
import tensorflow as tf

def net():
    x = tf.placeholder(tf.float32, [None, 8, 8, 3])
    k = {weight}
    y = tf.nn.conv2d(x, k, [1, 1, 1, 1], 'SAME')
    k2 = tf.Variable(tf.truncated_normal([3, 3, 4, 4], stddev=0.1))
    b4 = tf.Variable(tf.zeros([4]))
    {map_op}
    y = tf.reshape(y, [-1, 256])
    w = tf.Variable(tf.truncated_normal([256, 10], stddev=0.1))
    c = tf.Variable(tf.zeros([10]))
    {vector_op}
    return tf.nn.xw_plus_b(y, w, c)
'''
WEIGHT = "tf.Variable(tf.truncated_normal([3, 3, 3, 4], stddev=0.1))"
MAP_OPS = {"conv2d", "max_pool", "max_pool2d", "avg_pool", "avg_pool2d", "lrn", "local_response_normalization",
           "bias_add", "relu", "tanh", "sigmoid", "reshape", "flatten"}
TF1_BASE = {
    "tf.nn.conv2d": ["y", "k2", "[1, 1, 1, 1]", "'SAME'"], "tf.nn.max_pool": ["y", "[1, 2, 2, 1]", "[1, 2, 2, 1]", "'VALID'"],
    "tf.nn.bias_add": ["y", "b4"], "tf.reshape": ["y", "[-1, 256]"], "tf.matmul": ["y", "w"],
    "tf.nn.xw_plus_b": ["y", "w", "c"], "tf.Variable": ["tf.truncated_normal([3, 3, 3, 4], stddev=0.1)"],
    "tf.get_variable": ["'k'", "[3, 3, 3, 4]"], "tf.placeholder": ["tf.float32", "[None, 8, 8, 3]"],
}
for _pool in ("max_pool2d", "avg_pool", "avg_pool2d"):
    TF1_BASE[f"tf.nn.{_pool}"] = TF1_BASE["tf.nn.max_pool"]
for _draw in ("truncated_normal", "random_normal", "random.truncated_normal", "random.normal", "random_uniform",
              "random.uniform", "zeros", "ones"):
    TF1_BASE[f"tf.{_draw}"] = ["[3, 3, 3, 4]"]
TF1_BASE["tf.constant"] = ["0.1", "tf.float32", "[3, 3, 3, 4]"]
for _op in ("nn.lrn", "nn.local_response_normalization", "layers.flatten", "nn.dropout", "nn.relu", "nn.tanh",
            "nn.sigmoid", "nn.softmax"):
    TF1_BASE[f"tf.{_op}"] = ["y"]
TF1_EXAMPLE = {
    "input": "x", "filter": "k", "strides": "[1, 2, 2, 1]", "padding": "'VALID'", "use_cudnn_on_gpu": "False",
    "data_format": "'NCHW'", "dilations": "[1, 2, 2, 1]", "name": "'given'", "value": "x", "ksize": "[1, 3, 3, 1]",
    "depth_radius": "2", "bias": "b4", "alpha": "0.5", "beta": "0.75", "tensor": "x", "shape": "[-1, 128]",
    "inputs": "x", "a": "tf.reshape(x, [-1, 192])", "b": "tf.Variable(tf.truncated_normal([256, 7]))",
    "transpose_a": "True", "transpose_b": "True", "adjoint_a": "True", "adjoint_b": "True", "a_is_sparse": "True",
    "b_is_sparse": "True", "output_type": "tf.float64", "x": "tf.reshape(x, [-1, 192])", "weights": "c",
    "biases": "w", "keep_prob": "0.7", "noise_shape": "[1, 256]", "seed": "1", "rate": "0.3", "features": "x",
    "logits": "tf.reshape(x, [-1, 192])", "axis": "0", "dim": "0", "initial_value": "tf.zeros([3, 3, 3, 4])",
    "trainable": "False", "validate_shape": "False", "caching_device": "'/cpu:0'", "variable_def": "1",
    "dtype": "tf.float64", "expected_shape": "[1]", "import_scope": "'s'", "constraint": "'non_neg'",
    "initializer": "tf.zeros_initializer()", "regularizer": "'l2'", "collections": "['c']", "partitioner": "'p'",
    "use_resource": "True", "mean": "0.5", "stddev": "0.2", "minval": "-1", "maxval": "2", "verify_shape": "True",
    "uniform": "False",
}
TF1_OVERRIDE = {
    **{(f"tf.nn.{pool}", key): value for pool in ("max_pool", "max_pool2d", "avg_pool", "avg_pool2d")
       for key, value in (("strides", "[1, 1, 1, 1]"), ("padding", "'SAME'"))},
    ("tf.nn.bias_add", "bias"): "tf.Variable(tf.ones([4]))", ("tf.nn.lrn", "bias"): "2.0",
    ("tf.nn.local_response_normalization", "bias"): "2.0",
    ("tf.layers.flatten", "data_format"): "'channels_first'", ("tf.Variable", "name"): "'k'",
    ("tf.get_variable", "name"): "'other'", ("tf.get_variable", "shape"): "[5, 5, 3, 4]",
    ("tf.placeholder", "shape"): "[None, 16, 16, 3]", ("tf.placeholder", "dtype"): "tf.float16",
    ("tf.constant", "value"): "0.5", ("tf.constant", "shape"): "[5, 5, 3, 4]", ("tf.zeros", "shape"): "[5, 5, 3, 4]",
    ("tf.ones", "shape"): "[5, 5, 3, 4]", ("tf.constant_initializer", "value"): "0.5",
}


def _tf1(sig: Signature, args: str) -> str:
    op = sig.call.rsplit(".", 1)[-1]
    weight, map_op, vector_op = WEIGHT, "pass", "pass"
    if sig.call == "tf.placeholder":
        return TF1.format(weight=WEIGHT, map_op="pass", vector_op="pass").replace(
            "tf.placeholder(tf.float32, [None, 8, 8, 3])", f"tf.placeholder({args})")
    if sig.call == "tf.Variable":
        weight = f"tf.Variable({args})"
    elif sig.call == "tf.get_variable":
        weight = f"tf.get_variable({args})"
    elif op.endswith("_initializer"):
        weight = f"tf.get_variable('k', [3, 3, 3, 4], initializer={sig.call}({args}))"
    elif sig.call in {s.call for s in VARIABLES.values()}:
        weight = f"tf.Variable({sig.call}({args}))"
    elif op in MAP_OPS:
        map_op = f"y = {sig.call}({args})"
    else:
        vector_op = f"y = {sig.call}({args})"
    return TF1.format(weight=weight, map_op=map_op, vector_op=vector_op)


TF1_ROWS = rows(OPS) + rows(VARIABLES)


@pytest.mark.parametrize("sig, param", TF1_ROWS, ids=ids(TF1_ROWS))
def test_tf1_argument(sig: Signature, param: Param) -> None:
    value = TF1_OVERRIDE.get((sig.call, param.name), TF1_EXAMPLE[param.name])
    check_row(lambda args: imported(_tf1(sig, args)), sig, param, TF1_BASE.get(sig.call, []), value, None, STATIC)
