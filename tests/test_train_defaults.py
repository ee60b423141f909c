"""What `train` settles before it starts for a source that is silent: the customary settings of
each framework and the words that name them, and the schedule's step count and its refusal."""

from __future__ import annotations

import pytest
import torch

from alexnet_audit.errors import AuditError
from alexnet_audit.render.training import recipe_text
from alexnet_audit.spec import load_spec
from alexnet_audit.train.image_set import ImageSet
from alexnet_audit.train.recipe import DEFAULT_TRAINING, Plan, recipe
from alexnet_audit.train.run import DEFAULT_LR, MAX_STEPS, TrainOptions, planned_steps, source_config
from conftest import ROOT

NETWORKS = ("AlexNet", "LeNet", "VGG", "ResNet", "GoogLeNet", "SqueezeNet")


def _images(train: int, default_epochs: int | None = None) -> ImageSet:
    """A set of `train` training images; only their count matters to the schedule."""
    return ImageSet(name="digits", source="built in", classes=tuple(str(i) for i in range(10)),
                    x_train=torch.zeros((0, 1, 8, 8), dtype=torch.uint8), y_train=torch.zeros(train, dtype=torch.int64),
                    x_test=torch.zeros((0, 1, 8, 8), dtype=torch.uint8), y_test=torch.zeros(0, dtype=torch.int64),
                    held_out="none", default_epochs=default_epochs)


def test_too_many_epochs_names_the_steps_per_epoch_of_the_run_with_two_processes() -> None:
    # 100,000 images, batch 32 on each of 2 processes: a step takes 64 images, 100,000 // 64 = 1,562
    # steps an epoch, and 10,000 epochs make 15,620,000 steps (one process would take 3,125 an epoch).
    with pytest.raises(AuditError) as info:
        planned_steps(TrainOptions(epochs=10_000, world_size=2), _images(100_000), 32, 2, 150)
    assert info.value.field == "--epochs"
    assert ("10,000 epochs of 1,562 steps (batch 32 on each of 2 processes) make 15,620,000 steps, more than "
            f"{MAX_STEPS:,}") in str(info.value)


def test_too_many_epochs_with_one_process() -> None:
    # 100,000 // 32 = 3,125 steps an epoch; 4,000 epochs make 12,500,000
    with pytest.raises(AuditError, match=r"4,000 epochs of 3,125 steps \(batch 32 on each of 1 process\) make 12,500,000"):
        planned_steps(TrainOptions(epochs=4_000), _images(100_000), 32, 1, 150)


def test_a_data_sets_default_epochs_are_refused_as_the_data_sets() -> None:
    # 100,000 // 64 = 1,562 steps an epoch; the set's default 7,000 epochs make 10,934,000
    with pytest.raises(AuditError) as info:
        planned_steps(TrainOptions(world_size=2), _images(100_000, default_epochs=7_000), 32, 2, 150)
    assert info.value.field == "--data"
    assert "7,000 epochs (digits's default) of 1,562 steps" in str(info.value)


def test_the_schedule_within_the_limit() -> None:
    # 1,433 // 64 = 22 steps an epoch with two processes of batch 32; 3 epochs: 66 steps
    assert planned_steps(TrainOptions(epochs=3, world_size=2), _images(1_433), 32, 2, 150) == (66, 22)
    assert planned_steps(TrainOptions(steps=5), _images(1_433), 32, 2, 150) == (5, 22)
    assert planned_steps(TrainOptions(), _images(1_433), 32, 1, 150) == (150, 44)  # no epochs: the device's default


@pytest.mark.parametrize("framework", sorted(DEFAULT_TRAINING))
def test_each_default_names_its_own_settings_and_no_network(framework: str) -> None:
    t = DEFAULT_TRAINING[framework]
    assert t.where is not None and t.where.startswith("none stated: ")
    assert not [n for n in NETWORKS if n.lower() in t.where.lower()], t.where
    lr = t.lr or DEFAULT_LR[t.optimizer]
    assert f"batch {t.batch_size}" in t.where and f"lr {lr:g}" in t.where
    if t.optimizer == "sgd":
        assert f"momentum {t.momentum:g}" in t.where and f"weight decay {t.weight_decay:g}" in t.where


def _recipe_line(stem: str) -> str:
    spec = load_spec(ROOT / "specs" / f"{stem}.yaml")
    cfg, training = source_config(spec, seed=0)
    plan = Plan(spec=spec, training=training, data_option="digits", data_name="digits", data_source="built in",
                classes=10, train_images=1433, held_out_images=364, held_out="a stratified 20% split", eval_images=256,
                stored_shape=(1, 8, 8), steps=20, steps_why="--steps 20", per_epoch=1433 // cfg.batch_size,
                optimizer=cfg.optimizer, lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay,
                batch_size=cfg.batch_size, device="cpu (1 thread)", precision="fp32", world_size=1, budget_s=60.0,
                memorise_steps=10)
    return recipe_text(spec.id, recipe(plan)).plain


@pytest.mark.parametrize("stem", ["seed002-lenet5-table", "paper-lenet5-1998"])
def test_a_lenet_specs_recipe_does_not_claim_alexnet(stem: str) -> None:
    line = _recipe_line(stem)
    assert "optimiser and settings: source not stated" in line  # the spec states no training
    assert "alexnet" not in line.lower(), line


def test_the_pytorch_default_says_whose_settings_run() -> None:
    line = _recipe_line("seed002-lenet5-table")
    # seed002's table spec is PyTorch and states no training: SGD at lr 0.01, batch 32
    assert "here sgd, lr 0.01, batch 32; why: none stated: torchvision's classification reference settings" in line
