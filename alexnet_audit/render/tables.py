"""The compare and inspect tables as data frames, written as CSV or markdown (pandas)."""

from __future__ import annotations

import pandas as pd

from ..audit import AuditRun, SpecAudit
from ..claims import Verdict
from ..layers import shape_hwc
from .safe import markdown_text, plain
from .rows import layer_rows


def compare_frame(run: AuditRun) -> pd.DataFrame:
    """One row per spec: its input, totals and verdict counts."""
    rows = []
    for a in run.audits:
        t = a.analysis.totals
        rows.append({"spec": a.spec.id, "input (HxWxC)": shape_hwc(tuple(a.spec.doc.input)), "params": t.trainable_params,
                     "non-trainable params": t.non_trainable_params, "MACs": t.macs, "MACs complete": t.macs_complete,
                     "FLOPs": t.flops, "neurons": t.neurons, "connections": t.connections,
                     **{v.value: a.count(v) for v in Verdict}})
    return pd.DataFrame(rows)


def layers_frame(audit: SpecAudit) -> pd.DataFrame:
    """One row per layer, as `inspect` shows it, with whole numbers as numbers."""
    frame = pd.DataFrame(layer_rows(audit))
    for col in ("params", "receptive field", "effective stride"):
        frame[col] = [int(v.replace(",", "")) for v in frame[col]]
    frame["MACs"] = [lr.macs for lr in audit.analysis.layers]
    frame["MACs complete"] = [not lr.uncounted_ops for lr in audit.analysis.layers]
    return frame


def to_csv(frame: pd.DataFrame) -> str:
    return frame.map(lambda v: plain(v) if isinstance(v, str) else v).to_csv(index=False)


def to_markdown(frame: pd.DataFrame) -> str:
    """A markdown table; text cells escaped so no spec text forms a link, image or HTML."""
    safe = frame.map(lambda v: markdown_text(v) if isinstance(v, str) else v)
    return safe.to_markdown(index=False, intfmt=",") + "\n"
