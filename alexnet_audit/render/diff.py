"""Rich views of the two comparisons in compare.py: code vs prose, and each spec against the
2012 paper. They return rich objects; the CLI prints them."""

from __future__ import annotations

from typing import Sequence

from rich.console import Group
from rich.table import Table
from rich.text import Text

from ..audit import AuditRun
from ..compare import PAPER_ID, Deviation, SpecDiff, counterpart_diffs, run_deviations
from ..layers import shape_hwc

STATUS_STYLE = {"keeps": "green", "drops": "bold red", "adds": "yellow", "replaces": "yellow", "changes": "yellow"}


def _signed(value: int) -> Text:
    return Text(f"{value:+,}" if value else "0", style="red" if value else "dim")


def diff_table(d: SpecDiff) -> Table:
    """Two readings of one network, layer by layer: where they part and what it does downstream."""
    caption = f"input {d.inputs.left} → {d.inputs.right}; " if d.inputs else ""
    caption = "the two readings build the same network; " if d.identical else caption
    table = Table(title=f"{d.left} → {d.right}", caption=caption + "Δ = right − left; a row is a conv/linear layer "
                  "with the layers after it", show_lines=True)
    for col, justify in (("left", "left"), ("right", "left"), ("where they part", "left"), ("output", "left"),
                         ("params", "right"), ("Δ params", "right"), ("MACs", "right"), ("Δ MACs", "right")):
        table.add_column(col, justify=justify, overflow="fold")  # type: ignore[arg-type]
    for r in d.rows:
        parts = "\n".join(f"{p.what}: {p.left} → {p.right}" for p in r.parts)
        table.add_row(
            r.left.name if r.left else "—", r.right.name if r.right else "—", Text(parts or "same", style="" if parts else "dim"),
            f"{shape_hwc(r.left.output_shape) if r.left else '—'} → {shape_hwc(r.right.output_shape) if r.right else '—'}",
            f"{r.left.params if r.left else 0:,} → {r.right.params if r.right else 0:,}", _signed(r.d_params),
            f"{r.left.macs if r.left else 0:,} → {r.right.macs if r.right else 0:,}", _signed(r.d_macs),
        )
    totals = {t.what: t for t in d.totals}
    p, m = totals["params"], totals["MACs"]
    table.add_row(Text("total", style="bold"), "", "", "", f"{p.left:,} → {p.right:,}", _signed(p.delta),
                  f"{m.left:,} → {m.right:,}", _signed(m.delta))
    return table


def code_vs_prose_view(run: AuditRun) -> Group:
    """The code-vs-prose diff of every post in the run that has two readings (empty if none)."""
    return Group(*(diff_table(d) for d in counterpart_diffs(run)))


def deviations_table(rows: Sequence[tuple[str, tuple[Deviation, ...]]]) -> Table:
    """Features of the 2012 network (rows) and what each spec does with them (columns)."""
    table = Table(title=f"against the 2012 paper ({PAPER_ID})", show_lines=True)
    table.add_column("feature", style="bold")
    table.add_column("2012 paper", overflow="fold")
    for spec_id, _ in rows:
        table.add_column(spec_id, overflow="fold")
    if not rows:
        return table
    for i, first in enumerate(rows[0][1]):
        cells = []
        for _, devs in rows:
            d = devs[i]
            cell = Text(d.status, style=STATUS_STYLE[d.status])
            if d.status != "keeps":
                cell.append(f"\n{d.spec}", style="")
            cells.append(cell)
        table.add_row(first.feature, first.paper, *cells)
    return table


def paper_deviations_view(run: AuditRun) -> Table | Text:
    """Each spec of the run against the paper's network; a note when the run lacks the paper's spec."""
    if not any(a.spec.id == PAPER_ID for a in run.audits):
        return Text(f"(deviations from the 2012 paper need {PAPER_ID} among the specs)", style="dim")
    return deviations_table(run_deviations(run))
