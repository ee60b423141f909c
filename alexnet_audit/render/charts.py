"""Bar charts as PNG bytes: per-layer parameters and MACs of one spec, and all specs compared.

Byte-identical on every regeneration with the same matplotlib: no pyplot state (a bare
`Figure` on the Agg canvas), matplotlib's default style whatever the user's matplotlibrc, a
fixed font, size and dpi, and no "Software" metadata (it carries matplotlib's version).
matplotlib (0.8 s) is imported where a chart is drawn, not with the markdown renderer.
"""

from __future__ import annotations

import io
from contextlib import contextmanager
from typing import TYPE_CHECKING, Iterator, Sequence

from ..results import Analysis
from .formatting import human

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

DPI = 100
WIDTH_IN = 10.0
ROW_IN = 0.28  # height per bar row
COLOURS = ("#4c72b0", "#dd8452")


@contextmanager
def _style() -> Iterator[None]:
    """matplotlib's defaults, whatever the user's matplotlibrc says, with a fixed font and sizes."""
    import matplotlib
    import matplotlib.style

    with matplotlib.style.context("default"), matplotlib.rc_context(
            {"font.family": "DejaVu Sans", "font.size": 9.0, "axes.titlesize": 10.0}):
        yield


def _png(fig: Figure) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, metadata={"Software": None})
    return buf.getvalue()


def _bars(ax: Axes, labels: Sequence[str], values: Sequence[int], title: str, colour: str) -> None:
    ys = list(range(len(labels)))
    ax.barh(ys, values, color=colour)
    ax.set_yticks(ys, labels=labels)
    ax.set_title(title)
    top = max(values, default=0) or 1
    ax.set_xlim(0, top * 1.25)  # room for the value labels
    for y, v in zip(ys, values):
        ax.text(v + top * 0.01, y, human(v), va="center")
    ax.xaxis.set_major_formatter(lambda v, _pos: _tick(v))
    ax.grid(axis="x", alpha=0.3)


def _tick(v: float) -> str:
    for unit, size in (("G", 1e9), ("M", 1e6), ("K", 1e3)):
        if abs(v) >= size:
            return f"{v / size:g}{unit}"
    return f"{v:g}"


def _pair(rows: int) -> tuple[Figure, Axes, Axes]:
    """Two panels side by side sharing the rows, the first row on top as in the tables."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(WIDTH_IN, 1.2 + ROW_IN * max(rows, 1)), dpi=DPI, layout="constrained")
    left, right = fig.subplots(1, 2, sharey=True)
    left.invert_yaxis()  # shared: inverting once turns both
    return fig, left, right


def layer_chart(analysis: Analysis) -> bytes:
    """Parameters and MACs of every layer that has either (conv, linear, BatchNorm, ...)."""
    layers = [lr for lr in analysis.layers if lr.params or lr.macs]
    with _style():
        fig, left, right = _pair(len(layers))
        labels = [lr.name for lr in layers]
        _bars(left, labels, [lr.params for lr in layers], "trainable parameters", COLOURS[0])
        _bars(right, labels, [lr.macs for lr in layers], "MACs (fvcore)", COLOURS[1])
        fig.suptitle(f"{analysis.spec.id}: parameters and MACs per layer")
        return _png(fig)


def comparison_chart(analyses: Sequence[Analysis]) -> bytes:
    """Total parameters and MACs of every spec, one bar each."""
    with _style():
        fig, left, right = _pair(len(analyses))
        labels = [a.spec.id for a in analyses]
        _bars(left, labels, [a.totals.trainable_params for a in analyses], "trainable parameters", COLOURS[0])
        _bars(right, labels, [a.totals.macs for a in analyses], "MACs (fvcore)", COLOURS[1])
        fig.suptitle("all specs: parameters and MACs")
        return _png(fig)
