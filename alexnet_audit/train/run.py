"""Train one spec end to end and return its `TrainingRecord`.

In order: the data on the device; the run itself with the spec's optimiser and settings,
probed at initialisation and at the end; BatchNorm statistics re-estimated and held-out
evaluation; the memorisation check (a fresh copy on one batch, for a share of the run's
steps); the verdict; then the speed-up experiments, ReLU against each baseline over seeds
(experiment.py). The whole takes about the budget, shared out by PHASE_SHARES. Nothing prints:
the recipe, fixed before training starts, and progress, tagged with its phase, go to callbacks.
With several processes (train/distributed.py) all of them train and rank 0 alone does the rest.
"""

from __future__ import annotations

import contextlib
import math
import time
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import Callable, Literal

import torch

from .. import __version__
from ..build import SpecNet, build_model
from ..errors import AuditError
from ..no_dynamo import without_dynamo_import
from ..render.safe import plain
from ..spec import Spec, Training
from .data import load_data
from .device_data import DeviceData, to_device
from .distributed import World, agreed, per_rank_batch
from .experiment import MAX_SEEDS, experiment_seeds, run_experiments, speedup_claims
from .image_set import ImageSet
from .loop import (
    Evaluation, LoopConfig, LoopResult, Loss, Progress, Runtime, evaluate, recalibrate_batchnorm, spread, train_loop,
)
from .memory import FREE_SHARE, GIB, check_fits, default_limit, step_memory
from .probe import LayerProbe, probe, structural_finding
from .recipe import DEFAULT_TRAINING, Plan, budget_cut, recipe
from .record import (SEED_LIMIT, Curves, DataInfo, ExperimentRecord, Metrics, Recipe, Schedule, Settings, TrainingRecord,
                     check_records)
from .verdict import RULES, Evidence, Judgement, Memorisation, judge

PhaseProgress = Callable[[str, Progress], None]
RecipeReport = Callable[[Recipe], None]


@dataclass(frozen=True)
class Defaults:
    steps: int
    experiment_steps: int  # per activation
    budget_s: float
    eval_images: int
    calibration_images: int


# A CPU run is the same code with fewer steps: enough for a verdict on the small networks, and
# about a minute for a 227x227 AlexNet on two cores.
CPU = Defaults(steps=150, experiment_steps=150, budget_s=60.0, eval_images=1000, calibration_images=256)
CUDA = Defaults(steps=1000, experiment_steps=3000, budget_s=45.0, eval_images=10_000, calibration_images=4096)
PROBE_IMAGES = 32
MEMORISE_WINDOW = 3  # a batch counts as memorised once every image is right on this many steps running
# One batch is a narrower task than the data set: half the run's steps, so that it scales with
# --steps (a 20-step run stays short) and a long run gives it room to leave a plateau.
MEMORISE_SHARE = 0.5
# Shares of the budget, with and without speedup experiments to run. The run goes first and so
# also pays for the device's start-up (CUDA context, cuDNN and cuBLAS handles).
PHASE_SHARES = {"train": 0.5, "evaluate": 0.1, "memorise": 0.15, "experiments": 0.25}
PHASE_SHARES_ALONE = {"train": 0.65, "evaluate": 0.1, "memorise": 0.25, "experiments": 0.0}
# torch.compile took 50 s for the 2012 AlexNet on an H100 and then ran 1.75x faster (11,500 against
# 6,600 images/s at batch 128): it pays only for runs of about two million images or more.
COMPILE_MIN_IMAGES = 2_000_000
FORWARD_SPEEDUP = 3  # a forward pass costs about a third of a training step
MIN_EVAL_IMAGES = 64
DEFAULT_LR = {"adam": 1e-3, "sgd": 1e-2}  # Adam: PyTorch's and Keras's default; SGD: Keras's default

MAX_STEPS = 10_000_000  # a step's loss is kept per step: beyond this the buffers alone grow large
MAX_EPOCHS = 10_000
MAX_BUDGET_S = 7 * 24 * 3600.0
MIN_MEMORY_GIB = 1 / 1024
MAX_MEMORY_GIB = float(1 << 20)
MAX_WORLD_SIZE = 1 << 16


@dataclass(frozen=True)
class TrainOptions:
    """How to train; every value is checked here, so a careless option is one located line."""

    data: str = "digits"
    steps: int | None = None
    epochs: int | None = None
    budget_s: float | None = None
    device: Literal["auto", "cuda", "cpu"] = "auto"
    seed: int = 0
    max_memory_gib: float | None = None  # what a run may take; None: FREE_SHARE of the device's free memory
    seeds: int | None = None  # of each speed-up experiment; None: experiment.SEEDS for the device
    world_size: int = 1  # processes a step is shared over (`--nproc`)

    def __post_init__(self) -> None:
        _in_range("--steps", self.steps, 1, MAX_STEPS)
        _in_range("--epochs", self.epochs, 1, MAX_EPOCHS)
        _in_range("--budget", self.budget_s, 1, MAX_BUDGET_S)
        _in_range("--seed", self.seed, 0, SEED_LIMIT - 1)
        _in_range("--max-memory", self.max_memory_gib, MIN_MEMORY_GIB, MAX_MEMORY_GIB)
        _in_range("--seeds", self.seeds, 1, MAX_SEEDS)
        _in_range("--nproc", self.world_size, 1, MAX_WORLD_SIZE)
        if self.steps is not None and self.epochs is not None:
            raise AuditError("give --steps or --epochs, not both", field="--steps")
        if self.device not in ("auto", "cuda", "cpu"):
            raise AuditError(f"{plain(repr(self.device))} is not auto, cuda or cpu", field="--device")
        if not self.data or "\0" in self.data or len(self.data) > 4096:
            raise AuditError("not a data set name or a path", field="--data")


def _in_range(option: str, value: float | None, low: float, high: float) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise AuditError(f"{plain(repr(value))[:60]} is not a finite number", field=option)
    if not low <= value <= high:
        shown = f"{value:,}" if abs(value) < 10**30 else f"a {len(str(int(value)))}-digit number"
        raise AuditError(f"{shown} is out of range: must be between {low:,} and {high:,}", field=option)


def _defaults_for(rt: Runtime) -> Defaults:
    return CUDA if rt.device.type == "cuda" else CPU


def budget_of(options: TrainOptions, rt: Runtime) -> float:
    """The seconds each spec's whole command gets: --budget, else the device's default."""
    return options.budget_s if options.budget_s is not None else _defaults_for(rt).budget_s


def source_config(spec: Spec, seed: int) -> tuple[LoopConfig, Training]:
    """The optimiser and settings the source trained with; its framework's customary recipe where it is silent."""
    t = spec.doc.training or DEFAULT_TRAINING[spec.doc.source.framework]
    loss: Loss = "nll_of_softmax" if spec.layers[-1].spec.kind == "softmax" else "cross_entropy"
    cfg = LoopConfig(steps=1, batch_size=t.batch_size, optimizer=t.optimizer, lr=t.lr or DEFAULT_LR[t.optimizer],
                     momentum=t.momentum or 0.0, weight_decay=t.weight_decay, loss=loss, seed=seed)
    return cfg, t


def steps_per_epoch(images: int, batch: int) -> int:
    return max(1, images // batch)  # the loop drops a short last batch


def _limit(affordable: float, cap: int) -> int:
    """Images to evaluate: what the evaluation's share of the budget affords, within [MIN_EVAL_IMAGES, cap]."""
    return max(MIN_EVAL_IMAGES, min(cap, int(affordable)))


@dataclass(frozen=True)
class MainRun:
    result: LoopResult
    held_out: Evaluation
    chance: float
    calibrated: int  # training images BatchNorm was re-estimated on
    at_init: tuple[LayerProbe, ...]
    at_end: tuple[LayerProbe, ...]
    rt: Runtime  # rank 0's alone, for what follows the run
    world: World  # the processes that trained


def _main_run(model: SpecNet, train: DeviceData, held: DeviceData, cfg: LoopConfig, rt: Runtime, defaults: Defaults,
              evaluate_s: float, report: Callable[[Progress], None] | None) -> MainRun | None:
    """The run itself, then its evaluation: as many held-out images as `evaluate_s` affords at its speed.
    In a world of several, every rank trains and rank 0 alone evaluates; the others get None."""
    probe_x = train.batch(spread(train.n, PROBE_IMAGES, rt.device))[0]
    at_init = probe(model, probe_x)
    rt = replace(rt, compile=rt.device.type == "cuda" and cfg.steps * cfg.batch_size * rt.world.size >= COMPILE_MIN_IMAGES)
    result = train_loop(model, train, cfg, rt, report)
    if not rt.world.main:
        return None
    # Rank 0 evaluates alone, at one process's share of the world's speed.
    affordable = evaluate_s / 2 * FORWARD_SPEEDUP * result.images_per_s / rt.world.size
    world, rt = rt.world, replace(rt, world=World())
    calibrated = recalibrate_batchnorm(model, train, rt, _limit(affordable, defaults.calibration_images), cfg.batch_size)
    subset = spread(held.n, _limit(affordable, defaults.eval_images), rt.device)
    held_out = evaluate(model, held.subset(subset), rt, len(subset))
    chance = held.y[subset].bincount().max().item() / len(subset)
    return MainRun(result, held_out, chance, calibrated, at_init, probe(model, probe_x), rt, world)


def _memorise(model: SpecNet, train: DeviceData, cfg: LoopConfig, rt: Runtime,
              report: Callable[[Progress], None] | None) -> LoopResult:
    """Train a fresh copy on one batch (of the source's size) until every image in it is right on
    MEMORISE_WINDOW steps running: it stops by "target" when it memorises."""
    batch = train.subset(spread(train.n, cfg.batch_size, rt.device))
    return train_loop(model, batch, replace(cfg, batch_size=batch.n, stop_error=0.0, window=MEMORISE_WINDOW), rt, report)


def train_spec(spec: Spec, options: TrainOptions, on_progress: PhaseProgress | None = None,
               on_recipe: RecipeReport | None = None, world: World = World()) -> TrainingRecord | None:
    """Train `spec` as `options` say; `on_recipe` hears what the run will do before training starts. In a
    world of several processes (train/distributed.py) rank 0 returns the record and the others None."""
    began = time.perf_counter()
    rt = Runtime.pick(options.device, world)
    # Only a CUDA run may be compiled, and DDP reads torch._dynamo's utilities; a lone process on
    # the CPU runs eagerly, where the optimiser's calls into torch._dynamo (its `disable` wrapping,
    # `graph_break`) do nothing but cost its 2.5 s import.
    eager_alone = rt.device.type != "cuda" and world.size == 1
    with without_dynamo_import() if eager_alone else contextlib.nullcontext():
        return _train(spec, options, on_progress, on_recipe, rt, began)


def _train(spec: Spec, options: TrainOptions, on_progress: PhaseProgress | None, on_recipe: RecipeReport | None,
           rt: Runtime, began: float) -> TrainingRecord | None:
    world = rt.world
    defaults = _defaults_for(rt)
    budget = budget_of(options, rt)
    deadline = began + budget
    base, training = source_config(spec, options.seed)
    with agreed(world):
        images = load_data(options.data, spec.doc.input, spec.doc.num_classes, options.seed)
        steps, per_epoch = planned_steps(options, images, base.batch_size, world.size, defaults.steps)
        _check_memory(spec, options, images, base, steps, rt)
    speedups = speedup_claims(spec)
    shares = PHASE_SHARES if speedups else PHASE_SHARES_ALONE
    memorise_steps = max(1, math.ceil(MEMORISE_SHARE * steps))
    planned = recipe(_plan(spec, options, images, training, base, steps, per_epoch, rt, defaults, budget, memorise_steps))
    if on_recipe:
        on_recipe(planned)
    train, held = to_device(images, (spec.doc.input[0], spec.doc.input[1], spec.doc.input[2]), rt.device, rt.channels_last)

    def build(seed: int = options.seed) -> SpecNet:
        # Module.to takes memory_format (documented, and honoured), but torch's stubs leave it out.
        return build_model(spec, seed).to(rt.device, memory_format=rt.memory_format)  # type: ignore[call-overload]

    def report(phase: str) -> Callable[[Progress], None] | None:
        return (lambda p: on_progress(phase, p)) if on_progress else None

    main = _main_run(build(), train, held, replace(base, steps=steps, budget_s=shares["train"] * budget), rt, defaults,
                     shares["evaluate"] * budget, report("train"))
    if main is None:
        return None
    rt = replace(rt, world=World())  # rank 0 alone from here on
    # Memorisation takes what the run left of its share too, short of the experiments' share.
    left = max(shares["memorise"] * budget, deadline - shares["experiments"] * budget - time.perf_counter())
    memorised = _memorise(build(), train, replace(base, steps=memorise_steps, budget_s=left), rt, report("memorise"))
    batch = min(base.batch_size, train.n)
    evidence = Evidence(
        # steps/s: the world's images/s over the images a step takes (the loop's batch on each process)
        main.result.losses, main.result.stopped_by, steps,
        main.result.images_per_s / (per_rank_batch(train.n, base.batch_size, main.world) * main.world.size),
        main.held_out.correct, main.held_out.n, main.chance, len(images.classes),
        Memorisation(batch, base.batch_size, memorised.steps if memorised.stopped_by == "target" else None,
                     memorised.steps, memorised.stopped_by),
        # After a NaN the weights are NaN too: only the probe at initialisation can say why.
        structural_finding(main.at_init, main.at_end if main.result.stopped_by != "non-finite" else (), PROBE_IMAGES),
        shares["train"])
    experiments = run_experiments(speedups, build, train, images.name, replace(base, steps=defaults.experiment_steps), rt,
                                  experiment_seeds(options.seed, rt, options.seeds), deadline, on_progress)
    if main.result.stopped_by == "budget":
        cut = budget_cut(steps, main.result.steps, shares["train"] * budget, budget)
        planned = planned.model_copy(update={"departures": [*planned.departures, cut]})
    return _record(spec, options, images, base, training, steps, per_epoch, main, judge(evidence), experiments,
                   planned, time.perf_counter() - began)


def _plan(spec: Spec, options: TrainOptions, images: ImageSet, training: Training, base: LoopConfig, steps: int,
          per_epoch: int, rt: Runtime, defaults: Defaults, budget: float, memorise_steps: int) -> Plan:
    if options.steps:
        why = f"--steps {options.steps}"
    elif options.epochs:
        why = f"--epochs {options.epochs}: {options.epochs} x {per_epoch:,} steps"
    elif images.default_epochs:
        why = f"{images.name}'s default, {images.default_epochs} epochs: {images.default_epochs} x {per_epoch:,} steps"
    else:
        why = f"the {rt.device.type.upper()} default, sized for a {defaults.budget_s:g} s budget per spec"
    return Plan(
        spec=spec, training=training, data_option=options.data, data_name=images.name, data_source=images.source,
        classes=len(images.classes), train_images=len(images.y_train), held_out_images=len(images.y_test),
        held_out=images.held_out, eval_images=defaults.eval_images, stored_shape=tuple(images.x_train.shape[1:]),
        steps=steps, steps_why=why, per_epoch=per_epoch, optimizer=base.optimizer, lr=base.lr, momentum=base.momentum,
        weight_decay=base.weight_decay, batch_size=base.batch_size, device=rt.describe(),
        precision=rt.precision, world_size=rt.world.size, budget_s=budget,
        memorise_steps=memorise_steps)


def planned_steps(options: TrainOptions, images: ImageSet, batch: int, world_size: int, default_steps: int) -> tuple[int, int]:
    """The run's steps and its steps per epoch, where a step takes a batch on each of `world_size`
    processes; refused when the epochs asked for make more than MAX_STEPS."""
    per_epoch = steps_per_epoch(len(images.y_train), batch * world_size)
    epochs = options.epochs or images.default_epochs
    steps = options.steps or (math.ceil(epochs * per_epoch) if epochs else default_steps)
    if steps > MAX_STEPS:
        whose = "" if options.epochs else f" ({images.name}'s default)"
        raise AuditError(f"{epochs:,} epochs{whose} of {per_epoch:,} steps (batch {batch} on each of {world_size} "
                         f"process{'es' if world_size > 1 else ''}) make {steps:,} steps, more than {MAX_STEPS:,}",
                         field="--epochs" if options.epochs else "--data")
    return steps, per_epoch


def _check_memory(spec: Spec, options: TrainOptions, images: ImageSet, base: LoopConfig, steps: int, rt: Runtime) -> None:
    """Refuse, before anything goes on the device, a run that would not fit (see train/memory.py)."""
    on_gpu = rt.device.type == "cuda"
    stored = images.x_train.nbytes + images.x_test.nbytes if on_gpu else 0  # on the CPU the set is already in memory
    need = step_memory(spec, batch=min(base.batch_size, len(images.y_train)), optimiser=base.optimizer,
                       momentum=base.momentum, data_bytes=stored, steps=steps)
    if options.max_memory_gib is not None:
        check_fits(need, int(options.max_memory_gib * GIB), "--max-memory")
    else:
        where = "the GPU" if on_gpu else "this machine"
        check_fits(need, default_limit(rt.device.type), f"{FREE_SHARE:.0%} of the free memory of {where}")


def _record(spec: Spec, options: TrainOptions, images: ImageSet, base: LoopConfig, training: Training, steps: int,
            per_epoch: int, main: MainRun, judgement: Judgement, experiments: list[ExperimentRecord], planned: Recipe,
            seconds: float) -> TrainingRecord:
    result, held, rt = main.result, main.held_out, main.rt
    last_epoch = result.accuracies[-per_epoch:] or (0.0,)
    return TrainingRecord(
        tool=f"alexnet-audit {__version__}", spec=spec.id, date=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        torch=torch.__version__,
        data=DataInfo(name=images.name, source=images.source, classes=len(images.classes), train_images=len(images.y_train),
                      held_out_images=held.n, held_out=images.held_out, stored_shape=list(images.x_train.shape[1:]),
                      input=list(spec.doc.input)),
        settings=Settings(optimizer=base.optimizer, lr=base.lr, momentum=base.momentum, weight_decay=base.weight_decay,
                          batch_size=base.batch_size, loss=base.loss, from_source=spec.doc.training is not None,
                          where=training.where, seed=options.seed, device=rt.describe(),
                          precision=rt.precision, channels_last=rt.channels_last,
                          compiled=rt.compile, batchnorm_recalibrated_on=main.calibrated, world_size=main.world.size),
        schedule=Schedule(steps=result.steps, requested_steps=steps, epochs=result.steps / per_epoch,
                          stopped_by=result.stopped_by, seconds=result.seconds, images_per_s=result.images_per_s,
                          images_drawn=result.images_drawn),
        metrics=Metrics(train_accuracy=sum(last_epoch) / len(last_epoch), held_out_accuracy=held.accuracy,
                        held_out_top5_accuracy=held.top5 / held.n, held_out_correct=held.correct, held_out_n=held.n,
                        chance=main.chance),
        verdict=judgement.verdict, cause=judgement.cause, settle=judgement.settle, rules=RULES, recipe=planned,
        checks=check_records(judgement.checks),
        experiments=experiments,
        curves=Curves(loss=list(result.losses), train_accuracy=list(result.accuracies)),
        seconds=seconds,
    )
