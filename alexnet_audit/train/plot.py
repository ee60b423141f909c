"""The loss and accuracy curves of a training record, as PNG bytes (matplotlib's Agg canvas,
no pyplot state). matplotlib is imported where the curves are drawn: the title alone needs none."""

from __future__ import annotations

import io
import math
import textwrap

from .record import TrainingRecord

SMOOTH = 10  # batches averaged in the accuracy curve
TITLE_WIDTH = 110  # characters a title line holds across the 10-inch figure at the medium font size


def _running_mean(values: list[float], k: int) -> list[float]:
    out, total = [], 0.0
    for i, v in enumerate(values):
        total += v - (values[i - k] if i >= k else 0.0)
        out.append(total / min(i + 1, k))
    return out


def chart_title(record: TrainingRecord) -> str:
    """The verdict's own line (wrapped to the figure's width), then what was run."""
    run = (f"{record.data.name}, {record.schedule.steps} steps, {record.settings.optimizer} lr {record.settings.lr:g}, "
           f"batch {record.settings.batch_size}, {record.settings.device}")
    return "\n".join(textwrap.wrap(f"{record.spec}: {record.line}", TITLE_WIDTH)) + f"\n{run}"


def curves_png(record: TrainingRecord) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10, 3.8), layout="constrained")
    FigureCanvasAgg(fig)
    loss_ax, acc_ax = fig.subplots(1, 2)
    steps = list(range(1, len(record.curves.loss) + 1))
    loss = [v if math.isfinite(v) else math.nan for v in record.curves.loss]
    loss_ax.plot(steps, loss, lw=1)
    if any(v > 0 for v in loss):
        loss_ax.set_yscale("log")  # a loss of exactly 0 is left out of the curve
    loss_ax.set(xlabel="step", ylabel=f"training loss ({record.settings.loss.replace('_', ' ')})")
    acc_ax.plot(steps, _running_mean(record.curves.train_accuracy, SMOOTH), lw=1, label=f"training batches (mean of {SMOOTH})")
    acc_ax.axhline(record.metrics.held_out_accuracy, color="C1", ls="--",
                   label=f"held out after training ({record.metrics.held_out_n} images)")
    acc_ax.axhline(record.metrics.chance, color="grey", ls=":", label="chance (most frequent class)")
    acc_ax.set(xlabel="step", ylabel="accuracy", ylim=(0, 1))
    acc_ax.legend(loc="best", fontsize="small")
    fig.suptitle(chart_title(record), fontsize="medium")
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    return buffer.getvalue()
