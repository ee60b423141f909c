"""The terminal lines of one training run: its recipe before it starts, its verdict after."""

from __future__ import annotations

from pathlib import Path

from rich.text import Text

from ..train.findings import band_outcome, describe_result, describe_seed
from ..train.record import Recipe, TrainingRecord
from .safe import terminal_text

STYLES = {"converges": "green", "inconclusive": "yellow", "fails to converge": "bold red", "diverges": "bold red"}
MARKS = {True: "✓", False: "✗", None: "·"}


def _below(text: Text, lines: list[str]) -> Text:
    """`text` with each of `lines` after it on a line of its own, shown literally."""
    for line in lines:
        text.append("\n").append(terminal_text(line))
    return text


def recipe_text(spec_id: str, r: Recipe) -> Text:
    """What the run will do, and where and why it departs from the source's recipe."""
    text = Text.assemble(terminal_text(spec_id, "bold"), ": will train")
    lines = [
        f"  data: {r.data}; {r.split}",
        f"  schedule: {r.steps:,} steps ({r.epochs:.3g} epochs) of batch {r.batch_size} per process, world size "
        f"{r.world_size}; budget {r.budget_s:g} s; the memorisation check gets {r.memorise_steps:,} steps",
        f"  optimiser: {r.optimizer}, learning rate {r.lr:g}",
        f"  device: {r.device}, {r.precision}",
    ]
    if r.departures:
        lines.append("  departs from the source's recipe:")
        lines += [f"    {d.what}: source {d.source}; here {d.here}; why: {d.why}" for d in r.departures]
    return _below(text, lines)


def training_summary(record: TrainingRecord, json_path: Path, png_path: Path) -> Text:
    """The verdict's one line, then each check and experiment; spec text shown literally."""
    s, world, batch = record.schedule, record.settings.world_size, record.settings.batch_size
    device = record.settings.device if world == 1 else (f"{world} processes, each {record.settings.device} "
                                                        f"(batch {batch} each, {batch * world} a step)")
    text = Text.assemble(terminal_text(record.spec, "bold"), ": ", (record.verdict, STYLES[record.verdict]))
    text.append(terminal_text(record.line[len(record.verdict):]))
    lines = [f"  ({record.data.name}, {s.steps} steps, {s.epochs:.3g} epochs, stopped by {s.stopped_by}; "
             f"{s.images_per_s:,.0f} img/s on {device}, {record.seconds:.1f} s in all)"]
    if record.rejudged:
        lines.append(f"  {record.rejudged}")
    lines += [f"  {MARKS[c.passed]} {c.name}: {c.detail}" for c in record.checks]
    for e in record.experiments:
        lines.append(f"  ReLU vs {e.baseline} to {e.target_error:.0%} training error on {e.data}: {describe_result(e)}")
        lines += [f"    {describe_seed(s, e.baseline)}" for s in e.seeds]
        lines += [f"    claim {b.claim}: {band_outcome(e, b)}" for b in e.claims]
    lines.append(f"  wrote {json_path} and {png_path}")
    return _below(text, lines)
