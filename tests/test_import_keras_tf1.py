"""`alexnet-audit import` on Keras and TensorFlow 1 listings written the way posts write them.

Every expected figure is computed by hand in the test.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from import_helpers import import_listing, measured, verdicts

from alexnet_audit.errors import AuditError
from alexnet_audit.spec import spec_from_text


def test_keras_sequential_list_with_prefixes_and_an_ignored_input_shape(tmp_path: Path) -> None:
    code = """
        import tensorflow as tf
        from tensorflow.keras import layers

        model = tf.keras.Sequential([
            layers.Conv2D(32, (3, 3), activation='relu', input_shape=(28, 28, 1)),
            layers.MaxPooling2D((2, 2)),
            tf.keras.layers.Conv2D(64, 3, padding='same', use_bias=False),
            layers.BatchNormalization(),
            layers.Activation('relu'),
            layers.MaxPool2D(),
            layers.Flatten(),
            layers.Dropout(0.25),
            layers.Dense(128, activation='relu', input_shape=(3136,)),
            layers.Dense(10, activation='softmax'),
            layers.GaussianNoise(0.1),
        ])
    """
    result = import_listing(tmp_path, code)
    rows = measured(result.text)
    assert [n for n, _, _, _ in rows] == [
        "conv2d", "conv2d_relu", "max_pooling2d", "conv2d_1", "batch_normalization", "activation", "max_pooling2d_1",
        "flatten", "dropout", "dense", "dense_relu", "dense_1", "dense_1_softmax"]
    shapes = {n: s for n, _, s, _ in rows}
    assert shapes["conv2d"] == (32, 26, 26)  # 'valid' by default: 28-3+1
    assert shapes["conv2d_1"] == (64, 13, 13) and shapes["max_pooling2d_1"] == (64, 6, 6)  # pool 2 by default
    params = {n: p for n, _, _, p in rows if p}
    assert params == {"conv2d": 3 * 3 * 1 * 32 + 32, "conv2d_1": 3 * 3 * 32 * 64, "batch_normalization": 2 * 64,
                      "dense": 6 * 6 * 64 * 128 + 128, "dense_1": 128 * 10 + 10}
    assert sum(params.values()) == 315_210
    assert verdicts(tmp_path, result.text) == {"dropout-declared-input-shape": "fails"}  # 3136 claimed, 2304 given
    assert any("padding 'valid'" in a for a in result.reading.assumed)
    assert any("use_bias=True" in a for a in result.reading.assumed)
    assert [line for line, _ in result.reading.unreadable] == [16]  # GaussianNoise: named, left out


FUNCTIONAL_AND_SUBCLASS = """
    from tensorflow import keras
    from tensorflow.keras.layers import Input, Conv2D, Flatten, Dense

    inputs = Input(shape=(32, 32, 3))
    x = Conv2D(8, 3, strides=2, padding='same', activation='relu')(inputs)
    x = Flatten()(x)
    outputs = Dense(10)(x)
    functional = keras.Model(inputs=inputs, outputs=outputs)

    class Sub(keras.Model):
        def __init__(self, output_units=10):
            super().__init__()
            self.conv = Conv2D(8, 3)
            self.flat = Flatten()
            self.out = Dense(output_units)

        def call(self, x):
            return self.out(self.flat(self.conv(x)))
"""


def test_several_models_ask_which(tmp_path: Path) -> None:
    with pytest.raises(AuditError, match="several models .*functional, Sub.*--model"):
        import_listing(tmp_path, FUNCTIONAL_AND_SUBCLASS)
    functional = import_listing(tmp_path, FUNCTIONAL_AND_SUBCLASS, model="functional")
    assert [(s, p) for _, _, s, p in measured(functional.text)] == [
        ((8, 16, 16), 3 * 3 * 3 * 8 + 8), ((8, 16, 16), 0), ((8 * 16 * 16,), 0), ((10,), 2048 * 10 + 10)]  # SAME: 32/2
    sub = import_listing(tmp_path, FUNCTIONAL_AND_SUBCLASS, model="Sub", input=(3, 32, 32))
    assert [(n, p) for n, _, _, p in measured(sub.text)] == [
        ("conv", 3 * 3 * 3 * 8 + 8), ("flat", 0), ("out", 30 * 30 * 8 * 10 + 10)]


def test_keras_padding_global_pooling_and_leaky_relu(tmp_path: Path) -> None:
    code = """
        from keras.models import Sequential
        from keras.layers import Conv2D, ZeroPadding2D, LeakyReLU, GlobalAveragePooling2D, Dense

        model = Sequential([
            ZeroPadding2D(padding=((1, 0), (2, 1)), input_shape=(10, 10, 3)),
            Conv2D(8, 3, dilation_rate=2),
            LeakyReLU(),
            GlobalAveragePooling2D(),
            Dense(5, activation='elu'),
        ])
    """
    result = import_listing(tmp_path, code)
    rows = measured(result.text)
    # 10+1+0 = 11 rows, 10+2+1 = 13 columns; the dilated 3x3 spans 5: 7 x 9
    assert [(k, s, p) for _, k, s, p in rows] == [
        ("zeropad", (3, 11, 13), 0), ("conv", (8, 7, 9), 3 * 3 * 3 * 8 + 8), ("leaky_relu", (8, 7, 9), 0),
        ("global_avgpool", (8,), 0), ("linear", (5,), 8 * 5 + 5), ("elu", (5,), 0)]
    assert spec_from_text(result.text).layers[2].spec.slope == 0.3  # Keras's LeakyReLU default


def test_keras_functional_branches(tmp_path: Path) -> None:
    code = """
        from tensorflow.keras import layers, Model

        inp = layers.Input(shape=(8, 8, 3))
        left = layers.Conv2D(4, 1, padding='same')(inp)
        right = layers.Conv2D(4, 3, padding='same')(inp)
        x = layers.concatenate([left, right])
        y = layers.Conv2D(8, 1)(x)
        x = layers.Add()([x, y])
        out = layers.Dense(3)(layers.Flatten()(x))
        net = Model(inp, out)
    """
    result = import_listing(tmp_path, code)
    rows = measured(result.text)
    assert {n: p for n, _, _, p in rows if p} == {
        "conv2d": 3 * 4 + 4, "conv2d_1": 3 * 3 * 3 * 4 + 4, "conv2d_2": 8 * 8 + 8, "dense": 8 * 8 * 8 * 3 + 3}
    assert sorted(k for _, k, _, _ in rows if k in ("add", "concat")) == ["add", "concat"]


def test_a_name_the_listing_never_defines(tmp_path: Path) -> None:
    code = """
        from keras.models import Sequential
        from keras.layers import Dense, Flatten, Conv2D

        model = Sequential()
        model.add(Conv2D(4, kernel_size=(3, 3), input_shape=(8, 8, 1)))
        model.add(Flatten())
        model.add(Dense(output_class_units, activation='softmax'))
    """
    with pytest.raises(AuditError, match="output_class_units is used but never defined.*--set output_class_units"):
        import_listing(tmp_path, code)
    result = import_listing(tmp_path, code, sets={"output_class_units": 17})
    assert measured(result.text)[-2][2:] == ((17,), 6 * 6 * 4 * 17 + 17)
    assert verdicts(tmp_path, result.text) == {"output_class_units-defined": "fails"}


def test_tf1_ops_with_weight_variables(tmp_path: Path) -> None:
    code = """
        import tensorflow as tf

        def lenet(x, keep_prob):
            w1 = tf.Variable(tf.truncated_normal([5, 5, 1, 6], stddev=0.1))
            b1 = tf.Variable(tf.zeros([6]))
            h1 = tf.nn.relu(tf.nn.conv2d(x, w1, strides=[1, 1, 1, 1], padding='VALID') + b1)
            p1 = tf.nn.max_pool(h1, ksize=[1, 2, 2, 1], strides=[1, 2, 2, 1], padding='VALID')
            n1 = tf.nn.lrn(p1, 4, bias=1.0, alpha=0.001 / 9.0, beta=0.75)
            w2 = tf.Variable(tf.random_normal([12 * 12 * 6, 10], stddev=0.01))
            b2 = tf.Variable(tf.constant(0.1, shape=[10]))
            flat = tf.reshape(n1, [-1, 12 * 12 * 6])
            logits = tf.matmul(flat, w2) + b2
            return tf.nn.dropout(logits, keep_prob)

        x = tf.placeholder(tf.float32, [None, 28, 28, 1])
    """
    result = import_listing(tmp_path, code)
    assert result.reading.input == (1, 28, 28)
    rows = measured(result.text)
    assert [(k, s, p) for _, k, s, p in rows] == [
        ("conv", (6, 24, 24), 5 * 5 * 1 * 6 + 6), ("relu", (6, 24, 24), 0), ("maxpool", (6, 12, 12), 0),
        ("lrn_tf", (6, 12, 12), 0), ("flatten", (864,), 0), ("linear", (10,), 864 * 10 + 10), ("dropout", (10,), 0)]
    layers = spec_from_text(result.text).layers
    assert (layers[0].spec.init.weight.dist, layers[0].spec.init.weight.std, layers[0].spec.init.bias.value) == (
        "truncated_normal", 0.1, 0.0)
    assert (layers[5].spec.init.weight.std, layers[5].spec.init.bias.value) == (0.01, 0.1)
    assert (layers[3].spec.depth_radius, layers[3].spec.alpha) == (4, 0.001 / 9.0)
    assert any("keep_prob" in a and "0.5" in a for a in result.reading.assumed)
    assert set(verdicts(tmp_path, result.text).values()) == {"holds"}
