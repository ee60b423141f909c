"""The terminal summary of one training run."""

from __future__ import annotations

from pathlib import Path

from rich.text import Text

from ..train.record import TrainingRecord
from .safe import terminal_text


def training_summary(record: TrainingRecord, json_path: Path, png_path: Path) -> Text:
    """A few lines: the verdict, its cause, each check and experiment; spec text shown literally."""
    style = "green" if record.verdict == "converges" else "bold red"
    s, world, batch = record.schedule, record.settings.world_size, record.settings.batch_size
    device = record.settings.device if world == 1 else (f"{world} processes, each {record.settings.device} "
                                                        f"(batch {batch} each, {batch * world} a step)")
    text = Text.assemble(terminal_text(record.spec, "bold"), ": ", (record.verdict, style))
    text.append(terminal_text(f" — {record.data.name}, {s.steps} steps ({s.epochs:.2f} epochs, stopped by {s.stopped_by}), "
                              f"{s.images_per_s:,.0f} img/s on {device}, {record.seconds:.1f} s in all"))
    lines = []
    if record.cause:
        lines.append(f"  likely cause: {record.cause}")
    lines += [f"  {'✓' if c.passed else '✗'} {c.name}: {c.detail}" for c in record.checks]
    for e in record.experiments:
        ratio = (f"ratio {e.ratio:.3g}" if e.ratio is not None else f"ratio at least {e.ratio_at_least:.3g}"
                 if e.ratio_at_least is not None else "no ratio: ReLU did not reach the target")
        lines.append(f"  ReLU vs {e.baseline} to {e.target_error:.0%} training error on {e.data}: ReLU "
                     f"{e.relu_steps or f'not in {e.relu_steps_run}'} steps, {e.baseline} "
                     f"{e.baseline_steps or f'not in {e.baseline_steps_run}'} steps; {ratio}")
    lines.append(f"  wrote {json_path} and {png_path}")
    for line in lines:
        text.append("\n").append(terminal_text(line))
    return text
