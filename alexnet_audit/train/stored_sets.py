"""Data sets stored on disk in their standard formats: CIFAR-10's and CIFAR-100's python pickles,
MNIST's and Fashion-MNIST's IDX files, and ImageFolder trees (image_folder.py), recognised by
their file names. Nothing is ever downloaded; a missing or malformed path is an `AuditError`.
"""

from __future__ import annotations

import gzip
import math
import pickle
import struct
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import torch

from ..errors import AuditError
from .image_folder import load_image_folder
from .image_set import ImageSet

MAX_IDX_BYTES = 1 << 30  # MNIST's largest file is 47 MB; this refuses a decompression bomb
CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
FASHION_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")


def load_path(path: Path, size: tuple[int, int]) -> ImageSet:
    """CIFAR-10 or CIFAR-100 pickles, (Fashion-)MNIST IDX files or an ImageFolder tree, recognised by their file names."""
    if not path.is_dir():
        raise AuditError("a data set on disk is a directory: CIFAR-10's or CIFAR-100's python pickles, (Fashion-)MNIST's "
                         "IDX files or an ImageFolder tree (one folder per class)", file=str(path))
    cifar = path / "cifar-10-batches-py" if (path / "cifar-10-batches-py").is_dir() else path
    if (cifar / "data_batch_1").exists():
        return load_cifar10(cifar)
    cifar100 = path / "cifar-100-python" if (path / "cifar-100-python").is_dir() else path
    if (cifar100 / "train").is_file():
        return load_cifar100(cifar100)
    if _idx_file(path, "train-images", "idx3") is not None:
        return load_mnist(path)
    return load_image_folder(path, size)


class _NumpyOnly(pickle.Unpickler):
    """Unpickles plain data and numpy arrays only: a CIFAR batch needs nothing else, and a
    pickle that asks for any other callable could run code."""

    _ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
        ("numpy", "ndarray"), ("numpy", "dtype"), ("_codecs", "encode"),
    }

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in self._ALLOWED:
            raise pickle.UnpicklingError(f"it asks for {module}.{name}, which a CIFAR batch never holds")
        if name == "_reconstruct":
            return np.ndarray.__reduce__(np.zeros(0))[0]  # numpy's own reconstructor, wherever it lives
        return super().find_class(module, name)


def _unpickle(path: Path, what: str = "a CIFAR-10 python batch") -> dict[str, Any]:
    try:
        with path.open("rb") as f:
            data = _NumpyOnly(f, encoding="bytes").load()
    except OSError as exc:
        raise AuditError(f"cannot read: {exc.strerror or exc}", file=str(path)) from None
    except Exception as exc:  # a malformed pickle raises many kinds of error; each is bad input here
        raise AuditError(f"not {what}: {exc}", file=str(path)) from None
    if not isinstance(data, dict):
        raise AuditError(f"not {what}: it holds no dictionary", file=str(path))
    return {k.decode("latin1") if isinstance(k, bytes) else str(k): v for k, v in data.items()}


def _cifar_batch(path: Path, labels_key: str = "labels", classes: int = 10) -> tuple[torch.Tensor, torch.Tensor]:
    """CIFAR-10 keeps the class in 'labels'; CIFAR-100 in 'fine_labels' (its 100 classes)."""
    what = f"a CIFAR-{classes} python {'batch' if classes == 10 else 'file'}"
    batch = _unpickle(path, what)
    data, labels = batch.get("data"), batch.get(labels_key)
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3 * 32 * 32:
        raise AuditError(f"not {what}: 'data' must be a uint8 array of rows of 3072 values", file=str(path))
    if not isinstance(labels, list) or len(labels) != len(data) or not all(isinstance(v, int) and 0 <= v < classes for v in labels):
        raise AuditError(f"not {what}: '{labels_key}' must list {len(data)} classes from 0 to {classes - 1}", file=str(path))
    return torch.from_numpy(data.reshape(-1, 3, 32, 32).copy()), torch.tensor(labels, dtype=torch.int64)


def load_cifar10(root: Path) -> ImageSet:
    """The python version's data_batch_1..5 and test_batch (all five train batches must be there)."""
    parts = []
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        if not (root / name).is_file():
            raise AuditError(f"a CIFAR-10 directory holds data_batch_1 to data_batch_5 and test_batch; {name} is missing",
                             file=str(root))
        parts.append(_cifar_batch(root / name))
    classes: tuple[str, ...] = CIFAR10_CLASSES
    if (root / "batches.meta").is_file():
        names = _unpickle(root / "batches.meta").get("label_names")
        if isinstance(names, list) and len(names) == 10:
            classes = tuple(n.decode("utf-8", "replace") if isinstance(n, bytes) else str(n) for n in names)
    x_train = torch.cat([x for x, _ in parts[:-1]])
    y_train = torch.cat([y for _, y in parts[:-1]])
    return ImageSet("cifar10", str(root), classes, x_train, y_train, parts[-1][0], parts[-1][1], "the standard test set")


def load_cifar100(root: Path) -> ImageSet:
    """The python version's train and test files, with the 100 fine classes; names from meta when present."""
    if not (root / "test").is_file():
        raise AuditError("a CIFAR-100 directory holds train, test and meta; test is missing", file=str(root))
    (x_train, y_train), (x_test, y_test) = (_cifar_batch(root / name, "fine_labels", 100) for name in ("train", "test"))
    classes = tuple(f"class {i}" for i in range(100))
    if (root / "meta").is_file():
        names = _unpickle(root / "meta", "a CIFAR-100 meta file").get("fine_label_names")
        if isinstance(names, list) and len(names) == 100:
            classes = tuple(n.decode("utf-8", "replace") if isinstance(n, bytes) else str(n) for n in names)
    return ImageSet("cifar100", str(root), classes, x_train, y_train, x_test, y_test, "the standard test set")


def _idx_file(root: Path, stem: str, kind: str) -> Path | None:
    """LeCun's names (train-images-idx3-ubyte) or the common dotted variant, gzipped or not."""
    for name in (f"{stem}-{kind}-ubyte", f"{stem}.{kind}-ubyte"):
        for candidate in (root / name, root / f"{name}.gz"):
            if candidate.is_file():
                return candidate
    return None


def read_idx(path: Path) -> np.ndarray:
    """One IDX file: two zero bytes, a type byte (0x08: unsigned bytes), the rank, big-endian sizes, data."""
    try:
        opener: Any = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rb") as f:
            raw = _read_capped(f, path)
    except (OSError, EOFError) as exc:
        raise AuditError(f"cannot read: {getattr(exc, 'strerror', None) or exc}", file=str(path)) from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise AuditError("not an IDX file: it must start with two zero bytes", file=str(path))
    if raw[2] != 0x08:
        raise AuditError(f"IDX data type 0x{raw[2]:02x} is not unsigned bytes (0x08), as MNIST's files are", file=str(path))
    rank = raw[3]
    header = 4 + 4 * rank
    if rank == 0 or len(raw) < header:
        raise AuditError("not an IDX file: the header is cut short", file=str(path))
    dims = struct.unpack(f">{rank}I", raw[4:header])
    if len(raw) - header != math.prod(dims):
        raise AuditError(f"the header gives sizes {list(dims)} ({math.prod(dims):,} bytes) but {len(raw) - header:,} "
                         "bytes follow it", file=str(path))
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(dims)


def _read_capped(f: BinaryIO, path: Path) -> bytes:
    raw = f.read(MAX_IDX_BYTES + 1)
    if len(raw) > MAX_IDX_BYTES:
        raise AuditError(f"larger than {MAX_IDX_BYTES:,} bytes: not an MNIST file", file=str(path))
    return raw


def load_mnist(root: Path) -> ImageSet:
    """train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte (.gz or not).

    Fashion-MNIST ships the same four files under the same names; its directories say so
    (torchvision's FashionMNIST/raw, Zalando's data/fashion), and so a directory with "fashion"
    in its name or its parents' (two levels up) is Fashion-MNIST.
    """
    arrays = []
    for stem, kind, rank in (("train-images", "idx3", 3), ("train-labels", "idx1", 1),
                             ("t10k-images", "idx3", 3), ("t10k-labels", "idx1", 1)):
        path = _idx_file(root, stem, kind)
        if path is None:
            raise AuditError(f"an MNIST directory holds the four IDX files; {stem}-{kind}-ubyte is missing", file=str(root))
        array = read_idx(path)
        if array.ndim != rank:
            raise AuditError(f"{'images' if rank == 3 else 'labels'} need {rank} dimensions, this file has {array.ndim}",
                             file=str(path))
        arrays.append((path, array))
    for (images_path, images), (labels_path, labels) in (arrays[:2], arrays[2:]):
        if len(images) != len(labels):
            raise AuditError(f"{len(images):,} images but {len(labels):,} labels in {labels_path.name}", file=str(images_path))
        if labels.max(initial=0) > 9:
            raise AuditError(f"label {int(labels.max())} is not one of the 10 classes (0 to 9)", file=str(labels_path))
    (_, x_train), (_, y_train), (_, x_test), (_, y_test) = arrays
    tensor = lambda a, dtype: torch.from_numpy(a.copy()).to(dtype)  # noqa: E731 - frombuffer arrays are read-only
    fashion = any("fashion" in part.lower() for part in root.absolute().parts[-3:])
    name, classes = ("fashion-mnist", FASHION_CLASSES) if fashion else ("mnist", tuple(map(str, range(10))))
    return ImageSet(name, str(root), classes, tensor(x_train, torch.uint8).unsqueeze(1),
                    tensor(y_train, torch.int64), tensor(x_test, torch.uint8).unsqueeze(1), tensor(y_test, torch.int64),
                    "the standard test set")
