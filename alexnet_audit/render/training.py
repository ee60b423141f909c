"""The terminal summary of one training run."""

from __future__ import annotations

from pathlib import Path

from ..train.record import TrainingRecord


def training_summary(record: TrainingRecord, json_path: Path, png_path: Path) -> str:
    """A few lines of rich markup: the verdict, its cause, each check and experiment."""
    style = "green" if record.verdict == "converges" else "bold red"
    s = record.schedule
    lines = [f"[bold]{record.spec}[/]: [{style}]{record.verdict}[/] — {record.data.name}, {s.steps} steps "
             f"({s.epochs:.2f} epochs, stopped by {s.stopped_by}), {s.images_per_s:,.0f} img/s on {record.settings.device}, "
             f"{record.seconds:.1f} s in all"]
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
    return "\n".join(lines)
