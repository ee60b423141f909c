"""Output-size arithmetic: TensorFlow SAME/VALID, explicit pads, ceil mode, all checked against
hand-computed sizes and a real forward pass."""

from __future__ import annotations

import pytest
import torch

from alexnet_audit.build import build_model, plan
from alexnet_audit.layers import Conv, MaxPool, same_pads
from alexnet_audit.spec import spec_from_text

from helpers import spec_text


@pytest.mark.parametrize(
    "size, kernel, stride, same_out, pads, valid_out",
    [
        # SAME: out = ceil(n / s); total pad = (out - 1) * s + k - n, the odd one at the end
        (224, 11, 4, 56, (3, 4), 54),  # (224 - 11) // 4 + 1 = 54
        (227, 11, 4, 57, (4, 4), 55),
        (55, 3, 2, 28, (1, 1), 27),
        (54, 3, 2, 27, (0, 1), 26),
        (5, 2, 2, 3, (0, 1), 2),
        (13, 3, 1, 13, (1, 1), 11),
        (8, 4, 1, 8, (1, 2), 5),
    ],
)
def test_tf_same_and_valid(size: int, kernel: int, stride: int, same_out: int, pads: tuple[int, int], valid_out: int) -> None:
    assert same_pads(size, kernel, stride) == pads
    same = Conv(kind="conv", out_channels=2, kernel=kernel, stride=stride, padding="same")
    valid = Conv(kind="conv", out_channels=2, kernel=kernel, stride=stride, padding="valid")
    assert same.out_shape((3, size, size)) == (2, same_out, same_out)
    assert valid.out_shape((3, size, size)) == (2, valid_out, valid_out)
    for layer in (same, valid):
        real = layer.module((3, size, size))(torch.zeros(1, 3, size, size))
        assert tuple(real.shape[1:]) == layer.out_shape((3, size, size))


def test_same_max_pool_pads_with_minus_infinity() -> None:
    pool = MaxPool(kind="maxpool", kernel=2, stride=2, padding="same")
    x = -torch.ones(1, 1, 3, 3)
    y = pool.module((1, 3, 3))(x)
    assert tuple(y.shape) == (1, 1, 2, 2)
    assert torch.all(y == -1)  # zero padding would have given 0 in the edge windows


def test_ceil_mode_and_explicit_padding() -> None:
    pool = MaxPool(kind="maxpool", kernel=3, stride=2, ceil_mode=True)
    assert pool.out_shape((1, 56, 56)) == (1, 28, 28)  # ceil((56 - 3) / 2) + 1 = 28
    assert MaxPool(kind="maxpool", kernel=3, stride=2).out_shape((1, 56, 56)) == (1, 27, 27)
    conv = Conv(kind="conv", out_channels=1, kernel=5, padding=2)
    assert conv.out_shape((1, 27, 27)) == (1, 27, 27)


def test_keras_pool_stride_defaults_to_pool_size() -> None:
    assert MaxPool(kind="maxpool", kernel=2).out_shape((6, 28, 28)) == (6, 14, 14)


def test_planned_shapes_match_a_forward_pass() -> None:
    layers = """  - {kind: conv, name: c1, out_channels: 8, kernel: 3, stride: 2, padding: same}
  - {kind: lrn_tf, name: n1, depth_radius: 2, bias: 1.0, alpha: 0.00001, beta: 0.75}
  - {kind: maxpool, name: p1, kernel: 3, stride: 2, padding: same}
  - {kind: avgpool, name: a1, kernel: 2, padding: same}
  - {kind: batchnorm, name: b1}
  - {kind: flatten}
  - {kind: linear, name: fc, out_features: 10}
"""
    spec = spec_from_text(spec_text(layers, input="[3, 33, 33]"))
    model = build_model(spec)
    x = torch.randn(2, 3, 33, 33)
    shapes = []
    h = x
    for _, module in model.named_layers():
        h = module(h)
        shapes.append(tuple(h.shape[1:]))
    # 33 -SAME s2-> 17 -SAME s2-> 9 -SAME s2-> 5
    assert [p.out_shape for p in plan(spec)] == shapes
    assert shapes[:4] == [(8, 17, 17), (8, 17, 17), (8, 9, 9), (8, 5, 5)]


def test_tf_lrn_conversion_matches_tf_formula() -> None:
    layers = """  - {kind: lrn_tf, name: n, depth_radius: 2, bias: 1.0, alpha: 0.5, beta: 0.75}
  - {kind: flatten}
  - {kind: linear, out_features: 10}
"""
    spec = spec_from_text(spec_text(layers, input="[5, 1, 1]"))
    lrn = build_model(spec).layer("n")
    a = torch.tensor([1.0, 2.0, 3.0, 4.0, 5.0]).view(1, 5, 1, 1)
    # tf.nn.lrn: b_c = a_c / (bias + alpha * sum_{|d - c| <= r} a_d^2) ^ beta, computed by hand
    sq = [1, 4, 9, 16, 25]
    expected = [a.flatten()[c].item() / (1.0 + 0.5 * sum(sq[max(0, c - 2): c + 3])) ** 0.75 for c in range(5)]
    assert torch.allclose(lrn(a).flatten(), torch.tensor(expected), rtol=1e-5)
