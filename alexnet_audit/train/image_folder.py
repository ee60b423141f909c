"""ImageFolder trees (root/<class>/*.jpg, or train/ with val/ or test/), resized as they are read,
and the flower sets the specs' claims name, recognised by their class folders."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from ..errors import AuditError
from .image_set import ImageSet, split_at_random

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".gif", ".ppm", ".pgm", ".tif", ".tiff", ".webp"}
# Class folders, lower-cased with everything but letters dropped, that identify the flower sets
# the specs' claims name; any other tree is a plain "imagefolder".
FLOWERS5 = frozenset({"daisy", "dandelion", "rose", "sunflower", "tulip"})
FLOWERS17 = frozenset({
    "bluebell", "buttercup", "coltsfoot", "cowslip", "crocus", "daffodil", "daisy", "dandelion", "fritillary",
    "iris", "lilyvalley", "pansy", "snowdrop", "sunflower", "tigerlily", "tulip", "windflower",
})


def _class_dirs(root: Path) -> list[Path]:
    return sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))


def _read_tree(root: Path, size: tuple[int, int], classes: tuple[str, ...] | None = None) -> tuple[tuple[str, ...], torch.Tensor, torch.Tensor]:
    """Every image under root/<class>/, resized to `size` (H, W), RGB; classes in sorted order."""
    from PIL import Image, UnidentifiedImageError  # here: only ImageFolder trees need it

    dirs = _class_dirs(root)
    names = tuple(d.name for d in dirs)
    if classes is not None and names != classes:
        raise AuditError(f"its class folders {list(names)} differ from the training folders {list(classes)}", file=str(root))
    if len(dirs) < 2:
        raise AuditError("not a data set this tool reads: expected CIFAR-10's python batches (data_batch_1, ...), "
                         "MNIST's IDX files (train-images-idx3-ubyte, ...) or an ImageFolder tree with at least two "
                         "class folders of images", file=str(root))
    files: list[tuple[Path, int]] = []
    for label, d in enumerate(dirs):
        found = sorted(p for p in d.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
        if not found:
            raise AuditError("this class folder holds no images (" + ", ".join(sorted(IMAGE_SUFFIXES)) + ")", file=str(d))
        files += [(p, label) for p in found]
    h, w = size
    x = torch.empty(len(files), 3, h, w, dtype=torch.uint8)
    for i, (path, _) in enumerate(files):
        try:
            with Image.open(path) as image:
                rgb = image.convert("RGB").resize((w, h), Image.Resampling.BILINEAR)
        except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
            raise AuditError(f"cannot read the image: {exc}", file=str(path)) from None
        x[i] = torch.from_numpy(np.asarray(rgb).copy()).permute(2, 0, 1)
    return names, x, torch.tensor([label for _, label in files], dtype=torch.int64)


def _flowers_name(classes: tuple[str, ...]) -> str:
    letters = frozenset("".join(ch for ch in c.lower() if ch.isalpha()) for c in classes)
    if len(classes) == len(FLOWERS5) and letters == FLOWERS5:
        return "flowers5"
    if len(classes) == len(FLOWERS17) and letters == FLOWERS17:
        return "flowers17"
    return "imagefolder"


def load_image_folder(root: Path, size: tuple[int, int]) -> ImageSet:
    """root/<class>/*.jpg, or root/train/<class>/ with root/val/ or root/test/ as the held-out part."""
    held = next((root / d for d in ("val", "test") if (root / d).is_dir()), None)
    if (root / "train").is_dir() and held is not None:
        classes, x_train, y_train = _read_tree(root / "train", size)
        _, x_test, y_test = _read_tree(held, size, classes)
        return ImageSet(_flowers_name(classes), str(root), classes, x_train, y_train, x_test, y_test, f"the {held.name}/ folder")
    classes, x, y = _read_tree(root, size)
    return split_at_random(_flowers_name(classes), str(root), classes, x, y)
