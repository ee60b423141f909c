"""What a training run will hold in memory, estimated before anything is allocated.

`inspect` bounds a spec by one sample's activations; training multiplies them by the batch and
keeps gradients and optimiser state besides, so a spec `inspect` accepts can still ask for tens
of gigabytes. `step_memory` counts, from the closed-form shape plan and in fp32: the weights,
their gradients, the optimiser's state (Adam: two moments; SGD with momentum: one buffer), a
batch's activations kept for the backward pass together with their gradients, the data set as
stored on the device, and the per-step loss buffers. `check_fits` refuses a run above a limit,
by default a share of the memory free on the device it will use.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

from ..plan import plan
from ..errors import AuditError
from ..spec import Spec

FLOAT = 4
# Autograd keeps each layer's output for the backward pass and builds its gradient there; ReLU
# masks, pooling indices and the fused optimiser's scratch add about as much again.
ACTIVATION_COPIES = 3
COPIES_OF_THE_MODEL = 2  # the memorisation check builds a fresh copy while the first may not be freed yet
FREE_SHARE = 0.8  # the default limit: this share of the memory free when the run starts
GIB = 1 << 30


@dataclass(frozen=True)
class StepMemory:
    weights: int
    gradients: int
    optimiser: int
    activations: int
    data: int
    buffers: int

    @property
    def total(self) -> int:
        return self.weights + self.gradients + self.optimiser + self.activations + self.data + self.buffers

    def describe(self) -> str:
        parts = [("weights", self.weights), ("gradients", self.gradients), ("optimiser state", self.optimiser),
                 ("activations", self.activations), ("data", self.data), ("step buffers", self.buffers)]
        return ", ".join(f"{name} {_gib(size)}" for name, size in parts if size >= 1024)


def _gib(size: float) -> str:
    if size >= GIB / 100:
        return f"{size / GIB:.2f} GiB"
    return f"{size / (1 << 20):.1f} MiB" if size >= 1 << 20 else f"{size / 1024:.1f} KiB"


def step_memory(spec: Spec, *, batch: int, optimiser: str, momentum: float, data_bytes: int, steps: int) -> StepMemory:
    """The estimate for one run of `spec` at `batch` images per step (see the module's docstring)."""
    planned = plan(spec)
    params = sum(p.params.trainable for p in planned)
    stats = sum(p.params.non_trainable for p in planned)
    state = 2 if optimiser == "adam" else (1 if momentum else 0)
    values = math.prod(spec.doc.input) + sum(math.prod(p.out_shape) for p in planned)
    return StepMemory(
        weights=FLOAT * (params + stats) * COPIES_OF_THE_MODEL,
        gradients=FLOAT * params * COPIES_OF_THE_MODEL,
        optimiser=FLOAT * params * state * COPIES_OF_THE_MODEL,
        activations=FLOAT * values * batch * ACTIVATION_COPIES,
        data=data_bytes,
        buffers=2 * FLOAT * steps,  # the loss and hit of every step, kept on the device
    )


def _meminfo_available() -> int | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def _cgroup_room() -> int | None:
    """What a cgroup v2 memory limit still allows, where the process runs under one."""
    try:
        limit = Path("/sys/fs/cgroup/memory.max").read_text().strip()
        used = int(Path("/sys/fs/cgroup/memory.current").read_text().strip())
    except (OSError, ValueError):
        return None
    return None if limit == "max" else max(int(limit) - used, 0)


def free_host_memory() -> int | None:
    known = [m for m in (_meminfo_available(), _cgroup_room()) if m is not None]
    if not known:
        try:
            known = [os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")]
        except (OSError, ValueError):
            return None
    return min(known)


def default_limit(device_type: str) -> int | None:
    """FREE_SHARE of the free memory of the device the run uses; None where it cannot be read."""
    if device_type == "cuda":
        import torch  # here: only a CUDA run asks the GPU

        free_gpu, _ = torch.cuda.mem_get_info()
        return int(free_gpu * FREE_SHARE)
    free = free_host_memory()
    return None if free is None else int(free * FREE_SHARE)


def check_fits(need: StepMemory, limit: int | None, allowed_by: str) -> None:
    """AuditError when the estimate exceeds `limit` bytes (None: no limit known); `allowed_by`
    says where the limit comes from."""
    if limit is not None and need.total > limit:
        raise AuditError(f"training needs about {_gib(need.total)} ({need.describe()}), more than the "
                         f"{_gib(limit)} allowed ({allowed_by}); lower the spec's batch_size or set --max-memory",
                         field="training")
