"""The recipe `train` fixes before it starts: each departure from the source's `training:` block,
with why, on plans built by hand; then the command line printing it before the verdict."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Callable

import pytest
from typer.testing import CliRunner

import alexnet_audit.cli as cli
from alexnet_audit.spec import spec_from_text
from alexnet_audit.train.recipe import Plan, budget_cut, recipe
from alexnet_audit.train.run import TrainOptions, train_spec
from helpers import spec_text

pytestmark = pytest.mark.usefixtures("one_thread")

SPEC = """id: r
title: recipe
source: {{seed: test, section: tests, framework: keras}}
input: [1, 32, 32]
num_classes: 10
{training}layers:
  - {{kind: flatten}}
  - {{kind: linear, name: fc, out_features: 10}}
"""
STATED = "training: {dataset: mnist, optimizer: adam, batch_size: 64, epochs: 10, where: fit()}\n"


def _plan(training: str = STATED, **changes: object) -> Plan:
    spec = spec_from_text(SPEC.format(training=training))
    assert spec.doc.training is not None or training == ""
    stated = spec.doc.training or spec_from_text(SPEC.format(training=STATED)).doc.training
    assert stated is not None
    plan = Plan(spec=spec, training=stated,
                data_option="digits", data_name="digits", data_source="built in", classes=10, train_images=1433,
                held_out_images=364, held_out="a stratified 20% split", eval_images=256, stored_shape=(1, 8, 8),
                steps=20, steps_why="--steps 20", per_epoch=1433 // 64, optimizer="adam", lr=0.001, momentum=0.0,
                weight_decay=0.0, batch_size=64, device="cpu (1 thread)", precision="fp32", world_size=1, budget_s=60.0,
                memorise_steps=10)
    return replace(plan, **changes)  # type: ignore[arg-type]


def _departures(plan: Plan) -> dict[str, tuple[str, str, str]]:
    return {d.what: (d.source, d.here, d.why) for d in recipe(plan).departures}


def test_each_departure_from_a_stated_recipe_is_named_with_why() -> None:
    found = _departures(_plan())
    assert set(found) == {"data set", "input", "learning rate", "steps"}
    assert found["data set"][:2] == ("MNIST", "digits, built in") and "`--data DIR` with MNIST" in found["data set"][2]
    assert found["input"][:2] == ("1x32x32 images", "digits's 1x8x8 images, resized from 8x8 to 32x32")
    assert found["learning rate"][:2] == ("not stated", "0.001")
    # 10 epochs of 1,433 // 64 = 22 steps each make 220 steps; this run takes 20.
    assert found["steps"] == ("10 epochs (220 steps of batch 64 on these 1,433 images)", "20 steps (0.909 epochs)", "--steps 20")


def test_a_run_that_follows_the_source_departs_only_where_it_must() -> None:
    found = _departures(_plan(steps=220, data_name="mnist", data_option="mnist-dir", stored_shape=(1, 32, 32)))
    assert set(found) == {"learning rate"}


def test_a_silent_source_says_whose_defaults_run() -> None:
    found = _departures(_plan(training=""))
    assert found["optimiser and settings"] == ("not stated", "adam, lr 0.001, batch 64", "fit()")
    assert found["data set"][0] == "not stated" and found["steps"][0] == "not stated"


def test_gpu_precision_and_processes_are_departures() -> None:
    found = _departures(_plan(precision="bf16 autocast", world_size=2))
    assert found["precision"][1] == "bf16 autocast"
    assert found["processes"] == ("one", "2", "each process takes its own batch of 64, so one step sees 128 images")


def test_the_recipe_figures() -> None:
    r = recipe(_plan())
    assert (r.steps, r.batch_size, r.world_size, r.memorise_steps, r.lr) == (20, 64, 1, 10, 0.001)
    assert r.epochs == pytest.approx(20 / 22)
    assert r.split == "1,433 training images, 364 held out (a stratified 20% split); at most 256 held-out images evaluated"
    assert budget_cut(150, 53, 39.0, 60.0).here == "53 ran"


TINY = spec_text("  - {kind: flatten}\n  - {kind: linear, name: fc1, out_features: 10}\n", input="[1, 8, 8]", id="tiny") + \
    "training: {dataset: none, optimizer: adam, lr: 0.01, batch_size: 32}\n"


def test_a_run_cut_by_its_budget_records_the_cut() -> None:
    # 10^6 steps cannot run in the run's 65% share of one second.
    record = train_spec(spec_from_text(TINY), TrainOptions(steps=10**6, budget_s=1, device="cpu"))
    assert record.schedule.stopped_by == "budget" and record.recipe is not None
    cut = record.recipe.departures[-1]
    assert (cut.what, cut.source, cut.here) == ("steps", "1,000,000 planned", f"{record.schedule.steps:,} ran")
    assert record.verdict != "fails to converge" or record.cause is not None


def test_train_prints_the_recipe_before_the_verdict(write_spec: Callable[..., Path], tmp_path: Path) -> None:
    spec = write_spec(TINY, "tiny.yaml")
    out = tmp_path / "runs"
    result = CliRunner().invoke(cli.app, ["train", str(spec), "--device", "cpu", "--steps", "3", "--out", str(out)])
    assert result.exit_code == 0, result.output  # inconclusive is no failure
    text = result.stdout
    assert text.index("tiny: will train") < text.index("tiny: inconclusive: too few steps to tell")
    assert "steps: source not stated; here 3 steps" in text
    written = json.loads((out / "tiny.json").read_text())
    assert written["recipe"]["steps"] == 3 and written["recipe"]["memorise_steps"] == 2  # ceil(3 / 2)
    assert written["verdict"] == "inconclusive" and written["rules"] == 2
