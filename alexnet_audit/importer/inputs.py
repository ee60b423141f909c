"""The network's input size, from where the listing says it (or from --input, or assumed).

In order: --input; the model's own statement (Keras `input_shape`, `Input(shape=...)`,
`tf.placeholder`, set by the readers); a sample tensor (`torch.randn(1, 3, 227, 227)`); the
data pipeline's resize or crop; a data set the listing loads by name; a comment; else
3x224x224 (the channels from the first convolution), named as an assumption.
"""

from __future__ import annotations

import ast
import re

from .reading import Reading
from .source import Listing

DATASETS = [
    (re.compile(r"cifar-?100", re.IGNORECASE), (3, 32, 32), "CIFAR-100"),
    (re.compile(r"cifar-?10(?!0)", re.IGNORECASE), (3, 32, 32), "CIFAR-10"),
    (re.compile(r"fashion_?mnist|\bmnist", re.IGNORECASE), (1, 28, 28), "MNIST"),
]
SAMPLE_CALLS = {"randn", "rand", "zeros", "ones", "empty", "normal"}
RESIZES = {"Resize", "RandomResizedCrop", "CenterCrop", "RandomCrop"}
COMMENT = re.compile(r"#.*?input[^\n\d]{0,40}(\d{1,4})\s*[x×*,]\s*(\d{1,4})(?:\s*[x×*,]\s*(\d{1,4}))?", re.IGNORECASE)


def find_input(tree: ast.Module, listing: Listing, reading: Reading, given: tuple[int, int, int] | None) -> None:
    line = listing.file_line
    if given is not None:
        reading.input, reading.input_from = given, "--input"
        return
    if reading.input is not None:
        return
    channels = _first_channels(reading)
    calls = sorted((n for n in ast.walk(tree) if isinstance(n, ast.Call)), key=lambda n: (n.lineno, n.col_offset))
    for node in calls:
        if isinstance(node.func, ast.Attribute) and node.func.attr in SAMPLE_CALLS:
            dims = _ints(node.args[0].elts if len(node.args) == 1 and isinstance(node.args[0], (ast.Tuple, ast.List)) else node.args)
            if dims and len(dims) == 4:
                reading.input = (dims[1], dims[2], dims[3])
                reading.input_from = f"line {line(node.lineno)}: a sample tensor {ast.unparse(node)}"
                return
    for node in calls:
        if ast.unparse(node.func).rsplit(".", 1)[-1] in RESIZES and node.args:
            size = _ints(node.args[0].elts if isinstance(node.args[0], (ast.Tuple, ast.List)) else [node.args[0]])
            if size:
                h, w = (size[0], size[0]) if len(size) == 1 else (size[0], size[1])
                reading.input = (channels or 3, h, w)
                reading.input_from = f"line {line(node.lineno)}: the data pipeline's {ast.unparse(node)}"
                if channels is None:
                    reading.assumed.append("3 input channels (RGB images after the resize)")
                return
    for pattern, shape, label in DATASETS:
        m = pattern.search(listing.text)
        if m:
            row = listing.text[:m.start()].count("\n") + 1
            reading.input = (channels or shape[0], shape[1], shape[2])
            reading.input_from = f"line {line(row)}: the listing loads {label} ({shape[1]}x{shape[2]}, {shape[0]} channel{'s' if shape[0] > 1 else ''})"
            return
    m = COMMENT.search(listing.text)
    if m:
        dims = [int(d) for d in m.groups() if d]
        row = listing.text[:m.start()].count("\n") + 1
        if len(dims) == 3:
            c, h, w = (dims[2], dims[0], dims[1]) if dims[2] <= 4 else (dims[0], dims[1], dims[2])
        else:
            c, h, w = channels or 3, dims[0], dims[1]
        reading.input, reading.input_from = (c, h, w), f"line {line(row)}: a comment"
        return
    reading.input = (channels or 3, 224, 224)
    reading.input_from = None
    reading.assumed.append(f"input {channels or 3}x224x224: the listing states no input size (give one with --input)")


def _first_channels(reading: Reading) -> int | None:
    for node in reading.nodes:
        if node.kind == "conv":
            return node.declared_in
    return None


def _ints(nodes: list[ast.expr]) -> list[int] | None:
    out = []
    for n in nodes:
        if isinstance(n, ast.Constant) and isinstance(n.value, int) and not isinstance(n.value, bool) and 0 < n.value <= 4096:
            out.append(n.value)
        else:
            return None
    return out
