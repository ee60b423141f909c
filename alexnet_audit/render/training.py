"""The terminal summary of one training run."""

from __future__ import annotations

from pathlib import Path

from rich.text import Text

from ..train.findings import band_outcome, describe_result, describe_seed
from ..train.record import TrainingRecord
from .safe import terminal_text


def training_summary(record: TrainingRecord, json_path: Path, png_path: Path) -> Text:
    """A few lines: the verdict, its cause, each check and experiment; spec text shown literally."""
    style = "green" if record.verdict == "converges" else "bold red"
    s = record.schedule
    text = Text.assemble(terminal_text(record.spec, "bold"), ": ", (record.verdict, style))
    text.append(terminal_text(f" — {record.data.name}, {s.steps} steps ({s.epochs:.2f} epochs, stopped by {s.stopped_by}), "
                              f"{s.images_per_s:,.0f} img/s on {record.settings.device}, {record.seconds:.1f} s in all"))
    lines = []
    if record.cause:
        lines.append(f"  likely cause: {record.cause}")
    lines += [f"  {'✓' if c.passed else '✗'} {c.name}: {c.detail}" for c in record.checks]
    for e in record.experiments:
        lines.append(f"  ReLU vs {e.baseline} to {e.target_error:.0%} training error on {e.data}: {describe_result(e)}")
        lines += [f"    {describe_seed(s, e.baseline)}" for s in e.seeds]
        lines += [f"    claim {b.claim}: {band_outcome(e, b)}" for b in e.claims]
    lines.append(f"  wrote {json_path} and {png_path}")
    for line in lines:
        text.append("\n").append(terminal_text(line))
    return text
