"""Rich views of the two comparisons in compare.py: code vs prose, and each spec against the
2012 paper. They return rich objects that fit the width given; the CLI prints them. A section
that does not apply to the run (no post with two readings, no paper spec, no AlexNet) is left out.
"""

from __future__ import annotations

from functools import partial
from typing import Sequence

from rich.console import Group
from rich.table import Table
from rich.text import Text

from ..audit import AuditRun
from ..compare import PAPER_ID, AlignedLayer, Deviation, SpecDiff, counterpart_diffs, run_deviations
from ..layers import shape_hwc
from .layout import chunks, first_fitting
from .safe import terminal_text

STATUS_STYLE = {"keeps": "green", "drops": "bold red", "adds": "yellow", "replaces": "yellow", "changes": "yellow"}


def _signed(value: int) -> Text:
    return Text(f"{value:+,}" if value else "0", style="red" if value else "dim")


def _row_cells(r: AlignedLayer) -> dict[str, Text]:
    parts = Text("\n").join(terminal_text(f"{p.what}: {p.left} → {p.right}") for p in r.parts)
    return {
        "left": terminal_text(r.left.name if r.left else "—"), "right": terminal_text(r.right.name if r.right else "—"),
        "where they part": parts if r.parts else Text("same", style="dim"),
        "output": Text(f"{shape_hwc(r.left.output_shape) if r.left else '—'} → {shape_hwc(r.right.output_shape) if r.right else '—'}"),
        "params": Text(f"{r.left.params if r.left else 0:,} → {r.right.params if r.right else 0:,}"), "Δ params": _signed(r.d_params),
        "MACs": Text(f"{r.left.macs if r.left else 0:,} → {r.right.macs if r.right else 0:,}"), "Δ MACs": _signed(r.d_macs),
    }


def _caption(d: SpecDiff) -> str:
    caption = f"input {d.inputs.left} → {d.inputs.right}; " if d.inputs else ""
    caption = "the two readings build the same network; " if d.identical else caption
    return caption + "Δ = right − left; a row is a conv/linear layer with the layers after it"


def _total_cells(d: SpecDiff) -> dict[str, Text]:
    totals = {t.what: t for t in d.totals}
    p, m = totals["params"], totals["MACs"]
    return {"left": Text("total", style="bold"), "right": Text(""), "where they part": Text(""), "output": Text(""),
            "params": Text(f"{p.left:,} → {p.right:,}"), "Δ params": _signed(p.delta),
            "MACs": Text(f"{m.left:,} → {m.right:,}"), "Δ MACs": _signed(m.delta)}


_DIFF_COLUMNS = ("left", "right", "where they part", "output", "params", "Δ params", "MACs", "Δ MACs")


def diff_table(d: SpecDiff) -> Table:
    """Two readings of one network, layer by layer: where they part and what it does downstream."""
    table = Table(title=terminal_text(f"{d.left} → {d.right}"), caption=terminal_text(_caption(d)), show_lines=True)
    for col in _DIFF_COLUMNS:
        table.add_column(col, justify="right" if col.startswith("Δ") else "left", overflow="fold" if col == "where they part" else "ellipsis")
    for cells in [_row_cells(r) for r in d.rows] + [_total_cells(d)]:
        table.add_row(*[cells[c] for c in _DIFF_COLUMNS])
    return table


def diff_blocks(d: SpecDiff) -> Table:
    """The same diff with each row's figures stacked, for terminals too narrow for eight columns."""
    table = Table(title=terminal_text(f"{d.left} → {d.right}"), caption=terminal_text(_caption(d)), show_lines=True,
                  show_header=False)
    table.add_column("", overflow="fold")
    table.add_column("", overflow="fold")
    for cells in [_row_cells(r) for r in d.rows] + [_total_cells(d)]:
        head = Text.assemble(cells["left"], " → ", cells["right"]) if cells["right"].plain else cells["left"]
        body = Text("\n").join([Text.assemble((f"{k}: ", "dim"), cells[k]) for k in _DIFF_COLUMNS[2:] if cells[k].plain])
        table.add_row(head, body)
    return table


def code_vs_prose_view(run: AuditRun, width: int = 120) -> Group:
    """The code-vs-prose diff of every post in the run that has two readings (empty if none)."""
    return Group(*(first_fitting(width, partial(diff_table, d), partial(diff_blocks, d)) for d in counterpart_diffs(run)))


def deviations_table(rows: Sequence[tuple[str, tuple[Deviation, ...]]]) -> Table:
    """Features of the 2012 network (rows) and what each spec does with them (columns)."""
    table = Table(title=f"against the 2012 paper ({PAPER_ID})", show_lines=True)
    table.add_column("feature", style="bold")
    table.add_column("2012 paper", overflow="fold")
    for spec_id, _ in rows:
        table.add_column(terminal_text(spec_id), overflow="fold")
    if not rows:
        return table
    for i, first in enumerate(rows[0][1]):
        cells = []
        for _, devs in rows:
            d = devs[i]
            cell = Text(d.status, style=STATUS_STYLE[d.status])
            if d.status != "keeps":
                cell.append("\n").append(terminal_text(d.spec))
            cells.append(cell)
        table.add_row(terminal_text(first.feature), terminal_text(first.paper), *cells)
    return table


def paper_deviations_view(run: AuditRun, width: int = 120) -> Group:
    """Each AlexNet of the run against the paper's network, as many per table as fit `width`;
    nothing when the run lacks the paper's spec or another AlexNet."""
    rows = run_deviations(run)
    return Group(*chunks(rows, width, deviations_table)) if rows else Group()
