"""Rich views for the terminal: many specs side by side, one spec in full, the check's findings.

Every view takes the width it must fit: no figure is ever cut or folded (render/layout.py), so a
narrow terminal gets fewer specs per table or one block per claim instead of squeezed columns.
Spec text reaches the terminal only through render/safe.py: literal, never markup.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Sequence

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from ..results import CONVENTION, LayerResult
from ..audit import AuditRun, SpecAudit
from ..claims import ClaimResult, Verdict
from ..graph import NETWORK_INPUT, off_the_line
from ..layers import shape_hwc
from .finding import finding
from .formatting import figure_text, human
from .layout import chunks, first_fitting, fit
from .rows import NUMERIC_COLUMNS, has_stages, layer_rows, total_row
from .safe import plain, terminal_text

if TYPE_CHECKING:
    from ..baseline import CheckOutcome

VERDICT_STYLE = {
    Verdict.HOLDS: "green", Verdict.FAILS: "bold red", Verdict.AMBIGUOUS: "yellow", Verdict.UNVERIFIABLE: "dim",
}


def _verdict(verdict: Verdict) -> Text:
    return Text(verdict.value, style=VERDICT_STYLE[verdict])


# ---------------------------------------------------------------- compare: specs side by side


def _weighted(audit: SpecAudit) -> list[LayerResult]:
    return [lr for lr in audit.analysis.layers if lr.kind in ("conv", "linear")]


def shared_layers(audits: Sequence[SpecAudit]) -> list[str]:
    """The conv and linear layers readers compare: those two or more specs have by name (every one
    when there is a single spec). A deep network's own layers would only add empty rows; its
    figures stay in the totals and in `inspect`."""
    seen: dict[str, int] = {}
    for audit in audits:
        for lr in _weighted(audit):
            seen[lr.name] = seen.get(lr.name, 0) + 1
    return [name for name, n in seen.items() if n >= 2 or len(audits) == 1]


def _cell(audit: SpecAudit, key: str) -> Text:
    lr = next((lr for lr in audit.analysis.layers if lr.name == key), None)
    if lr is None:
        return Text("")
    text = Text(shape_hwc(lr.output_shape))
    if lr.stage:
        text.append(" ").append(terminal_text(f"[{lr.stage}]"))
    return text.append(f"\n{human(lr.params)} params\n{human(lr.macs)} MACs")


def _others_cell(audit: SpecAudit, shown: set[str]) -> Text:
    rest = [lr for lr in _weighted(audit) if lr.name not in shown]
    if not rest:
        return Text("")
    return Text(f"+{len(rest)} layer{'s' if len(rest) > 1 else ''}\n{human(sum(lr.params for lr in rest))} params\n"
                f"{human(sum(lr.macs for lr in rest))} MACs")


def _totals_rows(audits: Sequence[SpecAudit]) -> list[tuple[str, list[Text]]]:
    totals = [a.analysis.totals for a in audits]
    return [
        ("params", [Text(f"{t.trainable_params:,}" + (f"\n+{t.non_trainable_params:,} BN stats" if t.non_trainable_params else ""))
                    for t in totals]),
        ("MACs", [Text(f"{t.macs:,}" + ("" if t.macs_complete else "\n(incomplete)")) for t in totals]),
        ("FLOPs (= 2 x MACs)", [Text(f"{t.flops:,}") for t in totals]),
        ("neurons", [Text(f"{t.neurons:,}") for t in totals]),
        ("claims", [_verdict_counts(a) for a in audits]),
    ]


def compare_table(audits: Sequence[SpecAudit], keys: Sequence[str],
                  title: str = "alexnet-audit: specs side by side") -> Table:
    """The specs side by side: the layers `keys` names, the rest of each network in one row, totals."""
    table = Table(title=title, show_lines=True)
    table.add_column("", style="bold")
    for audit in audits:
        table.add_column(terminal_text(audit.spec.id), justify="right")
    table.add_row("input (HxWxC)", *[Text(shape_hwc(tuple(a.spec.doc.input))) for a in audits])
    for key in keys:
        if any(lr.name == key for a in audits for lr in _weighted(a)):
            table.add_row(terminal_text(key), *[_cell(a, key) for a in audits])
    shown = set(keys)
    others = [_others_cell(a, shown) for a in audits]
    if any(cell.plain for cell in others):
        table.add_row("other conv/linear", *others)
    for label, cells in _totals_rows(audits):
        table.add_row(label, *cells)
    return table


def compare_view(run: AuditRun, width: int) -> Group:
    """As many specs side by side as fit `width`, in consecutive tables; then the two comparisons."""
    from .diff import code_vs_prose_view, paper_deviations_view

    keys = shared_layers(run.audits)
    parts: list[RenderableType] = [*chunks(run.audits, width, lambda audits: compare_table(audits, keys)),
                                   code_vs_prose_view(run, width), paper_deviations_view(run, width)]
    return Group(*parts)


def _verdict_counts(audit: SpecAudit) -> Text:
    text = Text()
    for verdict in Verdict:
        n = audit.count(verdict)
        text.append(f"{n} {verdict.value}", style=VERDICT_STYLE[verdict] if n else "dim")
        if verdict != Verdict.UNVERIFIABLE:
            text.append("\n")
    return text


# ---------------------------------------------------------------- inspect: one spec in full

_SHAPE_COLUMNS = ("layer", "kind", "stage", "output (HxWxC)", "params", "MACs")
_WINDOW_COLUMNS = ("layer", "kernel", "stride", "padding", "receptive field", "effective stride")


def _layer_table(audit: SpecAudit, columns: Sequence[str], title: Text | str, total: bool = True) -> Table:
    table = Table(title=title)
    if not has_stages(audit):
        columns = [c for c in columns if c != "stage"]
    for col in columns:  # long qualified names (inception3a.branch2.1) fold; figures never do
        table.add_column(col, justify="right" if col in NUMERIC_COLUMNS else "left",
                         overflow="fold" if col in ("layer", "stage") else "ellipsis")
    for row in layer_rows(audit):
        table.add_row(*[terminal_text(row[c]) for c in columns])
    if total:
        row = total_row(audit)
        table.add_row(*[Text(row[c]) for c in columns], style="bold")
    return table


def layer_tables(audit: SpecAudit, width: int) -> RenderableType:
    """One table of every layer when it fits `width`; else its shapes and counts, then its windows."""
    title = terminal_text(f"{audit.spec.id}: {audit.spec.doc.title}")
    whole = fit(_layer_table(audit, _SHAPE_COLUMNS + _WINDOW_COLUMNS[1:], title), width)
    if whole is not None:
        return whole
    return Group(first_fitting(width, lambda: _layer_table(audit, _SHAPE_COLUMNS, title),
                               lambda: _layer_table(audit, ("layer", "output (HxWxC)", "params", "MACs"), title)),
                 first_fitting(width, lambda: _layer_table(audit, _WINDOW_COLUMNS, "windows (receptive field and "
                                                           "effective stride along the height axis)", total=False)))


def data_path(audit: SpecAudit) -> Text | None:
    """Where the data does not come from the row above: each branch's first layer and each merge
    point with what it takes in; None for a plain line of layers."""
    nodes = off_the_line(audit.spec.layers)
    if not nodes:
        return None
    text = Text("data path (the layers not fed by the row above them):", style="bold")
    for node in nodes:
        sources = ", ".join("the input" if s == NETWORK_INPUT else s for s in node.inputs or (NETWORK_INPUT,))
        line = f"{node.name} = {node.spec.kind}({sources})" if node.is_merge else f"{node.name} takes {sources}"
        text.append("\n  ").append(terminal_text(line))
    return text


def notes(audit: SpecAudit) -> Text:
    t = audit.analysis.totals
    text = Text()
    text.append(f"MAC convention ({CONVENTION.name}): counts {CONVENTION.counted}; excludes {CONVENTION.excluded}. "
                f"{CONVENTION.flops}.\n", style="dim")
    text.append(f"non-trainable (BatchNorm statistics): {t.non_trainable_params:,} · neurons: {t.neurons:,} · "
                f"connections: {t.connections:,} · activations: {human(t.activation_bytes)}B per sample (fp32)\n")
    if audit.analysis.incomplete:
        text.append(terminal_text("MAC total incomplete, not counted: " + "; ".join(audit.analysis.incomplete), "yellow"))
        text.append("\n")
    for d in audit.analysis.disagreements:
        text.append(terminal_text(f"counters disagree: {d}", "bold red"))
        text.append("\n")
    return text


def _claim_cells(c: ClaimResult) -> dict[str, Text]:
    # A detail of a claim judged on several readings gives each reading's verdict; a diagnosis does not.
    verdicts = [terminal_text("; ".join(f"{r.label}: {r.verdict.value}" for r in c.readings))] if c.readings and c.diagnosis else []
    why = Text("\n").join(verdicts + [terminal_text(c.reason)])
    return {"claim": terminal_text(c.id), "quote": terminal_text(f"“{c.quote}”", "italic") if c.quote else Text(""),
            "kind": Text(c.kind), "target": terminal_text(c.target or ""),
            "claimed": terminal_text(figure_text(c.claimed)), "measured": terminal_text(figure_text(c.measured)),
            "verdict": _verdict(c.verdict), "why": why}


def claims_table(audit: SpecAudit) -> Table:
    table = Table(title="claims", show_lines=True)
    for col in ("claim", "kind", "target", "claimed", "measured", "verdict", "why"):
        table.add_column(col, no_wrap=col in ("claimed", "measured"), overflow="fold" if col in ("claim", "why") else "ellipsis")
    for c in audit.claims:
        cells = _claim_cells(c)
        claim = Text("\n").join([cells["claim"], cells["quote"]]) if c.quote else cells["claim"]
        table.add_row(claim, *[cells[k] for k in ("kind", "target", "claimed", "measured", "verdict", "why")])
    return table


def claims_blocks(audit: SpecAudit) -> Table:
    """One block per claim, its figures stacked: for terminals too narrow for the claims table."""
    table = Table(title="claims", show_header=False, show_lines=True)
    table.add_column("", overflow="fold")
    table.add_column("", overflow="fold")
    for c in audit.claims:
        cells = _claim_cells(c)
        head = Text.assemble(cells["claim"], " ", cells["verdict"])
        fields = ("quote", "kind", "target", "claimed", "measured", "why")
        body = Text("\n").join([Text.assemble((f"{k}: ", "dim"), cells[k]) for k in fields if cells[k].plain])
        table.add_row(head, body)
    return table


def inspect_view(audit: SpecAudit, width: int = 120) -> Group:
    path = data_path(audit)
    parts: list[Any] = [layer_tables(audit, width), *([path] if path else []), notes(audit)]
    if audit.claims:
        parts.append(first_fitting(width, lambda: claims_table(audit), lambda: claims_blocks(audit)))
    return Group(*parts)


# ---------------------------------------------------------------- check: the gate's findings


def check_lines(outcome: CheckOutcome) -> list[str]:
    """What the check found, one plain line each, every failure with its claimed and measured
    figures and why, each fact once (render/finding.py)."""
    if outcome.baseline is not None:
        head = f"{len(outcome.changes)} change(s) against the baseline" if outcome.changes else "no change against the baseline"
        return [head] + [plain(f"  {c.kind.value}: {c.head}" + (f": {finding(c.result, why=c.explained)}" if c.result else ""))
                         for c in outcome.changes]
    failing = outcome.failing
    head = f"{len(failing)} failing claim(s)" if failing else "every claim holds (or is ambiguous/unverifiable)"
    return [head] + [plain(f"  {spec}/{c.id}: {finding(c)}") for spec, c in failing]
