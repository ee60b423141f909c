"""Training and speedup claims judged from recorded runs; the record file; the `train` command."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Callable

import pytest
import torch
from typer.testing import CliRunner

from alexnet_audit.audit import audit_paths
from alexnet_audit.cli import app
from alexnet_audit.errors import AuditError
from alexnet_audit.spec import spec_from_text
from alexnet_audit.train.findings import training_claim
from alexnet_audit.train.record import TrainingRecord, load_record, record_json
from alexnet_audit.train.run import TrainOptions, train_spec
from helpers import LENET, spec_text

runner = CliRunner()


pytestmark = pytest.mark.usefixtures("one_thread")



def _record(data: str = "flowers17", epochs: float = 1.0, train_accuracy: float = 0.88, held_out: float = 0.7,
            experiments: list[dict[str, Any]] | None = None, spec: str = "t") -> TrainingRecord:
    return TrainingRecord.model_validate({
        "tool": "alexnet-audit test", "spec": spec, "date": "2026-01-01T00:00:00+00:00", "torch": "2",
        "data": {"name": data, "source": "test", "classes": 17, "train_images": 1088, "held_out_images": 272,
                 "held_out": "a split", "stored_shape": [3, 224, 224], "input": [3, 224, 224]},
        "settings": {"optimizer": "adam", "lr": 0.001, "momentum": 0.0, "weight_decay": 0.0, "batch_size": 64,
                     "loss": "nll_of_softmax", "from_source": True, "where": "fit()", "seed": 0, "device": "cpu",
                     "precision": "fp32", "channels_last": False, "compiled": False, "batchnorm_recalibrated_on": 0},
        "schedule": {"steps": 17, "requested_steps": 17, "epochs": epochs, "stopped_by": "steps", "seconds": 1.0,
                     "images_per_s": 100.0},
        "metrics": {"train_accuracy": train_accuracy, "held_out_accuracy": held_out, "held_out_top5_accuracy": 0.9,
                    "held_out_correct": round(272 * held_out), "held_out_n": 272, "chance": 1 / 17},
        "verdict": "converges", "cause": None, "checks": [], "experiments": experiments or [],
        "curves": {"loss": [2.8, 1.0], "train_accuracy": [0.1, 0.9]}, "seconds": 2.0,
    })


def _experiment() -> dict[str, Any]:
    # Three seeds of ratio 6 each (300/50, 240/40, 360/60): they agree within 5.5 to 6.5. The rule
    # itself is tested in tests/test_train_experiment.py.
    seeds = [{"seed": i, "relu_steps": r, "baseline_steps": 6 * r, "relu_steps_run": r, "baseline_steps_run": 6 * r}
             for i, r in enumerate((50, 40, 60))]
    return {"baseline": "tanh", "target_error": 0.25, "data": "cifar10", "window": 10, "seeds": seeds}


TRAINING_CLAIM = "  - {id: acc, kind: training, metric: train_accuracy, claimed: '90%', approx: true, dataset: flowers17, epochs: 1, where: x}\n"
SPEEDUP_CLAIM = "  - {id: fast, kind: speedup, claimed: 6, baseline: tanh, target_error: 0.25, dataset: cifar10, where: y}\n"


def _claims() -> tuple[Any, Any]:
    spec = spec_from_text(spec_text(LENET, claims=TRAINING_CLAIM + SPEEDUP_CLAIM))
    return spec.doc.claims[0], spec.doc.claims[1]


# ---------------------------------------------------------------- training claims


def test_accuracy_within_the_written_precision_holds() -> None:
    claim, _ = _claims()
    found = training_claim(claim, _record(train_accuracy=0.88), source_epochs=None)
    assert found.verdict == "holds" and found.measured == 0.88  # 90% written: 85% to 95%
    assert training_claim(claim, _record(train_accuracy=0.84), None).verdict == "fails"
    assert training_claim(claim, _record(train_accuracy=0.95), None).verdict == "holds"


def test_error_metrics_are_one_minus_accuracy() -> None:
    spec = spec_from_text(spec_text(LENET, claims="  - {id: e, kind: training, metric: top1_error, claimed: '30%', "
                                                  "dataset: flowers17, epochs: 1, where: x}\n"))
    found = training_claim(spec.doc.claims[0], _record(held_out=0.7), None)
    assert found.verdict == "holds" and found.measured == pytest.approx(0.3)


def test_other_data_or_schedule_is_unverifiable_with_what_it_takes() -> None:
    claim, _ = _claims()
    digits = training_claim(claim, _record(data="digits"), None)
    assert digits.verdict == "unverifiable" and "trained on digits" in digits.detail
    assert "--data PATH-TO-FLOWERS17 --epochs 1" in digits.detail
    longer = training_claim(claim, _record(epochs=3.0), None)
    assert longer.verdict == "unverifiable" and "the claim's schedule is 1 epochs" in longer.detail
    none = training_claim(claim, None, None)
    assert none.verdict == "unverifiable" and "no training result is recorded" in none.detail


def test_without_epochs_in_the_claim_the_source_schedule_counts() -> None:
    spec = spec_from_text(spec_text(LENET, claims="  - {id: a, kind: training, metric: test_accuracy, claimed: '70%', "
                                                  "dataset: flowers17, where: x}\n"))
    claim = spec.doc.claims[0]
    assert training_claim(claim, _record(epochs=5.0), source_epochs=5).verdict == "holds"
    assert training_claim(claim, _record(epochs=5.0), source_epochs=1).verdict == "unverifiable"
    assert "neither the claim nor the source" in training_claim(claim, _record(), source_epochs=None).detail


def test_mnist_claim_after_a_mnist5k_run_stays_unverifiable_and_says_what_the_subset_reached() -> None:
    claims = ("  - {id: acc, kind: training, metric: test_accuracy, claimed: '99.2%', dataset: mnist, epochs: 10, where: x}\n"
              "  - {id: err, kind: training, metric: top1_error, claimed: '0.8%', dataset: mnist, epochs: 10, where: x}\n")
    accuracy, error = spec_from_text(spec_text(LENET, claims=claims)).doc.claims
    # The record: 4,000 training images, 10 epochs of 62 steps, 263 of 272 held-out images right.
    record = _record(data="mnist5k", epochs=10.0, held_out=263 / 272).model_copy(update={
        "data": _record().data.model_copy(update={"name": "mnist5k", "train_images": 4000, "held_out": "every 5th image"}),
        "schedule": _record().schedule.model_copy(update={"steps": 620, "epochs": 10.0})})
    found = training_claim(accuracy, record, source_epochs=10)
    assert found.verdict == "unverifiable" and found.measured is None
    assert ("the recorded run trained on mnist5k, 4,000 images of a subset of mnist, for 10 epochs (620 steps, converges): "
            "it reached 96.7% held-out accuracy on 272 held-out images (every 5th image)") in found.detail  # 263/272 = 0.9669
    assert "a run on a subset is not a run on mnist" in found.detail and "--data PATH-TO-MNIST --epochs 10" in found.detail
    wrong = training_claim(error, record, source_epochs=10)
    assert wrong.measured is None and "it reached 3.3% held-out top-1 error" in wrong.detail  # 9/272 = 0.0331
    # A claim on another data set is not helped by the subset.
    other = training_claim(_claims()[0], record, None)
    assert other.verdict == "unverifiable" and "reached" not in other.detail and "trained on mnist5k" in other.detail


# ---------------------------------------------------------------- through the audit


def test_audit_reads_recorded_runs(write_spec: Callable[..., Path], tmp_path: Path) -> None:
    path = write_spec(spec_text(LENET, claims=TRAINING_CLAIM + SPEEDUP_CLAIM))
    runs = tmp_path / "training"
    runs.mkdir()
    (runs / "t.json").write_text(record_json(_record(experiments=[_experiment()])), encoding="utf-8")
    verdicts = {c.id: c.verdict.value for c in audit_paths([path], training_dir=runs).audits[0].claims}
    assert verdicts == {"acc": "holds", "fast": "holds"}
    plain = {c.id: c.verdict.value for c in audit_paths([path]).audits[0].claims}
    assert plain == {"acc": "unverifiable", "fast": "unverifiable"}


def test_unreadable_record_is_bad_input(write_spec: Callable[..., Path], tmp_path: Path) -> None:
    path = write_spec(spec_text(LENET, claims=TRAINING_CLAIM))
    runs = tmp_path / "training"
    runs.mkdir()
    (runs / "t.json").write_text('{"spec": "t"}', encoding="utf-8")
    run = audit_paths([path], training_dir=runs)
    assert run.exit_code == 2 and run.broken[0].path == str(runs / "t.json")
    assert run.audits[0].claims[0].verdict.value == "unverifiable"


def test_record_round_trips_non_finite_losses(tmp_path: Path) -> None:
    record = _record().model_copy(update={"curves": _record().curves.model_copy(update={"loss": [2.0, math.nan, math.inf]})})
    path = tmp_path / "r.json"
    path.write_text(record_json(record), encoding="utf-8")
    text = path.read_text()
    assert json.loads(text, parse_constant=lambda c: pytest.fail(f"bare {c} in the JSON"))["curves"]["loss"] == [2.0, "NaN", "Infinity"]
    loss = load_record(path).curves.loss
    assert loss[0] == 2.0 and math.isnan(loss[1]) and loss[2] == math.inf
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(AuditError, match="not a training record"):
        load_record(path)


# ---------------------------------------------------------------- the command

TINY = spec_text("  - {kind: flatten}\n  - {kind: linear, name: fc1, out_features: 16}\n  - {kind: relu}\n"
                 "  - {kind: linear, name: fc2, out_features: 10}\n", input="[1, 8, 8]")


def test_train_command_writes_json_and_png(write_spec: Callable[..., Path], tmp_path: Path) -> None:
    path = write_spec(TINY)
    out = tmp_path / "runs"
    result = runner.invoke(app, ["train", str(path), "--steps", "40", "--budget", "20", "--device", "cpu", "--out", str(out)])
    assert result.exit_code in (0, 1), result.output
    record = load_record(out / "t.json")
    assert record.spec == "t" and record.schedule.requested_steps == 40 and record.data.name == "digits"
    assert (out / "t.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert f"t: {record.verdict}" in result.stdout


def test_train_command_bad_data_path_is_exit_2(write_spec: Callable[..., Path], tmp_path: Path) -> None:
    path = write_spec(TINY)
    result = runner.invoke(app, ["train", str(path), "--data", str(tmp_path / "missing"), "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert result.stderr.strip().count("\n") == 0 and "no such data set" in result.stderr


def test_a_mnist5k_run_takes_ten_epochs_by_default() -> None:
    record = train_spec(spec_from_text(TINY), TrainOptions(data="mnist5k", budget_s=1, device="cpu"))
    # No training block: batch 32; 4,000 training images make 4,000 // 32 = 125 steps an epoch, 10 epochs 1,250.
    assert record.settings.batch_size == 32 and record.schedule.requested_steps == 1250
    assert (record.data.name, record.data.train_images, record.data.classes) == ("mnist5k", 4000, 10)
    assert record.data.stored_shape == [1, 28, 28] and record.data.input == [1, 8, 8]
    assert record.data.held_out.startswith("every 5th image of each class")


def test_train_command_names_the_data_set_a_typo_meant(write_spec: Callable[..., Path], tmp_path: Path) -> None:
    result = runner.invoke(app, ["train", str(write_spec(TINY)), "--data", "mnist5", "--out", str(tmp_path)])
    assert result.exit_code == 2 and result.stderr.strip().count("\n") == 0
    assert "--data: no such data set" in result.stderr and "did you mean mnist5k?" in result.stderr


def test_train_command_refuses_steps_with_epochs(write_spec: Callable[..., Path]) -> None:
    result = runner.invoke(app, ["train", str(write_spec(TINY)), "--steps", "5", "--epochs", "1"])
    assert result.exit_code == 2 and "not both" in result.stderr


def test_train_command_without_cuda_refuses_device_cuda(write_spec: Callable[..., Path], monkeypatch: pytest.MonkeyPatch,
                                                         tmp_path: Path) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    result = runner.invoke(app, ["train", str(write_spec(TINY)), "--device", "cuda", "--out", str(tmp_path)])
    assert result.exit_code == 2 and "no CUDA device is available" in result.stderr
    assert not (tmp_path / "t.json").exists()
