"""Data-parallel training: one process per device, DistributedDataParallel, the data sharded by rank.

The world is what torchrun (or `train --nproc N`, through the same elastic launcher) puts in the
environment: RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR and MASTER_PORT. A lone
process is a world of one, and then every function here is the identity: the single-process run
is the same code with no collective in it.

Under a world of N, as torchrun users expect:
- every process holds the whole training set (train/data.py's DeviceData) and draws a disjoint
  share of each epoch's order, one permutation per epoch from the same seed on every rank;
- `batch_size` is per process, so one step consumes N x batch_size images (the global batch);
- the losses and accuracies recorded are the means over the ranks (read back as they are in one
  process), and every rank stops at the same step: the ranks' mean clock decides the budget;
- gloo on CPU, NCCL on CUDA with device cuda:LOCAL_RANK; CUDA graphs are off (DDP's gradient
  hooks and first-step bucket rebuilding do not survive a capture after three warm-up steps).

After the main run only rank 0 goes on: it evaluates on the held-out set exactly as a lone
process would, runs the memorisation check and the speed-up races by itself, and its record is
the one written; the other ranks return at once (see run.py).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta

import torch
import torch.distributed as dist
from torch import nn

from ..errors import AuditError
from ..render.safe import plain

ENV = ("RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE")
# A rank that returns after the main run waits at the next spec's first collective while rank 0
# evaluates, memorises and races alone: the group's timeout covers that, plus the budget given.
WAIT_S = 30 * 60.0


@dataclass(frozen=True)
class World:
    rank: int = 0
    size: int = 1
    local_rank: int = 0  # the device index on this machine
    local_size: int = 1  # processes on this machine

    @property
    def main(self) -> bool:
        return self.rank == 0

    @staticmethod
    def from_env(env: Mapping[str, str]) -> World:
        """The world torchrun describes in `env`; a world of one where it describes none."""
        if "WORLD_SIZE" not in env:
            return World()
        values = {name: _whole(env, name) for name in ENV if name in env}
        size = values["WORLD_SIZE"]
        world = World(rank=values.get("RANK", 0), size=size, local_rank=values.get("LOCAL_RANK", 0),
                      local_size=values.get("LOCAL_WORLD_SIZE", size))
        if size < 1 or not 0 <= world.rank < size or not 0 <= world.local_rank < world.local_size <= size:
            raise AuditError(f"RANK {world.rank}, LOCAL_RANK {world.local_rank} and LOCAL_WORLD_SIZE "
                             f"{world.local_size} do not fit a world of {size}", field="WORLD_SIZE")
        return world


def _whole(env: Mapping[str, str], name: str) -> int:
    text = env[name]
    if not text.isdigit() or len(text) > 6:
        raise AuditError(f"{plain(repr(text))[:40]} is not a process count or index", field=name)
    return int(text)


def device_of(world: World, device: torch.device) -> torch.device:
    """Each process of a CUDA world takes its own GPU: cuda:LOCAL_RANK."""
    if world.size == 1 or device.type != "cuda":
        return device
    if world.local_rank >= torch.cuda.device_count():
        raise AuditError(f"{world.local_size} processes on this machine, {torch.cuda.device_count()} CUDA devices",
                         field="--nproc")
    return torch.device("cuda", world.local_rank)


@contextmanager
def process_group(world: World, device: torch.device, budget_s: float) -> Iterator[None]:
    """The world's process group for the duration of the block (gloo on CPU, NCCL on CUDA)."""
    if world.size == 1:
        yield
        return
    if device.type == "cuda":
        torch.cuda.set_device(device)
    dist.init_process_group("nccl" if device.type == "cuda" else "gloo", rank=world.rank, world_size=world.size,
                            timeout=timedelta(seconds=WAIT_S + budget_s))
    try:
        yield
    finally:
        dist.destroy_process_group()


@contextmanager
def agreed(world: World) -> Iterator[None]:
    """Run a block on every rank; where it raises an AuditError on any rank, it raises on all (the
    lowest such rank's, named), so no rank goes on to wait for the others in a collective. A data
    path missing on one machine, or a GPU with less free memory than the others, stops all."""
    if world.size == 1:
        yield
        return
    error: AuditError | None = None
    try:
        yield
    except AuditError as exc:
        error = exc
    messages: list[str | None] = [None] * world.size
    dist.all_gather_object(messages, None if error is None else str(error))
    first = next((rank for rank, message in enumerate(messages) if message is not None), None)
    if first is None:
        return
    if first == world.rank and error is not None:
        raise error
    raise AuditError(f"process {first} of {world.size}: {messages[first]}")


def per_rank_batch(n: int, batch: int, world: World) -> int:
    """The batch each rank draws: the source's, or what an epoch holds when the set is smaller."""
    if n < world.size:
        raise AuditError(f"{n} training images cannot be shared out among {world.size} processes", field="--nproc")
    return min(batch, n // world.size)


def shard_batches(n: int, batch: int, seed: int, device: torch.device, world: World) -> Iterator[torch.Tensor]:
    """Shuffled epochs, as DistributedSampler(drop_last=True) shares them out: every rank draws the
    same permutation, keeps every size-th index from its rank on, and takes it in batches; a short
    last batch is dropped so shapes stay fixed and every rank takes as many steps."""
    g = torch.Generator(device=device).manual_seed(seed)
    size = per_rank_batch(n, batch, world)
    share = n // world.size
    while True:
        order = torch.randperm(n, generator=g, device=device)[world.rank:share * world.size:world.size]
        for start in range(0, share - size + 1, size):
            yield order[start:start + size]


def wrap(model: nn.Module, world: World, device: torch.device) -> nn.Module:
    """DistributedDataParallel around `model` in a world of several; `model` itself in a world of one.
    DDP starts every rank from rank 0's weights, and averages gradients in each backward pass."""
    if world.size == 1:
        return model
    return nn.parallel.DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)


def read_back(losses: torch.Tensor, hits: torch.Tensor, seconds: float,
              world: World) -> tuple[list[float], list[float], float]:
    """What every rank reads back after some steps: per step the mean loss and accuracy over the
    ranks (equal batches, so the means of the whole global batch), and the ranks' mean clock, which
    therefore stops all of them by the budget at the same step. One collective for all three."""
    values = torch.cat((losses.double(), hits.double(), torch.tensor([seconds], dtype=torch.float64, device=losses.device)))
    if world.size > 1:
        dist.all_reduce(values)
        values /= world.size
    k = len(losses)
    out = values.tolist()
    return out[:k], out[k:2 * k], out[-1]


def distinct(drawn: torch.Tensor, world: World) -> int:
    """How many different images the ranks drew together, from each rank's mask of those it drew."""
    if world.size > 1:
        drawn = drawn.to(torch.uint8)
        dist.all_reduce(drawn, op=dist.ReduceOp.MAX)
    return int(drawn.count_nonzero())


def threads_per_process(world: World, env: Mapping[str, str]) -> int | None:
    """The CPU threads each of a machine's processes should use (None: leave torch's choice), so N
    processes share the cores rather than each taking them all; OMP_NUM_THREADS, when set, decides."""
    if world.local_size == 1 or "OMP_NUM_THREADS" in env:
        return None
    return max(1, (os.cpu_count() or 1) // world.local_size)
