"""The training result file (reports/training/<spec-id>.json): written by `train`, read by the audit.

A pydantic model because it crosses an edge twice: out to disk, and back in from a file anyone
may have edited. Non-finite losses are written as the strings "NaN" / "Infinity".
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from ..errors import AuditError


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, ser_json_inf_nan="strings")


class DataInfo(_Record):
    name: str  # digits | shapes | cifar10 | mnist | flowers17 | flowers5 | imagefolder
    source: str
    classes: int
    train_images: int
    held_out_images: int  # evaluated (an even spread over the held-out part when it is larger)
    held_out: str  # what the held-out part is
    stored_shape: list[int]  # one image as stored (C, h, w), before the batch transform
    input: list[int]  # the network's input (C, H, W)


class Settings(_Record):
    optimizer: Literal["adam", "sgd"]
    lr: float
    momentum: float
    weight_decay: float
    batch_size: int
    loss: Literal["cross_entropy", "nll_of_softmax"]
    from_source: bool  # False: the spec states no training settings and these are the defaults
    where: str | None
    seed: int
    device: str
    precision: Literal["bf16 autocast", "fp32"]
    channels_last: bool
    compiled: bool
    batchnorm_recalibrated_on: int  # training images; 0: no BatchNorm


class Schedule(_Record):
    steps: int
    requested_steps: int
    epochs: float  # steps x batch size / training images
    stopped_by: Literal["steps", "budget", "non-finite", "target"]
    seconds: float
    images_per_s: float


class Metrics(_Record):
    train_accuracy: float  # mean batch accuracy over the last epoch's steps (or all, if fewer), as Keras reports it
    held_out_accuracy: float
    held_out_top5_accuracy: float
    held_out_correct: int
    held_out_n: int
    chance: float


class CheckRecord(_Record):
    name: str
    passed: bool
    detail: str


class ExperimentRecord(_Record):
    """ReLU against a saturating baseline: steps until the training error reaches `target_error`."""

    baseline: Literal["tanh", "sigmoid"]
    target_error: float
    data: str
    window: int  # training error = mean error of the last `window` batches
    relu_steps: int | None  # None: not reached in relu_steps_run
    baseline_steps: int | None
    relu_steps_run: int
    baseline_steps_run: int
    ratio: float | None  # baseline_steps / relu_steps, when both reached the target
    ratio_at_least: float | None  # when only ReLU did: the baseline needs more than this ratio


class Curves(_Record):
    loss: list[float]
    train_accuracy: list[float]


class TrainingRecord(_Record):
    tool: str
    spec: str
    date: str
    torch: str
    data: DataInfo
    settings: Settings
    schedule: Schedule
    metrics: Metrics
    verdict: Literal["converges", "fails to converge"]
    cause: str | None
    checks: list[CheckRecord]
    experiments: list[ExperimentRecord]
    curves: Curves
    seconds: float  # the whole command for this spec: data, memorisation, training, evaluation, experiments


def record_json(record: TrainingRecord) -> str:
    return record.model_dump_json(indent=2) + "\n"


def load_record(path: Path) -> TrainingRecord:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise AuditError(f"cannot read the training record: {getattr(exc, 'strerror', None) or exc}", file=str(path)) from None
    try:
        return TrainingRecord.model_validate_json(text)
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        field = ".".join(str(p) for p in err["loc"]) or None
        raise AuditError(f"not a training record: {err['msg']}", file=str(path), field=field) from None
