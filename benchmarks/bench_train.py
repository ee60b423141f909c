"""Images/s of alexnet-audit's trainer against a plain PyTorch loop written the way the posts
write theirs, on the same model (same spec, same initial weights), data and device.

The plain loop: a map-style Dataset that transforms one image at a time on the CPU (what
torchvision's Resize + ToTensor + Normalize do), a DataLoader (shuffle, `--workers` workers, as
the PyTorch CIFAR-10 tutorial has it), fp32, no compile, `.to(device)` per batch and
`loss.item()` every step. The tool's trainer: `alexnet_audit.train.loop.train_loop` as
`alexnet-audit train` runs it (on CUDA: data resident on the GPU, bf16 autocast, channels_last,
fused optimiser, each step replayed from a CUDA graph; with --compile also torch.compile, which
`train` adds to runs of two million images or more). Both use the spec's batch size and optimiser.

    python benchmarks/bench_train.py --device cpu --spec specs/torchvision-alexnet.yaml --header
    python benchmarks/bench_train.py --device cuda --spec specs/paper-alexnet-2012.yaml

With `--ddp N`, instead: the data-parallel path (`train --nproc`) in 1 process against N, each
world started by the elastic launcher as `train --nproc` starts it, the batch per process as
the spec states it (so N processes take N times the images a step). On CPU every process, the
lone one too, gets the same share of the cores (cores // N threads, as `train --nproc` gives
each of N), so the ratio is what the added processes buy, not what a thread count costs.

    python benchmarks/bench_train.py --device cpu --spec specs/seed002-lenet5-table.yaml --ddp 2 --header

Prints one markdown table row (with --header, the header first). Timings are the steady state:
warm-up steps (compilation, graph capture, cuDNN plans, worker start) are left out of both. The
two sides take turns for `--rounds` rounds and each reports its median, so a machine whose load
drifts during the run does not favour the one measured last.
"""

from __future__ import annotations

import argparse
import itertools
import os
import platform
import statistics
import time
from dataclasses import replace
from datetime import date
from typing import Iterator

import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, Dataset

from alexnet_audit.build import build_model
from alexnet_audit.spec import load_spec
from alexnet_audit.train.data import ImageSet, load_data, to_device
from alexnet_audit.train.distributed import World, process_group, threads_per_process
from alexnet_audit.train.loop import LoopConfig, Runtime, loss_fn, train_loop
from alexnet_audit.train.run import source_config


class PostStyleImages(Dataset):
    """One image at a time, on the CPU: ToTensor, Resize, Normalize."""

    def __init__(self, images: ImageSet, shape: tuple[int, int, int], mean: torch.Tensor, std: torch.Tensor) -> None:
        self.x, self.y, self.shape = images.x_train, images.y_train, shape
        self.mean, self.std = mean.view(-1, 1, 1).cpu(), std.view(-1, 1, 1).cpu()

    def __len__(self) -> int:
        return len(self.y)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int]:
        c, h, w = self.shape
        x = (self.x[i].float() / 255 - self.mean) / self.std
        x = F.interpolate(x[None], size=(h, w), mode="bilinear", align_corners=False)[0]
        return (x.expand(c, -1, -1) if x.shape[0] != c else x), int(self.y[i])


def _forever(loader: DataLoader) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    for _ in itertools.count():
        yield from loader


def plain_loop(spec_path: str, images: ImageSet, cfg: LoopConfig, device: torch.device, workers: int,
               warmup: int, steps: int) -> float:
    spec = load_spec(spec_path)
    model = build_model(spec, cfg.seed).to(device)
    train, _ = to_device(images, tuple(spec.doc.input), torch.device("cpu"), False)
    loader = DataLoader(PostStyleImages(images, tuple(spec.doc.input), train.mean, train.std),
                        batch_size=cfg.batch_size, shuffle=True, num_workers=workers, drop_last=True)
    if cfg.optimizer == "adam":
        optimizer: torch.optim.Optimizer = torch.optim.Adam(model.parameters(), cfg.lr, weight_decay=cfg.weight_decay)
    else:
        optimizer = torch.optim.SGD(model.parameters(), cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay)
    model.train()
    running_loss = 0.0
    batches = _forever(loader)
    for step in range(warmup + steps):
        if step == warmup:
            if device.type == "cuda":
                torch.cuda.synchronize()
            start = time.perf_counter()
        x, y = next(batches)
        x, y = x.to(device), y.to(device)
        optimizer.zero_grad()
        loss = loss_fn(model(x), y, cfg.loss)
        loss.backward()
        optimizer.step()
        running_loss += loss.item()
    return steps * cfg.batch_size / (time.perf_counter() - start)


def tool_loop(spec_path: str, images: ImageSet, cfg: LoopConfig, rt: Runtime, warmup: int, steps: int) -> float:
    """The trainer's steady rate: it reports images/s from its first read-back on, after `warmup` steps."""
    spec = load_spec(spec_path)
    model = build_model(spec, cfg.seed).to(rt.device, memory_format=rt.memory_format)
    train, _ = to_device(images, tuple(spec.doc.input), rt.device, rt.channels_last)
    rt = replace(rt, sync_every=warmup)
    result = train_loop(model, train, replace(cfg, steps=warmup + steps), rt)
    return result.images_per_s


def ddp_worker(spec_path: str, device: str, threads: int, warmup: int, steps: int) -> float:
    """One process of a launched world: the trainer's steady rate, all ranks together."""
    world = World.from_env(os.environ)
    torch.set_num_threads(threads)
    spec = load_spec(spec_path)
    rt = Runtime.pick(device, world)  # type: ignore[arg-type]
    cfg, _ = source_config(spec, seed=0)
    images = load_data("digits", spec.doc.input, spec.doc.num_classes, seed=0)
    with process_group(world, rt.device, budget_s=0.0):
        return tool_loop(spec_path, images, cfg, rt, warmup, steps)


def ddp_rate(spec_path: str, device: str, nproc: int, threads: int, warmup: int, steps: int) -> float:
    from torch.distributed.launcher.api import LaunchConfig, elastic_launch

    config = LaunchConfig(min_nodes=1, max_nodes=1, nproc_per_node=nproc, run_id=f"bench-{nproc}-{time.time_ns()}",
                          rdzv_backend="c10d", rdzv_endpoint="localhost:0", max_restarts=0, start_method="spawn")
    return elastic_launch(config, ddp_worker)(spec_path, device, threads, warmup, steps)[0]


def ddp_main(args: argparse.Namespace, steps: int, warmup: int) -> None:
    spec = load_spec(args.spec)
    cfg, _ = source_config(spec, seed=0)
    threads = threads_per_process(World(size=args.ddp, local_size=args.ddp), {}) or torch.get_num_threads()
    ones, many = [], []
    for _ in range(args.rounds or 3):
        ones.append(ddp_rate(args.spec, args.device, 1, threads, warmup, steps))
        many.append(ddp_rate(args.spec, args.device, args.ddp, threads, warmup, steps))
    one, more = statistics.median(ones), statistics.median(many)
    where = (Runtime.pick(args.device).describe() if args.device == "cuda"
             else f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, {threads} thread(s) a process")
    if args.header:
        print(f"| date | device | spec | input | batch per process | 1 process img/s | {args.ddp} processes img/s | ratio |")
        print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    print(f"| {date.today()} | {where} | {spec.id} | {'x'.join(map(str, spec.doc.input))} | {cfg.batch_size} | "
          f"{one:,.1f} | {more:,.1f} | {more / one:.2f}x |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--spec", required=True)
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    parser.add_argument("--steps", type=int, help="timed steps (default: 10 on CPU, 200 on CUDA)")
    parser.add_argument("--warmup", type=int, help="untimed steps first (default: 2 on CPU, 30 on CUDA)")
    parser.add_argument("--workers", type=int, default=2, help="DataLoader workers of the plain loop")
    parser.add_argument("--rounds", type=int, help="turns each loop takes (default: 3 on CPU, 1 on CUDA)")
    parser.add_argument("--compile", action="store_true", help="also torch.compile the tool's model (CUDA)")
    parser.add_argument("--ddp", type=int, metavar="N", help="instead: the data-parallel path, 1 process against N")
    parser.add_argument("--header", action="store_true")
    args = parser.parse_args()
    cuda = args.device == "cuda"
    steps = args.steps or (200 if cuda else 10)
    warmup = args.warmup or (30 if cuda else 2)
    if args.ddp:
        ddp_main(args, steps, warmup)
        return
    spec = load_spec(args.spec)
    rt = replace(Runtime.pick(args.device), compile=args.compile)
    cfg, _ = source_config(spec, seed=0)
    images = load_data("digits", spec.doc.input, spec.doc.num_classes, seed=0)
    plains, tools = [], []
    for _ in range(args.rounds or (1 if cuda else 3)):
        plains.append(plain_loop(args.spec, images, cfg, rt.device, args.workers, warmup, steps))
        tools.append(tool_loop(args.spec, images, cfg, rt, warmup, steps))
    plain, tool = statistics.median(plains), statistics.median(tools)
    tuned = "graphs, bf16, channels_last" + (", compiled" if args.compile else "") if cuda else "fp32"
    where = rt.describe() if cuda else f"{platform.processor() or platform.machine()}, {torch.get_num_threads()} threads"
    if args.header:
        print("| date | device | spec | input | batch | plain loop (DataLoader, fp32) img/s | alexnet-audit img/s | ratio |")
        print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    print(f"| {date.today()} | {where} | {spec.id} | {'x'.join(map(str, spec.doc.input))} | {cfg.batch_size} | "
          f"{plain:,.1f} ({args.workers} workers) | {tool:,.1f} ({tuned}) | {tool / plain:.2f}x |")


if __name__ == "__main__":
    main()
