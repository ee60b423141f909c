"""Image data for training: built in (scikit-learn's handwritten digits, procedural shapes) or
from disk in the standard formats (CIFAR-10's and CIFAR-100's python pickles, MNIST's and
Fashion-MNIST's IDX files, an ImageFolder tree). Nothing is ever downloaded; a missing or
malformed path is an `AuditError`.

Images stay uint8 (N, C, h, w) at their stored size. `DeviceData` moves a set to the training
device once and makes every batch there (scale, channels, resize, normalise), so a GPU never
waits on a DataLoader round trip.
"""

from __future__ import annotations

import gzip
import math
import pickle
import struct
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import torch
import torch.nn.functional as F

from ..errors import AuditError

BUILT_IN = ("digits", "shapes")
HELD_OUT_FRACTION = 0.2
MAX_IDX_BYTES = 1 << 30  # MNIST's largest file is 47 MB; this refuses a decompression bomb
SHAPE_SIDE = 32
SHAPES_TRAIN_PER_CLASS = 200
SHAPES_TEST_PER_CLASS = 50
SHAPES = ("disc", "square", "diamond", "ring", "cross", "triangle", "frame", "stripes", "checker", "dots")
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".gif", ".ppm", ".pgm", ".tif", ".tiff", ".webp"}
CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
FASHION_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")
# Class folders, lower-cased with everything but letters dropped, that identify the flower sets
# the specs' claims name; any other tree is a plain "imagefolder".
FLOWERS5 = frozenset({"daisy", "dandelion", "rose", "sunflower", "tulip"})
FLOWERS17 = frozenset({
    "bluebell", "buttercup", "coltsfoot", "cowslip", "crocus", "daffodil", "daisy", "dandelion", "fritillary",
    "iris", "lilyvalley", "pansy", "snowdrop", "sunflower", "tigerlily", "tulip", "windflower",
})


@dataclass(frozen=True)
class ImageSet:
    """A labelled image set with its held-out part; images uint8 (N, C, h, w), labels int64."""

    name: str  # digits | shapes | cifar10 | cifar100 | mnist | fashion-mnist | flowers17 | flowers5 | imagefolder
    source: str  # "built in" or the path it was read from
    classes: tuple[str, ...]
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    held_out: str  # what the test part is


def load_data(data: str, input_shape: tuple[int, int, int], num_classes: int, seed: int) -> ImageSet:
    """A built-in set by name, or the set stored at a path; classes beyond the network's outputs are dropped."""
    if num_classes < 2:
        raise AuditError(f"training needs at least 2 classes; the network has {num_classes} output")
    if data == "digits":
        images = digits()
    elif data == "shapes":
        images = shapes(min(num_classes, len(SHAPES)), seed)
    else:
        images = load_path(Path(data), (input_shape[1], input_shape[2]))
    return _keep_classes(images, num_classes)


def _keep_classes(images: ImageSet, num_classes: int) -> ImageSet:
    if len(images.classes) <= num_classes:
        return images
    train, test = images.y_train < num_classes, images.y_test < num_classes
    return replace(images, classes=images.classes[:num_classes], x_train=images.x_train[train],
                   y_train=images.y_train[train], x_test=images.x_test[test], y_test=images.y_test[test])


def _split(labels: torch.Tensor, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Train and held-out indices: HELD_OUT_FRACTION of every class, drawn by `seed`."""
    g = torch.Generator().manual_seed(seed)
    train, test = [], []
    for c in labels.unique():
        idx = (labels == c).nonzero().flatten()
        idx = idx[torch.randperm(len(idx), generator=g)]
        cut = math.ceil(HELD_OUT_FRACTION * len(idx)) if len(idx) > 1 else 0
        test.append(idx[:cut])
        train.append(idx[cut:])
    return torch.cat(train).sort().values, torch.cat(test).sort().values


def _from_split(name: str, source: str, classes: tuple[str, ...], x: torch.Tensor, y: torch.Tensor) -> ImageSet:
    train, test = _split(y, seed=0)
    if not len(train) or not len(test):
        raise AuditError("too few images to hold some out for testing", file=source)
    return ImageSet(name, source, classes, x[train], y[train], x[test], y[test],
                    f"a stratified {HELD_OUT_FRACTION:.0%} split (fixed seed 0)")


# ---------------------------------------------------------------- built in


def digits() -> ImageSet:
    """scikit-learn's 1,797 handwritten digits (8x8, 16 grey levels); ships with scikit-learn."""
    from sklearn.datasets import load_digits  # here: importing scikit-learn takes a second every command would pay

    bunch = load_digits()
    x = torch.from_numpy(bunch.images * (255 / 16)).round().to(torch.uint8).unsqueeze(1)
    y = torch.from_numpy(bunch.target).long()
    return _from_split("digits", "built in (sklearn.datasets.load_digits)", tuple(map(str, range(10))), x, y)


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


# ---------------------------------------------------------------- from disk


def load_path(path: Path, size: tuple[int, int]) -> ImageSet:
    """CIFAR-10 or CIFAR-100 pickles, (Fashion-)MNIST IDX files or an ImageFolder tree, recognised by their file names."""
    if not path.exists():
        raise AuditError("no such data set: not a built-in name (" + ", ".join(BUILT_IN) + ") nor an existing path",
                         file=str(path))
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
    classes = CIFAR10_CLASSES
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
    return _from_split(_flowers_name(classes), str(root), classes, x, y)


# ---------------------------------------------------------------- on the training device


@dataclass(frozen=True)
class DeviceData:
    """Images resident on the training device; `batch` makes network inputs there."""

    x: torch.Tensor  # uint8 (N, C, h, w) as stored
    y: torch.Tensor  # int64 (N,)
    mean: torch.Tensor  # (1, C, 1, 1), per stored channel, in [0, 1] units
    std: torch.Tensor
    shape: tuple[int, int, int]  # the network's input (C, H, W)
    channels_last: bool

    @property
    def n(self) -> int:
        return int(self.x.shape[0])

    def batch(self, idx: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.inputs(self.x[idx]), self.y[idx]

    def inputs(self, raw: torch.Tensor) -> torch.Tensor:
        x = (raw.float() / 255 - self.mean) / self.std
        c, h, w = self.shape
        if x.shape[1] != c:
            x = x.mean(1, keepdim=True) if c == 1 else x.expand(-1, c, -1, -1)
        if tuple(x.shape[-2:]) != (h, w):
            shrink = x.shape[-2] > h or x.shape[-1] > w
            x = F.interpolate(x, size=(h, w), mode="bilinear", align_corners=False, antialias=shrink)
        return x.contiguous(memory_format=torch.channels_last if self.channels_last else torch.contiguous_format)

    def subset(self, idx: torch.Tensor) -> "DeviceData":
        return replace(self, x=self.x[idx], y=self.y[idx])


def _channel_stats(x: torch.Tensor, chunk: int = 256) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-channel mean and standard deviation of uint8 images in [0, 1] units, in float64 chunks."""
    total = torch.zeros(x.shape[1], dtype=torch.float64)
    squares = torch.zeros(x.shape[1], dtype=torch.float64)
    for start in range(0, len(x), chunk):
        part = x[start:start + chunk].double() / 255
        total += part.sum((0, 2, 3))
        squares += (part * part).sum((0, 2, 3))
    count = x.shape[0] * x.shape[2] * x.shape[3]
    mean = total / count
    std = (squares / count - mean * mean).clamp_min(1e-12).sqrt()
    return mean.float().view(1, -1, 1, 1), std.clamp_min(1e-3).float().view(1, -1, 1, 1)


def to_device(images: ImageSet, shape: tuple[int, int, int], device: torch.device,
              channels_last: bool) -> tuple[DeviceData, DeviceData]:
    """The training and held-out parts on `device`, both normalised with the training part's statistics."""
    stored = images.x_train.shape[1]
    if stored != shape[0] and shape[0] != 1 and stored != 1:
        raise AuditError(f"the network takes {shape[0]}-channel input; {images.name}'s {stored}-channel images "
                         "cannot be mapped to it (only grey to any, or colour to grey)")
    mean, std = _channel_stats(images.x_train)
    make = lambda x, y: DeviceData(x.to(device), y.to(device), mean.to(device), std.to(device), shape, channels_last)  # noqa: E731
    return make(images.x_train, images.y_train), make(images.x_test, images.y_test)
