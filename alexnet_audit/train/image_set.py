"""The labelled image set every loader returns, and the two fixed rules that hold part of it out."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import torch

from ..errors import AuditError

HELD_OUT_FRACTION = 0.2


@dataclass(frozen=True)
class ImageSet:
    """A labelled image set with its held-out part; images uint8 (N, C, h, w), labels int64."""

    name: str  # digits | mnist5k | shapes | cifar10 | cifar100 | mnist | fashion-mnist | flowers17 | flowers5 | imagefolder
    source: str  # "built in (...)" or the path it was read from
    classes: tuple[str, ...]
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    held_out: str  # what the test part is
    default_epochs: int | None = None  # the schedule without --steps or --epochs; None: the device's default steps


def keep_classes(images: ImageSet, num_classes: int) -> ImageSet:
    """The first `num_classes` classes only: a network with fewer outputs cannot name the rest."""
    if len(images.classes) <= num_classes:
        return images
    train, test = images.y_train < num_classes, images.y_test < num_classes
    return replace(images, classes=images.classes[:num_classes], x_train=images.x_train[train],
                   y_train=images.y_train[train], x_test=images.x_test[test], y_test=images.y_test[test])


def _random_split(labels: torch.Tensor, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
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


def split_at_random(name: str, source: str, classes: tuple[str, ...], x: torch.Tensor, y: torch.Tensor) -> ImageSet:
    """A stratified HELD_OUT_FRACTION held out, drawn with seed 0 whatever the run's seed, so that
    every run of a set holds out the same images."""
    train, test = _random_split(y, seed=0)
    if not len(train) or not len(test):
        raise AuditError("too few images to hold some out for testing", file=source)
    return ImageSet(name, source, classes, x[train], y[train], x[test], y[test],
                    f"a stratified {HELD_OUT_FRACTION:.0%} split (fixed seed 0)")


def every_nth_of_each_class(labels: torch.Tensor, n: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Train and held-out indices: within each class, in stored order, the n-th, 2n-th, ... image is
    held out. A rule anyone can redo by hand, with no generator behind it."""
    rank = torch.zeros_like(labels)
    for c in labels.unique():
        members = (labels == c).nonzero().flatten()
        rank[members] = torch.arange(1, len(members) + 1)
    held = rank % n == 0
    return (~held).nonzero().flatten(), held.nonzero().flatten()
