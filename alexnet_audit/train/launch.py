"""`train --nproc N`: N worker processes through PyTorch's elastic launcher, the machinery behind
torchrun, each running `train_world`; and `train_world` itself, which is also what every process
of a torchrun job runs (`torchrun --nproc_per_node N -m alexnet_audit train SPEC...`).

Rank 0's outcomes come back to the caller, which alone prints and writes them; the other ranks
return None. Nothing here prints.
"""

from __future__ import annotations

import contextlib
import os
import signal
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import torch
from torch.distributed.elastic.multiprocessing.errors import record as keep_error

from ..errors import AuditError
from ..spec import load_spec
from .distributed import World, process_group, threads_per_process
from .loop import Runtime
from .record import TrainingRecord
from .run import TrainOptions, budget_of, train_spec


class WorkerFailed(RuntimeError):
    """A worker process died of a bug of ours (or was killed): one line naming it and why."""


@dataclass(frozen=True)
class Outcome:
    """One spec's result on rank 0: its record, or the one-line mistake that stopped it."""

    record: TrainingRecord | None
    error: str | None


def launched_by_torchrun() -> bool:
    return World.from_env(os.environ).size > 1


def check_nproc(options: TrainOptions) -> None:
    """Refuse, before any process starts, a world that cannot be: the launcher would only fail later."""
    nproc = options.world_size
    if nproc > 1 and launched_by_torchrun():
        raise AuditError("torchrun has already started this process as one of a world; leave --nproc out", field="--nproc")
    device = Runtime.pick(options.device).device
    if device.type == "cuda" and nproc > torch.cuda.device_count():
        raise AuditError(f"{nproc} processes, {torch.cuda.device_count()} CUDA devices: one process per GPU",
                         field="--nproc")


@keep_error  # a worker's exception is kept for the launcher, which names it (see `launch`)
def train_world(paths: Sequence[str], options: TrainOptions) -> list[Outcome] | None:
    """Train each spec with every process of the world that the environment describes."""
    world = World.from_env(os.environ)
    threads = threads_per_process(world, os.environ)
    if threads is not None:
        torch.set_num_threads(threads)
    rt = Runtime.pick(options.device, world)
    with process_group(world, rt.device, budget_of(options, rt)):
        outcomes = [_train_one(path, options, world) for path in paths]
    return outcomes if world.main else None


def _train_one(path: str, options: TrainOptions, world: World) -> Outcome:
    # Every rank reads the same spec, so all refuse a bad one; a mistake only some ranks meet (a
    # data path, a device's free memory) train_spec makes every rank's (distributed.agreed).
    try:
        return Outcome(train_spec(load_spec(path), options, world=world), None)
    except AuditError as exc:
        return Outcome(None, str(exc.located(file=path)))


# The signals PyTorch's elastic launcher takes over in the calling process.
_LAUNCHER_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGQUIT)


@contextlib.contextmanager
def _signal_handlers_kept() -> Iterator[None]:
    """The caller's signal handlers back after the block: the launcher installs its own and leaves
    them, so a later Ctrl-C in the caller (a test runner, a notebook) would reach the launcher's."""
    handlers = {number: signal.getsignal(number) for number in _LAUNCHER_SIGNALS}
    try:
        yield
    finally:
        for number, handler in handlers.items():
            signal.signal(number, handler)


def launch(paths: Sequence[str], options: TrainOptions) -> list[Outcome]:
    """Run `train_world` in `options.world_size` local processes, as `torchrun --standalone
    --nproc_per_node N` would."""
    from torch.distributed.elastic.multiprocessing.api import SignalException
    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
    from torch.distributed.launcher.api import (  # here: it loads the elastic agent
        LaunchConfig,
        elastic_launch,
    )

    check_nproc(options)
    config = LaunchConfig(min_nodes=1, max_nodes=1, nproc_per_node=options.world_size,
                          run_id=f"alexnet-audit-{uuid.uuid4()}", rdzv_backend="c10d", rdzv_endpoint="localhost:0",
                          max_restarts=0, start_method="spawn")
    try:
        with _signal_handlers_kept():
            results = elastic_launch(config, train_world)(list(paths), options)
    except SignalException:  # the launcher turns Ctrl-C into this, having stopped the workers
        raise KeyboardInterrupt from None
    except ChildFailedError as exc:
        rank, failure = exc.get_first_failure()
        # torch annotates `message` as str, yet stores there the error file's "message", which may be a dict.
        message = failure.message.get("message") if isinstance(failure.message, dict) else failure.message  # type: ignore[unreachable]
        raise WorkerFailed(f"training process {rank} failed: {message or f'exit code {failure.exitcode}'}") from None
    outcomes = results[0]
    assert outcomes is not None, "rank 0 returns its outcomes"
    return outcomes
