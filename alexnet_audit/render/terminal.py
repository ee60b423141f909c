"""Rich tables for the terminal: the comparison of many specs and one spec in full."""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text

from ..analysis import CONVENTION
from ..audit import AuditRun, SpecAudit
from ..claims import Verdict
from ..layers import shape_hwc
from .formatting import figure_text, human
from .safe import terminal_text

VERDICT_STYLE = {
    Verdict.HOLDS: "green", Verdict.FAILS: "bold red", Verdict.AMBIGUOUS: "yellow", Verdict.UNVERIFIABLE: "dim",
}


def _row_keys(audit: SpecAudit) -> list[str]:
    """The conv and linear layers: what every variant has and readers compare."""
    return [lr.name for lr in audit.analysis.layers if lr.kind in ("conv", "linear")]


def _cell(audit: SpecAudit, key: str) -> str:
    try:
        lr = audit.analysis.layer(key)
    except StopIteration:
        return ""
    stage = f" [{lr.stage}]" if lr.stage else ""
    return f"{shape_hwc(lr.output_shape)}{stage}\n{human(lr.params)} p · {human(lr.macs)} MACs"


def compare_table(run: AuditRun) -> Table:
    table = Table(title="alexnet-audit: specs side by side", show_lines=True)
    table.add_column("", style="bold")
    for audit in run.audits:
        table.add_column(audit.spec.id, overflow="fold")
    keys: list[str] = []
    for audit in run.audits:
        keys += [k for k in _row_keys(audit) if k not in keys]
    table.add_row("input (HxWxC)", *[shape_hwc(tuple(a.spec.doc.input)) for a in run.audits])
    for key in keys:
        table.add_row(key, *[_cell(a, key) for a in run.audits])
    totals = [a.analysis.totals for a in run.audits]
    table.add_row("params", *[f"{t.trainable_params:,}" + (f"\n+{t.non_trainable_params:,} BN stats" if t.non_trainable_params else "") for t in totals])
    table.add_row("MACs", *[f"{t.macs:,}" + ("" if t.macs_complete else " (incomplete)") for t in totals])
    table.add_row("FLOPs (= 2 x MACs)", *[f"{t.flops:,}" for t in totals])
    table.add_row("neurons", *[f"{t.neurons:,}" for t in totals])
    table.add_row("claims", *[_verdict_counts(a) for a in run.audits])
    return table


def _verdict_counts(audit: SpecAudit) -> Text:
    text = Text()
    for verdict in Verdict:
        n = audit.count(verdict)
        text.append(f"{n} {verdict.value}", style=VERDICT_STYLE[verdict] if n else "dim")
        if verdict != Verdict.UNVERIFIABLE:
            text.append("\n")
    return text


def layer_table(audit: SpecAudit) -> Table:
    table = Table(title=f"{audit.spec.id}: {audit.spec.doc.title}")
    for col, justify in (("layer", "left"), ("kind", "left"), ("stage", "left"), ("output (HxWxC)", "right"),
                         ("params", "right"), ("MACs", "right"), ("RF", "right"), ("stride", "right")):
        table.add_column(col, justify=justify)  # type: ignore[arg-type]
    for lr in audit.analysis.layers:
        table.add_row(lr.name, lr.kind, lr.stage or "", shape_hwc(lr.output_shape), f"{lr.params:,}",
                      f"{lr.macs:,}" + ("*" if lr.uncounted_ops else ""), str(lr.receptive_field), str(lr.effective_stride))
    t = audit.analysis.totals
    table.add_row("total", "", "", "", f"{t.trainable_params:,}", f"{t.macs:,}", "", "", style="bold")
    return table


def claims_table(audit: SpecAudit) -> Table:
    table = Table(title="claims", show_lines=True)
    for col in ("claim", "kind", "target", "claimed", "measured", "verdict", "why"):
        table.add_column(col, overflow="fold")
    for c in audit.claims:
        why = c.diagnosis or c.detail
        if c.readings:
            why = "; ".join(f"{r.label}: {r.verdict.value}" for r in c.readings) + f"\n{why}"
        claim = terminal_text(c.id)
        if c.quote:
            claim.append("\n")
            claim.append_text(terminal_text(f"“{c.quote}”", style="italic"))
        table.add_row(claim, c.kind, c.target or "", figure_text(c.claimed), figure_text(c.measured),
                      Text(c.verdict.value, style=VERDICT_STYLE[c.verdict]), why)
    return table


def notes(audit: SpecAudit) -> Text:
    t = audit.analysis.totals
    text = Text()
    text.append(f"MAC convention ({CONVENTION.name}): counts {CONVENTION.counted}; excludes {CONVENTION.excluded}. "
                f"{CONVENTION.flops}.\n", style="dim")
    text.append(f"non-trainable (BatchNorm statistics): {t.non_trainable_params:,} · neurons: {t.neurons:,} · "
                f"connections: {t.connections:,} · activations: {human(t.activation_bytes)}B per sample (fp32)\n")
    if audit.analysis.incomplete:
        text.append("MAC total incomplete, not counted: " + "; ".join(audit.analysis.incomplete) + "\n", style="yellow")
    for d in audit.analysis.disagreements:
        text.append(f"counters disagree: {d}\n", style="bold red")
    return text


def inspect_view(audit: SpecAudit) -> Group:
    return Group(layer_table(audit), notes(audit), claims_table(audit))
