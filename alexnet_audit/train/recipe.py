"""What `train` will do for one spec, fixed before it starts, with every way it departs from the
source's recipe (the spec's `training:` block) and why: the data set that is on disk instead of
the source's, settings the source leaves unstated, a schedule cut to fit the budget, the
precision a GPU runs at, the processes a step is shared over."""

from __future__ import annotations

from dataclasses import dataclass

from ..spec import Spec, Training
from .builtin_sets import BUILT_IN
from .record import Departure, Recipe

DATASETS = {"imagenet": "ImageNet", "cifar10": "CIFAR-10", "cifar100": "CIFAR-100", "mnist": "MNIST",
            "fashion-mnist": "Fashion-MNIST", "flowers17": "Oxford Flowers-17", "flowers5": "a five-flower set"}


# Where a spec states no training, the settings customary for its framework. Each `where` says
# whose settings they are and nothing about the network, since one entry serves every network
# of its framework (LeNet-5 as well as AlexNet or ResNet).
DEFAULT_TRAINING = {
    "paper": Training(dataset="none", optimizer="sgd", lr=0.01, momentum=0.9, weight_decay=0.0005, batch_size=128,
                      where="none stated: the settings of Krizhevsky et al. (2012), section 5: SGD, batch 128, "
                            "momentum 0.9, weight decay 0.0005, lr 0.01"),
    # torchvision's classification reference scripts default to lr 0.1 and lower it to 0.01 for
    # the networks without batch normalisation (its README: AlexNet and the original VGGs).
    "pytorch": Training(dataset="none", optimizer="sgd", lr=0.01, momentum=0.9, weight_decay=0.0001, batch_size=32,
                        where="none stated: torchvision's classification reference settings (SGD, batch 32, "
                              "momentum 0.9, weight decay 0.0001) at lr 0.01, the rate they use without batch normalisation"),
    "keras": Training(dataset="none", optimizer="adam", batch_size=32,
                      where="none stated: Keras's compile(optimizer='adam') and fit() defaults (lr 0.001, batch 32)"),
    "tf1": Training(dataset="none", optimizer="adam", batch_size=32,
                    where="none stated: tf.train.AdamOptimizer at its default rate (lr 0.001), batch 32"),
}


@dataclass(frozen=True)
class Plan:
    """The figures a recipe is made of, as run.py settles them before training."""

    spec: Spec
    training: Training  # the spec's, or DEFAULT_TRAINING's for its framework
    data_option: str  # --data as given
    data_name: str
    data_source: str
    classes: int
    train_images: int
    held_out_images: int
    held_out: str  # how the held-out part was split off
    eval_images: int  # at most this many held-out images are evaluated
    stored_shape: tuple[int, ...]  # one image as stored (C, h, w)
    steps: int
    steps_why: str  # --steps N, --epochs N, or the device's default
    per_epoch: int
    optimizer: str
    lr: float
    momentum: float
    weight_decay: float
    batch_size: int
    device: str
    precision: str
    world_size: int
    budget_s: float
    memorise_steps: int


def recipe(p: Plan) -> Recipe:
    momentum = f", momentum {p.momentum:g}" if p.optimizer == "sgd" else ""
    optimiser = f"{p.optimizer}{momentum}, weight decay {p.weight_decay:g}"
    return Recipe(
        data=f"{p.data_name}: {p.data_source}, {p.classes} classes",
        split=f"{p.train_images:,} training images, {p.held_out_images:,} held out ({p.held_out}); at most "
              f"{p.eval_images:,} held-out images evaluated",
        steps=p.steps, epochs=p.steps / p.per_epoch, batch_size=p.batch_size, optimizer=optimiser, lr=p.lr,
        device=p.device, precision=p.precision, world_size=p.world_size, budget_s=p.budget_s,
        memorise_steps=p.memorise_steps, departures=departures(p))


def departures(p: Plan) -> list[Departure]:
    return [d for d in (_data(p), _input(p), *_settings(p), _steps(p), _precision(p), _processes(p)) if d is not None]


def _data(p: Plan) -> Departure | None:
    wanted = p.training.dataset
    if wanted == p.data_name:
        return None
    source = DATASETS.get(wanted, "not stated") if p.spec.doc.training is not None else "not stated"
    if p.data_option in BUILT_IN:
        why = ("built in, nothing downloaded" + (f"; `--data DIR` with {source} on disk trains on the source's data"
                                                 if wanted in DATASETS else ""))
    else:
        why = "the data set given with --data"
    return Departure(what="data set", source=source, here=f"{p.data_name}, {p.data_source}", why=why)


def _input(p: Plan) -> Departure | None:
    c, h, w = p.spec.doc.input
    stored = tuple(p.stored_shape)
    if stored == (c, h, w):
        return None
    sc, sh, sw = stored
    how = [f"resized from {sh}x{sw} to {h}x{w}"] if (sh, sw) != (h, w) else []
    if sc != c:
        how.append(f"{sc} channel{'s' if sc > 1 else ''} mapped to {c}")
    return Departure(what="input", source=f"{c}x{h}x{w} images", here=f"{p.data_name}'s {sc}x{sh}x{sw} images, "
                     + " and ".join(how), why="the network's input is the spec's; the images are made to fit it")


def _settings(p: Plan) -> list[Departure]:
    t, stated = p.training, p.spec.doc.training
    if stated is None:
        return [Departure(what="optimiser and settings", source="not stated",
                          here=f"{p.optimizer}, lr {p.lr:g}, batch {p.batch_size}", why=t.where or "a customary default")]
    out = []
    if t.lr is None:
        out.append(Departure(what="learning rate", source="not stated", here=f"{p.lr:g}",
                             why=f"{p.optimizer}'s usual default (PyTorch's and Keras's for Adam, Keras's for SGD)"))
    if t.optimizer == "sgd" and t.momentum is None:
        out.append(Departure(what="momentum", source="not stated", here="0", why="plain SGD, as the frameworks default to"))
    if "batch_size" not in stated.model_fields_set:
        out.append(Departure(what="batch size", source="not stated", here=str(p.batch_size), why="the spec format's default"))
    return out


def _steps(p: Plan) -> Departure | None:
    t = p.spec.doc.training
    if t is not None and "epochs" in t.model_fields_set:
        source_steps = t.epochs * p.per_epoch
        if source_steps == p.steps:
            return None
        source = (f"{t.epochs} epoch{'s' if t.epochs > 1 else ''} ({source_steps:,} steps of batch {p.batch_size} on "
                  f"these {p.train_images:,} images)")
    else:
        source = "not stated"
    return Departure(what="steps", source=source, here=f"{p.steps:,} steps ({p.steps / p.per_epoch:.3g} epochs)",
                     why=p.steps_why)


def _precision(p: Plan) -> Departure | None:
    if p.precision == "fp32":
        return None
    return Departure(what="precision", source="not stated (fp32, the frameworks' default)", here=p.precision,
                     why="about twice the speed on a CUDA GPU; the weights and the optimiser stay in fp32")


def _processes(p: Plan) -> Departure | None:
    if p.world_size == 1:
        return None
    return Departure(what="processes", source="one", here=f"{p.world_size}",
                     why=f"each process takes its own batch of {p.batch_size}, so one step sees "
                         f"{p.world_size * p.batch_size} images")


def budget_cut(planned: int, ran: int, seconds: float, budget_s: float) -> Departure:
    """The departure a run learns of only at its end: the budget stopped it short of its steps."""
    return Departure(what="steps", source=f"{planned:,} planned", here=f"{ran:,} ran",
                     why=f"the budget: the run had {seconds:.3g} s of the {budget_s:g} s budget and used them up")
