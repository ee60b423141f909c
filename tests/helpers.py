"""Small YAML builders for tests (each test states the figures it expects by hand)."""

from __future__ import annotations

HEADER = """id: {id}
title: test network
source: {{seed: test, section: tests, framework: pytorch}}
input: {input}
num_classes: {classes}
"""


def spec_text(layers: str, *, claims: str = "", input: str = "[3, 32, 32]", classes: int = 10, id: str = "t") -> str:
    text = HEADER.format(id=id, input=input, classes=classes) + "layers:\n" + layers
    if claims:
        text += "claims:\n" + claims
    return text


LENET = """  - {kind: conv, name: conv1, out_channels: 6, kernel: 5}
  - {kind: relu}
  - {kind: maxpool, name: pool1, kernel: 2}
  - {kind: conv, name: conv2, out_channels: 16, kernel: 5}
  - {kind: relu}
  - {kind: maxpool, name: pool2, kernel: 2}
  - {kind: flatten}
  - {kind: linear, name: fc1, out_features: 120}
  - {kind: relu}
  - {kind: linear, name: fc2, out_features: 84}
  - {kind: relu}
  - {kind: linear, name: fc3, out_features: 10}
"""
