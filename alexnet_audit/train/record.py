"""The training result file (reports/training/<spec-id>.json): written by `train`, read by the audit.

A pydantic model because it crosses an edge twice: out to disk, and back in from a file anyone
may have edited. Non-finite losses are written as the strings "NaN" / "Infinity". A record
written under older verdict rules (no `rules`, or a lower one) is re-judged on reading by
today's rules from its own figures, saying so in `rejudged`; the file itself is left as it is.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal

from pydantic import ConfigDict, Field, ValidationError, computed_field, model_validator

from ..bounded_read import read_bounded
from ..errors import AuditError
from ..strict import Frozen
from .speedup import SPREAD, Bounds, median_of, ratio_bounds, spread_of
from .verdict import (
    NOT_A_VETO,
    RULES,
    Check,
    Evidence,
    Memorisation,
    Verdict,
    judge,
    smaller_batch,
    verdict_line,
)

# A record is read back from a file anyone may edit: every figure is bounded, so a 5,000-digit
# integer or a 100 MB string never reaches the renderers (which format them).
MAX_RECORD_BYTES = 64 << 20
Count = Annotated[int, Field(ge=0, le=10**12)]
SEED_LIMIT = 2**63  # torch's generators take a signed 64-bit seed
Seed = Annotated[int, Field(ge=0, lt=SEED_LIMIT)]
Real = Annotated[float, Field(allow_inf_nan=False, ge=-1e12, le=1e12)]
Fraction01 = Annotated[float, Field(allow_inf_nan=False, ge=0, le=1)]
Short = Annotated[str, Field(max_length=2000)]
Dims = Annotated[list[Annotated[int, Field(ge=1, le=1 << 20)]], Field(max_length=4)]


class _Record(Frozen):
    # A diverged run's losses are NaN or infinite: they are kept, written as strings.
    model_config = ConfigDict(allow_inf_nan=True, ser_json_inf_nan="strings")


class DataInfo(_Record):
    name: Short  # digits | shapes | cifar10 | mnist | flowers17 | flowers5 | imagefolder
    source: Short
    classes: Count
    train_images: Count
    held_out_images: Count  # evaluated (an even spread over the held-out part when it is larger)
    held_out: Short  # what the held-out part is
    stored_shape: Dims  # one image as stored (C, h, w), before the batch transform
    input: Dims  # the network's input (C, H, W)


class Settings(_Record):
    optimizer: Literal["adam", "sgd"]
    lr: Real
    momentum: Real
    weight_decay: Real
    batch_size: Count
    loss: Literal["cross_entropy", "nll_of_softmax"]
    from_source: bool  # False: the spec states no training settings and these are the defaults
    where: Short | None
    seed: Seed
    device: Short
    precision: Literal["bf16 autocast", "fp32"]
    channels_last: bool
    compiled: bool
    batchnorm_recalibrated_on: Count  # training images; 0: no BatchNorm
    # Processes that trained together (DDP); batch_size is per process, a step's global batch
    # batch_size x world_size. Records from before DDP lack it: they ran alone.
    world_size: Annotated[int, Field(ge=1, le=1 << 20)] = 1


class Schedule(_Record):
    steps: Count
    requested_steps: Count
    epochs: Real  # steps x batch size / training images
    stopped_by: Literal["steps", "budget", "non-finite", "target"]
    seconds: Real
    images_per_s: Real  # of all processes together
    images_drawn: Count | None = None  # distinct training images the run drew (all processes); None in older records


class Metrics(_Record):
    train_accuracy: Fraction01  # mean batch accuracy over the last epoch's steps (or all, if fewer), as Keras reports it
    held_out_accuracy: Fraction01
    held_out_top5_accuracy: Fraction01
    held_out_correct: Count
    held_out_n: Count
    chance: Fraction01


class CheckRecord(_Record):
    name: Short
    passed: bool | None  # None: an observation (the shape of the loss curve, a check the record predates)
    detail: Short


class SeedRace(_Record):
    """One seed's race: both activations from the same initial weights and batch order."""

    seed: Seed | None  # None: a record from before seeds were counted, which did not write it
    relu_steps: Annotated[int, Field(ge=1, le=10**12)] | None  # steps to the target; None: not reached in relu_steps_run
    baseline_steps: Annotated[int, Field(ge=1, le=10**12)] | None
    relu_steps_run: Count
    baseline_steps_run: Count

    @model_validator(mode="after")
    def _reached_within_the_run(self) -> "SeedRace":
        for reached, run, name in ((self.relu_steps, self.relu_steps_run, "relu"),
                                   (self.baseline_steps, self.baseline_steps_run, "baseline")):
            if reached is not None and reached > run:
                raise ValueError(f"{name}_steps: {reached} steps to the target, more than the {run} run")
        return self

    @property
    def bounds(self) -> Bounds:
        return ratio_bounds(self.relu_steps, self.baseline_steps, self.relu_steps_run, self.baseline_steps_run)


class SpeedupBand(_Record):
    """A speedup claim the experiment was run for, and whether its run can judge it."""

    claim: Short  # the claim's id
    claimed: Real
    tolerance: Real  # the precision the figure is written with
    dataset: Short  # the claim's data set
    judges_claim: bool  # False: the run's data is not the claim's, so it measures nothing of the claim


# A record from before seeds were counted: one race, its figures at the top level.
_SINGLE_RACE = ("relu_steps", "baseline_steps", "relu_steps_run", "baseline_steps_run")


class Departure(_Record):
    """One way the run differs from the source's recipe, and why."""

    what: Short  # data set, input, optimiser, learning rate, steps, precision, ...
    source: Short  # what the source does ("not stated" where it is silent)
    here: Short
    why: Short


class Recipe(_Record):
    """What `train` will do, fixed before it starts (and printed then)."""

    data: Short  # the data set and where it comes from
    split: Short  # training and held-out images, and how they were split
    steps: Count
    epochs: Real  # what the steps make on this data set
    batch_size: Count  # per process
    optimizer: Short  # with its momentum and weight decay
    lr: Real
    device: Short
    precision: Short
    world_size: Count
    budget_s: Real  # the whole command for this spec
    memorise_steps: Count  # the memorisation check's share of the steps
    departures: Annotated[list[Departure], Field(max_length=100)]


class ExperimentRecord(_Record):
    """ReLU against a saturating baseline, over seeds: steps until the training error reaches `target_error`."""

    baseline: Literal["tanh", "sigmoid"]
    target_error: Fraction01
    data: Short
    window: Count  # training error = mean error of the last `window` batches
    seeds: Annotated[list[SeedRace], Field(min_length=1, max_length=1000)]
    seeds_not_run: Annotated[list[Seed], Field(max_length=1000)] = []  # the budget was spent before their turn
    claims: Annotated[list[SpeedupBand], Field(max_length=100)] = []

    @model_validator(mode="before")
    @classmethod
    def _read_older_forms(cls, data: object) -> object:
        if not isinstance(data, dict):
            return data
        # The computed fields are derived from the seeds: written for readers, recomputed (never
        # trusted) when a record is read.
        data = {k: v for k, v in data.items() if k not in cls.model_computed_fields}
        if "seeds" not in data and all(k in data for k in _SINGLE_RACE):
            data["seeds"] = [{"seed": None, **{k: data.pop(k) for k in _SINGLE_RACE}}]
            data.pop("ratio", None)
            data.pop("ratio_at_least", None)
        return data

    @model_validator(mode="after")
    def _bands_name_their_data(self) -> "ExperimentRecord":
        for band in self.claims:
            if band.judges_claim != (band.dataset == self.data):
                raise ValueError(f"claims: {band.claim}: judges_claim must say whether {band.dataset} is the run's data")
        return self

    @property
    def median(self) -> Bounds:
        return median_of([s.bounds for s in self.seeds])

    @property
    def spread_bounds(self) -> Bounds:
        return spread_of([s.bounds for s in self.seeds])

    # mypy allows no decorator over @property; pydantic spells a computed field so.
    @computed_field  # type: ignore[prop-decorator]
    @property
    def median_low(self) -> float:
        return self.median.low

    @computed_field  # type: ignore[prop-decorator]
    @property
    def median_high(self) -> float | None:
        return self.median.high

    @computed_field  # type: ignore[prop-decorator]
    @property
    def spread(self) -> str:
        return SPREAD

    @computed_field  # type: ignore[prop-decorator]
    @property
    def spread_low(self) -> float:
        return self.spread_bounds.low

    @computed_field  # type: ignore[prop-decorator]
    @property
    def spread_high(self) -> float | None:
        return self.spread_bounds.high


class Curves(_Record):
    loss: Annotated[list[float], Field(max_length=10**7)]  # NaN and infinities stand for a diverged run
    train_accuracy: Annotated[list[Fraction01], Field(max_length=10**7)]


class TrainingRecord(_Record):
    tool: Short
    spec: Short
    date: Short
    torch: Short
    data: DataInfo
    settings: Settings
    schedule: Schedule
    metrics: Metrics
    verdict: Verdict
    cause: Short | None  # fails to converge / diverges: why; inconclusive: why it cannot tell yet
    settle: Short | None = None  # inconclusive: what would settle it
    rules: Count = 1  # the verdict rules it was judged by (verdict.RULES); 1: before inconclusive and diverges
    rejudged: Short | None = None  # set on reading a record judged by older rules: what it said, and that it was re-judged
    recipe: Recipe | None = None  # absent in records written before the recipe was recorded
    checks: Annotated[list[CheckRecord], Field(max_length=100)]
    experiments: Annotated[list[ExperimentRecord], Field(max_length=100)]
    curves: Curves
    seconds: Real  # the whole command for this spec: data, memorisation, training, evaluation, experiments

    @property
    def line(self) -> str:
        """The verdict's one sentence, as the terminal, the chart title and the report show it."""
        return verdict_line(self.verdict, self.cause, self.settle)


def check_records(checks: tuple[Check, ...]) -> list[CheckRecord]:
    """A judgement's checks as the record writes them."""
    return [CheckRecord(name=c.name, passed=c.passed, detail=c.detail) for c in checks]


def record_json(record: TrainingRecord) -> str:
    return record.model_dump_json(indent=2) + "\n"


# The causes version 1 named from the network's activations: today's rules take them as the
# structural finding, the only probe evidence such a record holds.
_STRUCTURAL = ("exploding activations", "most ReLUs dead", "vanishing activations")


def _old_memorisation(record: TrainingRecord) -> Memorisation | None:
    """The memorisation check as a version-1 record words it, or None where it has none."""
    check = next((c for c in record.checks if c.name == "memorises one batch"), None)
    images = re.search(r"one batch of (\d+) images", check.detail) if check else None
    if check is None or images is None:
        return None
    at = re.search(r"(?:after|by step) (\d+)", check.detail) if check.passed else None
    ran = re.search(r" in (\d+) steps", check.detail)
    stopped = re.search(r"stopped by (\w[\w-]*)", check.detail)
    steps = int(at.group(1)) if at else int(ran.group(1)) if ran else 0
    return Memorisation(int(images.group(1)), record.settings.batch_size, steps if at else None, steps,
                        stopped.group(1) if stopped else "target" if at else "steps")


def rejudged(record: TrainingRecord) -> TrainingRecord:
    """`record` judged by today's rules from its own figures: its losses, held-out counts and
    chance, its memorisation check and the structural cause it named."""
    s, m = record.schedule, record.metrics
    structural = record.cause if record.cause and record.cause.startswith(_STRUCTURAL) else None
    memorisation = _old_memorisation(record)
    evidence = Evidence(tuple(record.curves.loss), s.stopped_by, s.requested_steps,
                        s.images_per_s / min(record.settings.batch_size, record.data.train_images or 1),
                        m.held_out_correct, m.held_out_n, m.chance, record.data.classes, memorisation, structural, None)
    j = judge(evidence)
    was = f"'{record.verdict}'" + (f" ({record.cause})" if record.cause else "")
    lacks = "" if memorisation is not None else "; it holds no memorisation check"
    note = (f"recorded as {was} by {record.tool} on {record.date[:10]} under version {record.rules} of the verdict rules; "
            f"re-judged by version {RULES} from the record's own figures{lacks}")
    old = {c.name: c.detail for c in record.checks}
    checks = check_records(j.checks)
    if memorisation is not None:  # in its own words: version 1 had more than one criterion for "memorised"
        veto = NOT_A_VETO if j.verdict == "converges" and memorisation.at is None else ""
        checks = [CheckRecord(name=c.name, passed=c.passed, detail=old[c.name] + smaller_batch(memorisation) + veto)
                  if c.name == "memorises one batch" else c for c in checks]
    return record.model_copy(update={"verdict": j.verdict, "cause": j.cause, "settle": j.settle, "rules": RULES,
                                     "rejudged": note, "checks": checks})


def load_record(path: Path) -> TrainingRecord:
    raw = read_bounded(path, MAX_RECORD_BYTES, "the training record")
    if len(raw) > MAX_RECORD_BYTES:
        raise AuditError(f"the training record is larger than {MAX_RECORD_BYTES} bytes", file=str(path))
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise AuditError(f"the training record is not UTF-8 text (byte {exc.start})", file=str(path)) from None
    try:
        record = TrainingRecord.model_validate_json(text)
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        field = ".".join(str(p) for p in err["loc"]) or None
        raise AuditError(f"not a training record: {err['msg']}", file=str(path), field=field) from None
    return record if record.rules >= RULES else rejudged(record)
