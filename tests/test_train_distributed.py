"""Data-parallel training: the sampler's shares against PyTorch's own DistributedSampler, the world
read from torchrun's environment, and a real run of two CPU processes with gloo (`train --nproc 2`)."""

from __future__ import annotations

import json
import signal
import struct
from collections.abc import Callable
from pathlib import Path

import numpy as np

import pytest
import torch
from torch.utils.data import BatchSampler, DistributedSampler
from typer.testing import CliRunner

from alexnet_audit import cli
from alexnet_audit.errors import AuditError
from alexnet_audit.train import distributed
from alexnet_audit.train.distributed import (
    World,
    agreed,
    per_rank_batch,
    read_back,
    shard_batches,
    threads_per_process,
)
from alexnet_audit.train.launch import check_nproc
from alexnet_audit.train.run import TrainOptions
from helpers import spec_text

CPU = torch.device("cpu")


def _epochs(n: int, batch: int, seed: int, world: World, epochs: int) -> list[list[list[int]]]:
    """The batches `shard_batches` gives one rank, cut into epochs."""
    per_epoch = (n // world.size) // per_rank_batch(n, batch, world)
    draws = shard_batches(n, batch, seed, CPU, world)
    return [[next(draws).tolist() for _ in range(per_epoch)] for _ in range(epochs)]


def _peer(n: int, batch: int, seed: int, world: World, epochs: int) -> list[list[list[int]]]:
    """The same epochs by PyTorch's DistributedSampler (drop_last) and BatchSampler over positions of
    each epoch's permutation, drawn in turn from one generator seeded as the trainer seeds its own."""
    g = torch.Generator().manual_seed(seed)
    out = []
    for _ in range(epochs):
        order = torch.randperm(n, generator=g).tolist()
        positions = DistributedSampler(range(n), num_replicas=world.size, rank=world.rank, shuffle=False, drop_last=True)
        out.append([[order[i] for i in b] for b in BatchSampler(positions, batch, drop_last=True)])
    return out


@pytest.mark.parametrize(("n", "batch", "size"), [(100, 8, 3), (100, 8, 1), (64, 16, 2), (10, 32, 4)])
def test_each_rank_draws_what_distributed_sampler_gives_it(n: int, batch: int, size: int) -> None:
    for rank in range(size):
        world = World(rank=rank, size=size, local_rank=rank, local_size=size)
        assert _epochs(n, batch, 7, world, 2) == _peer(n, min(batch, n // size), 7, world, 2)


def test_ranks_draw_disjoint_shares_that_cover_the_epoch() -> None:
    # 100 images, 3 ranks, batch 8: each rank's share is 100 // 3 = 33 images, 4 batches of 8 = 32;
    # together 3 x 32 = 96 different images in each epoch, none drawn twice.
    n, batch, size = 100, 8, 3
    shares = [_epochs(n, batch, 0, World(rank=r, size=size, local_size=size), 2) for r in range(size)]
    for epoch in range(2):
        drawn = [i for rank in shares for b in rank[epoch] for i in b]
        assert len(drawn) == 96 and len(set(drawn)) == 96
    # A world of 2 over 64 images and batch 16 covers every image in every epoch: 2 ranks x 2 x 16.
    halves = [_epochs(64, 16, 0, World(rank=r, size=2, local_size=2), 1)[0] for r in range(2)]
    assert sorted(i for rank in halves for b in rank for i in b) == list(range(64))


def test_the_seed_decides_the_order() -> None:
    world = World(rank=1, size=2, local_rank=1, local_size=2)
    assert _epochs(100, 8, 3, world, 1) == _epochs(100, 8, 3, world, 1)
    assert _epochs(100, 8, 3, world, 1) != _epochs(100, 8, 4, world, 1)


def test_a_set_smaller_than_the_world_is_a_mistake() -> None:
    assert per_rank_batch(10, 32, World(size=4, local_size=4)) == 2  # 10 // 4
    with pytest.raises(AuditError, match="3 training images cannot be shared out among 4 processes"):
        per_rank_batch(3, 32, World(size=4, local_size=4))


def test_a_world_of_one_reads_back_its_own_figures() -> None:
    losses, hits, seconds = read_back(torch.tensor([2.5, 1.25]), torch.tensor([0.0, 0.5]), 3.75, World())
    assert (losses, hits, seconds) == ([2.5, 1.25], [0.0, 0.5], 3.75)


def test_the_world_is_read_from_torchruns_environment() -> None:
    env = {"RANK": "3", "WORLD_SIZE": "8", "LOCAL_RANK": "1", "LOCAL_WORLD_SIZE": "4", "MASTER_ADDR": "node0"}
    assert World.from_env(env) == World(rank=3, size=8, local_rank=1, local_size=4)
    assert World.from_env({}) == World() and World().main
    with pytest.raises(AuditError, match="RANK: 'x' is not a process count or index"):
        World.from_env({"WORLD_SIZE": "2", "RANK": "x"})
    with pytest.raises(AuditError, match="do not fit a world of 2"):
        World.from_env({"WORLD_SIZE": "2", "RANK": "2"})


def test_processes_share_the_cores(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(distributed.os, "cpu_count", lambda: 16)
    assert threads_per_process(World(size=2, local_size=2), {}) == 8  # 16 cores // 2 processes
    assert threads_per_process(World(size=6, local_size=3), {}) == 5  # 16 // 3 on this machine, not // 6
    assert threads_per_process(World(size=2, local_size=2), {"OMP_NUM_THREADS": "3"}) is None
    assert threads_per_process(World(), {}) is None
    monkeypatch.setattr(distributed.os, "cpu_count", lambda: None)  # unknown: one core, one thread each
    assert threads_per_process(World(size=2, local_size=2), {}) == 1


def _gathered(messages: list[str | None]) -> Callable[[list[str | None], str | None], None]:
    """all_gather_object as a world whose ranks hold `messages` (this rank's own slot is overwritten)."""
    def gather(out: list[str | None], mine: str | None) -> None:
        out[:] = messages
        out[1] = mine

    return gather


def test_a_mistake_on_one_rank_stops_every_rank(monkeypatch: pytest.MonkeyPatch) -> None:
    world = World(rank=1, size=2, local_rank=1, local_size=2)
    monkeypatch.setattr(distributed.dist, "all_gather_object", _gathered(["x.yaml: no such data", None]))
    with pytest.raises(AuditError, match=r"^process 0 of 2: x.yaml: no such data$"):
        with agreed(world):
            pass  # fine on this rank
    monkeypatch.setattr(distributed.dist, "all_gather_object", _gathered([None, None]))
    with pytest.raises(AuditError, match=r"^--data: mine$"), agreed(world):
        raise AuditError("mine", field="--data")
    with agreed(world):
        pass  # no rank objects: the block's work stands


def test_nproc_under_torchrun_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("RANK", "0")
    with pytest.raises(AuditError, match="torchrun has already started this process"):
        check_nproc(TrainOptions(device="cpu", world_size=2))


ONE_CLASS = spec_text("  - {kind: flatten}\n  - {kind: linear, name: fc, out_features: 1}\n", input="[1, 8, 8]", classes=1,
                      id="one")
TINY = spec_text("""  - {kind: conv, name: conv1, out_channels: 4, kernel: 3}
  - {kind: relu}
  - {kind: flatten}
  - {kind: linear, name: fc, out_features: 10}
""", input="[1, 8, 8]", id="tiny") + "training: {dataset: none, optimizer: adam, lr: 0.01, batch_size: 16}\n"


def _stripes(root: Path) -> Path:
    """An MNIST-format directory (four IDX files) of 8x8 images, 1,000 to train on and 200 held out:
    class k < 8 is a bright row k, class 8 or 9 a bright column 0 or 7, over uniform noise. The run
    reads it instead of the digits the spec would otherwise get, so neither process imports
    scikit-learn (and scipy) for them: a second of each one's start-up, while the shards, the one
    record and the verdict on an easy set prove what they proved on the digits."""
    root.mkdir()
    rng = np.random.default_rng(0)
    for stem, n in (("train", 1000), ("t10k", 200)):
        labels = np.arange(n) % 10
        images = rng.integers(0, 64, (n, 8, 8))
        for image, k in zip(images, labels):
            if k < 8:
                image[k, :] += 150
            else:
                image[:, 7 * (k - 8)] += 150
        for kind, array in (("images-idx3", images.astype(np.uint8)), ("labels-idx1", labels.astype(np.uint8))):
            header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
            (root / f"{stem}-{kind}-ubyte").write_bytes(header + array.tobytes())
    return root


@pytest.mark.starts_processes
def test_two_gloo_processes_train_one_record(write_spec: Callable[..., Path], tmp_path: Path) -> None:
    bad, spec = write_spec(ONE_CLASS, "one.yaml"), write_spec(TINY, "tiny.yaml")
    out, data = tmp_path / "training", _stripes(tmp_path / "stripes")
    args = ["train", str(bad), str(spec), "--data", str(data), "--device", "cpu", "--steps", "20", "--budget", "10",
            "--nproc", "2", "--out", str(out)]
    # PyTorch's elastic launcher installs its own handlers for these signals in the calling process:
    # `launch` puts the caller's back, or a later test here that sends SIGINT would get theirs.
    handlers = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGQUIT)}
    result = CliRunner().invoke(cli.app, args)
    assert {s: signal.getsignal(s) for s in handlers} == handlers
    # Both ranks refuse the one-class spec together and go on to the next: exit 2 for the bad input.
    assert result.exit_code == 2, result.output
    assert f"{bad}: training needs at least 2 classes; the network has 1 output" in " ".join(result.stderr.split())
    assert sorted(p.name for p in out.iterdir()) == ["tiny.json", "tiny.png"]  # rank 0's, once
    record = json.loads((out / "tiny.json").read_text())
    assert record["settings"]["world_size"] == 2 and record["settings"]["batch_size"] == 16
    # 20 steps of 16 images on each of 2 ranks: 640 different images if the ranks drew disjoint
    # shares (a lone process, or two drawing the same batches, would draw 20 x 16 = 320).
    assert record["schedule"]["images_drawn"] == 20 * 16 * 2
    # An epoch is 1,000 // 32 = 31 global steps (two batches of 16 a step).
    assert record["data"]["train_images"] == 1000
    assert record["schedule"]["epochs"] == pytest.approx(20 / 31)
    assert record["verdict"] == "converges"
    shown = " ".join(result.stdout.split())  # however the terminal wrapped it
    assert "tiny: converges" in shown and "on 2 processes, each cpu" in shown and "(batch 16 each, 32 a step)" in shown
