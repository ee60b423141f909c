"""Each layer's figures as plain text cells, the one source the terminal, CSV and markdown tables share.

The cells are text as written, never markup and never escaped: each renderer makes them safe for
its own format (render/safe.py) and styles them its own way.
"""

from __future__ import annotations

from ..audit import SpecAudit
from ..layers import shape_hwc
from .formatting import pair_text

# Every column of a layer row, in the order `inspect` shows them.
LAYER_COLUMNS = ("layer", "kind", "stage", "output (HxWxC)", "kernel", "stride", "padding", "params", "MACs",
                 "receptive field", "effective stride")
# Whole numbers (and shapes), right-aligned in every table.
NUMERIC_COLUMNS = ("output (HxWxC)", "params", "MACs", "receptive field", "effective stride")
# After a layer's MACs: the convention leaves some of its arithmetic out (render notes name it).
UNCOUNTED_MARK = "*"


def layer_rows(audit: SpecAudit) -> list[dict[str, str]]:
    """Each layer's figures as plain text, keyed by LAYER_COLUMNS; a window a layer does not have is empty."""
    written = {layer.name: layer.spec for layer in audit.spec.layers}
    rows = []
    for lr in audit.analysis.layers:
        spec = written.get(lr.name)
        rows.append({
            "layer": lr.name, "kind": lr.kind, "stage": lr.stage or "", "output (HxWxC)": shape_hwc(lr.output_shape),
            "kernel": pair_text(getattr(spec, "kernel", None)), "stride": pair_text(getattr(spec, "stride", None)),
            "padding": pair_text(getattr(spec, "padding", None)),
            "params": f"{lr.params:,}", "MACs": f"{lr.macs:,}" + (UNCOUNTED_MARK if lr.uncounted_ops else ""),
            "receptive field": str(lr.receptive_field), "effective stride": str(lr.effective_stride),
        })
    return rows


def total_row(audit: SpecAudit) -> dict[str, str]:
    """The totals under the layers, keyed as the layer rows; the columns a total has no figure for are empty."""
    t = audit.analysis.totals
    figures = {"layer": "total", "params": f"{t.trainable_params:,}", "MACs": f"{t.macs:,}"}
    return {col: figures.get(col, "") for col in LAYER_COLUMNS}


def has_stages(audit: SpecAudit) -> bool:
    """Whether any layer belongs to a stage: without one the stage column is left out."""
    return any(lr.stage for lr in audit.analysis.layers)
