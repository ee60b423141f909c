"""The training loop: a typed config in, a result record out, short enough to read at once.

The same code runs on CPU and GPU; `Runtime` says what the device gets: on CUDA, bf16 autocast,
channels_last, fused optimisers, each step replayed from a CUDA graph, the loss read back only
every few steps (each read waits for the GPU), and `torch.compile` where the run is long enough
to pay for it (run.py decides).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Callable, Literal

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import AuditError
from .device_data import DeviceData
from .distributed import World, device_of, distinct, per_rank_batch, read_back, shard_batches, wrap

Loss = Literal["cross_entropy", "nll_of_softmax"]
Optimizer = Literal["adam", "sgd"]
Stop = Literal["steps", "budget", "non-finite", "target"]
SOFTMAX_CLIP = 1e-7  # Keras clips a softmax output to [eps, 1 - eps] before taking its log
EVAL_BATCH = 128


@dataclass(frozen=True)
class Runtime:
    device: torch.device
    bf16: bool
    channels_last: bool
    compile: bool
    graphs: bool  # replay each training step from a CUDA graph
    sync_every: int  # steps between reading the loss back to the host
    world: World = World()  # the processes training together (train/distributed.py)

    @staticmethod
    def pick(name: Literal["auto", "cuda", "cpu"], world: World = World()) -> "Runtime":
        cuda = torch.cuda.is_available()
        if name == "cuda" and not cuda:
            raise AuditError("--device cuda: no CUDA device is available here (use --device cpu or auto)")
        if name == "cpu" or not cuda:
            return Runtime(torch.device("cpu"), bf16=False, channels_last=False, compile=False, graphs=False, sync_every=1,
                           world=world)
        return Runtime(device_of(world, torch.device("cuda")), bf16=True, channels_last=True, compile=False,
                       graphs=world.size == 1, sync_every=25, world=world)

    def describe(self) -> str:
        if self.device.type == "cuda":
            return torch.cuda.get_device_name(self.device)
        n = torch.get_num_threads()
        return f"cpu ({n} thread{'s' if n != 1 else ''})"

    @property
    def precision(self) -> Literal["bf16 autocast", "fp32"]:
        """As the recipe and the record's settings name it."""
        return "bf16 autocast" if self.bf16 else "fp32"

    @property
    def memory_format(self) -> torch.memory_format:
        """What the model's weights are laid out in on this device."""
        return torch.channels_last if self.channels_last else torch.contiguous_format


@dataclass(frozen=True)
class LoopConfig:
    steps: int
    batch_size: int
    optimizer: Optimizer
    lr: float
    momentum: float
    weight_decay: float
    loss: Loss
    seed: int
    budget_s: float | None = None
    stop_error: float | None = None  # stop once the mean error of the last `window` batches is at most this
    window: int = 10


@dataclass(frozen=True)
class Progress:
    step: int
    steps: int
    loss: float
    accuracy: float  # mean over the last `window` batches
    images_per_s: float
    seconds_left: float  # until the steps are done at this rate, or the budget runs out if that comes first


@dataclass(frozen=True)
class LoopResult:
    losses: tuple[float, ...]  # one per step
    accuracies: tuple[float, ...]  # per batch, in training mode
    seconds: float
    images_per_s: float  # of all ranks together, after the first read-back: compilation and warm-up left out
    stopped_by: Stop
    images_drawn: int | None = None  # distinct training images drawn by all ranks together; None: not counted

    @property
    def steps(self) -> int:
        return len(self.losses)


def loss_fn(out: torch.Tensor, y: torch.Tensor, kind: Loss) -> torch.Tensor:
    if kind == "nll_of_softmax":  # the network ends in a softmax: CE on top of it would apply softmax twice
        return F.nll_loss(out.float().clamp(SOFTMAX_CLIP, 1 - SOFTMAX_CLIP).log(), y)
    return F.cross_entropy(out.float(), y)


def make_optimizer(model: nn.Module, cfg: LoopConfig, rt: Runtime) -> torch.optim.Optimizer:
    fused = True if rt.device.type == "cuda" else None
    if cfg.optimizer == "adam":  # capturable: its step count stays on the GPU, as graph replay needs
        return torch.optim.Adam(model.parameters(), cfg.lr, weight_decay=cfg.weight_decay, fused=fused, capturable=rt.graphs)
    return torch.optim.SGD(model.parameters(), cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay, fused=fused)


Step = Callable[[torch.Tensor], tuple[torch.Tensor, torch.Tensor]]
Forward = Callable[[torch.Tensor], torch.Tensor]  # the model itself, wrapped in DDP, or compiled


def eager_step(net: Forward, opt: torch.optim.Optimizer, data: DeviceData, cfg: LoopConfig, rt: Runtime) -> Step:
    """One optimiser step on the batch at `idx`; returns its loss and accuracy, on the device."""
    def step(idx: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x, y = data.batch(idx)
        # No autocast weight cache: a CUDA graph cannot capture one.
        with torch.autocast(rt.device.type, dtype=torch.bfloat16, enabled=rt.bf16, cache_enabled=False):
            out = net(x)
        loss = loss_fn(out, y, cfg.loss)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return loss.detach(), (out.detach().argmax(1) == y).float().mean()

    return step


class GraphedStep:
    """A step replayed from a CUDA graph: one launch instead of hundreds, which is what small
    networks at the posts' batch sizes are bound by. The first WARMUP calls run eagerly on a
    side stream so lazy state (optimiser moments, cuDNN plans, compiled kernels) exists before
    capture, as PyTorch's whole-network capture recipe requires; they train like any other step.
    """

    WARMUP = 3

    def __init__(self, step: Step, batch: int, device: torch.device) -> None:
        self.step = step
        self.idx = torch.zeros(batch, dtype=torch.int64, device=device)
        self.graph: torch.cuda.CUDAGraph | None = None
        self.outputs: tuple[torch.Tensor, torch.Tensor] | None = None
        self.calls = 0

    def __call__(self, idx: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        self.idx.copy_(idx)
        self.calls += 1
        if self.calls <= self.WARMUP:
            side = torch.cuda.Stream()
            side.wait_stream(torch.cuda.current_stream())
            with torch.cuda.stream(side):
                out = self.step(self.idx)
            torch.cuda.current_stream().wait_stream(side)
            return out
        if self.graph is None:
            self.graph = torch.cuda.CUDAGraph()
            with torch.cuda.graph(self.graph):
                self.outputs = self.step(self.idx)
        self.graph.replay()
        assert self.outputs is not None
        return self.outputs


def _stop(losses: list[float], accuracies: list[float], cfg: LoopConfig, elapsed: float, ahead: float) -> Stop | None:
    """Why to stop now, if at all; `ahead` is how long the steps to the next read-back should take."""
    if not all(math.isfinite(v) for v in losses):
        return "non-finite"
    recent = accuracies[-cfg.window:]
    if cfg.stop_error is not None and len(recent) == cfg.window and 1 - sum(recent) / len(recent) <= cfg.stop_error:
        return "target"
    if cfg.budget_s is not None and elapsed + ahead > cfg.budget_s:
        return "budget"
    return None


def train_loop(model: nn.Module, data: DeviceData, cfg: LoopConfig, rt: Runtime,
               on_progress: Callable[[Progress], None] | None = None) -> LoopResult:
    """Train `model` (already on the device) in place; stop at `cfg.steps`, the budget, the target or a NaN."""
    net: Forward = wrap(model, rt.world, rt.device)
    net = torch.compile(net, dynamic=False) if rt.compile else net
    batch = per_rank_batch(data.n, cfg.batch_size, rt.world)
    step_fn = eager_step(net, make_optimizer(model, cfg, rt), data, cfg, rt)
    if rt.graphs:
        step_fn = GraphedStep(step_fn, batch, rt.device)
    batches = shard_batches(data.n, cfg.batch_size, cfg.seed, rt.device, rt.world)
    drawn = torch.zeros(data.n, dtype=torch.bool, device=rt.device)
    loss_buf = torch.zeros(cfg.steps, device=rt.device)
    hit_buf = torch.zeros(cfg.steps, device=rt.device)
    losses: list[float] = []
    accuracies: list[float] = []
    stopped: Stop = "steps"
    warm: tuple[int, float] | None = None
    model.train()
    with torch.random.fork_rng(devices=[rt.device] if rt.device.type == "cuda" else []):
        torch.manual_seed(cfg.seed + rt.world.rank)  # dropout masks, independent across ranks
        start = time.perf_counter()
        for step in range(cfg.steps):
            idx = next(batches)
            drawn[idx] = True
            loss_buf[step], hit_buf[step] = step_fn(idx)
            if (step + 1) % rt.sync_every and step + 1 < cfg.steps:
                continue
            new_losses, new_hits, elapsed = read_back(loss_buf[len(losses):step + 1], hit_buf[len(losses):step + 1],
                                                      time.perf_counter() - start, rt.world)
            losses += new_losses
            accuracies += new_hits
            warm = warm or (step + 1, elapsed)
            steps_per_s = (step + 1 - warm[0]) / (elapsed - warm[1]) if step + 1 > warm[0] else (step + 1) / elapsed
            rate = steps_per_s * batch * rt.world.size
            if on_progress:
                window = accuracies[-cfg.window:]
                left = (cfg.steps - step - 1) / steps_per_s
                if cfg.budget_s is not None:
                    left = min(left, max(0.0, cfg.budget_s - elapsed))
                on_progress(Progress(step + 1, cfg.steps, losses[-1], sum(window) / len(window), rate, left))
            reason = _stop(losses, accuracies, cfg, elapsed, rt.sync_every / steps_per_s)
            if reason:
                stopped = reason
                break
    return LoopResult(tuple(losses), tuple(accuracies), elapsed, rate, stopped, distinct(drawn, rt.world))


@dataclass(frozen=True)
class Evaluation:
    correct: int
    top5: int
    n: int

    @property
    def accuracy(self) -> float:
        return self.correct / self.n


def spread(n: int, limit: int, device: torch.device) -> torch.Tensor:
    """`limit` indices spread evenly over 0..n-1: every class of a class-ordered set is represented."""
    return torch.linspace(0, n - 1, min(n, limit), device=device).round().long()


@torch.no_grad()
def evaluate(model: nn.Module, data: DeviceData, rt: Runtime, limit: int) -> Evaluation:
    model.eval()
    idx = spread(data.n, limit, rt.device)
    correct = torch.zeros((), dtype=torch.int64, device=rt.device)
    top5 = torch.zeros((), dtype=torch.int64, device=rt.device)
    for part in idx.split(EVAL_BATCH):
        x, y = data.batch(part)
        with torch.autocast(rt.device.type, dtype=torch.bfloat16, enabled=rt.bf16):
            out = model(x)
        top = out.float().topk(min(5, out.shape[1]), dim=1).indices
        correct += (top[:, 0] == y).sum()
        top5 += (top == y[:, None]).any(1).sum()
    return Evaluation(int(correct), int(top5), len(idx))


@torch.no_grad()
def recalibrate_batchnorm(model: nn.Module, data: DeviceData, rt: Runtime, images: int, batch: int) -> int:
    """Re-estimate BatchNorm statistics as a plain average over `images` training images.

    Keras's momentum 0.99 (PyTorch's 0.01) leaves the running averages near their initial
    values after a short run, so evaluating with them would measure the averaging lag, not what
    the network learned. Returns the images used (0: the network has no BatchNorm).
    """
    norms = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    if not norms:
        return 0
    momenta = [m.momentum for m in norms]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # a cumulative average
    model.train()
    idx = spread(data.n, images, rt.device)
    for part in idx.split(max(batch, 2)):
        if len(part) > 1:
            with torch.autocast(rt.device.type, dtype=torch.bfloat16, enabled=rt.bf16):
                model(data.batch(part)[0])
    for m, momentum in zip(norms, momenta):
        m.momentum = momentum
    return len(idx)
