"""Names in tables: layer, stage, claim and spec names the schema would refuse still reach the
reader as written, one cell each, and never become markup, in markdown, CSV and the terminal.

The schema allows names of `[A-Za-z0-9_.]` only, so the audit is built from a valid spec and
its names are then replaced in the frozen results (dataclasses.replace, pydantic model_copy):
the renderers get exactly the data a laxer schema would give them, and nothing is patched.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import re
from pathlib import Path
from typing import Callable

from markdown_it import MarkdownIt
from markdown_it.token import Token
from rich.console import Console

from alexnet_audit.audit import SpecAudit, audit_paths
from alexnet_audit.compare import diff
from alexnet_audit.render.markdown import Versions, diff_markdown, index_page, spec_page
from alexnet_audit.render.safe import plain
from alexnet_audit.render.tables import layers_frame, to_csv
from alexnet_audit.render.terminal import layer_tables
from helpers import LENET, spec_text

HOSTILE = "a|b [red]r[/red] *em* **strong** [x](y) ![i](p.png) <script>alert(1)</script> `c` _u_\nnext"
HOSTILE_ID = "evil|[x](y)<b>"
# As every renderer must show them: the text exactly as written, the line break in a name spelled
# out as \x0a (a cell is one line), and in prose (where a break is a <br>) read without it.
STAGE_SHOWN = "stagea|b [red]r[/red] *em* **strong** [x](y) ![i](p.png) <script>alert(1)</script> `c` _u_\\x0anext"
PROSE_SHOWN = "a|b [red]r[/red] *em* **strong** [x](y) ![i](p.png) <script>alert(1)</script> `c` _u_next"
CLAIMS = """  - {id: fc1-params, kind: params, target: fc1, claimed: 48120, quote: "fc1 has 48,120", where: table}
  - {id: conv1-shape, kind: output_shape, target: conv1, claimed: [28, 28, 6], where: table}
"""

def _hostile_name(i: int, name: str) -> str:
    return f"{i}{HOSTILE}{name}"


def _hostile(audit: SpecAudit) -> SpecAudit:
    """`audit` with every layer, stage, claim and spec name replaced by hostile text."""
    names = {layer.name: _hostile_name(i, layer.name) for i, layer in enumerate(audit.spec.layers)}
    stage = "stage" + HOSTILE
    spec = audit.spec
    doc = spec.doc.model_copy(update={"id": HOSTILE_ID, "title": HOSTILE,
                                      "source": spec.doc.source.model_copy(update={"seed": HOSTILE})})
    layers = tuple(dataclasses.replace(layer, name=names[layer.name], stage=stage,
                                       inputs=tuple(names.get(s, s) for s in layer.inputs)) for layer in spec.layers)
    spec = dataclasses.replace(spec, doc=doc, layers=layers, stages={stage: tuple(names.values())})
    a = audit.analysis
    analysis = dataclasses.replace(
        a, spec=spec, layers=tuple(dataclasses.replace(lr, name=names[lr.name], stage=stage) for lr in a.layers),
        modules=tuple(dataclasses.replace(m, name=names[m.name], inputs=tuple(names.get(s, s) for s in m.inputs))
                      for m in a.modules))
    claims = tuple(dataclasses.replace(c, id=c.id + HOSTILE, target=names[c.target] if c.target else None,
                                       quote=HOSTILE, where=HOSTILE) for c in audit.claims)
    return dataclasses.replace(audit, spec=spec, analysis=analysis, claims=claims)


def _audit(write_spec: Callable[..., Path]) -> SpecAudit:
    return _hostile(audit_paths([write_spec(spec_text(LENET, claims=CLAIMS))]).audits[0])


def _tables(page: str) -> list[list[list[tuple[str, set[str]]]]]:
    """Each table markdown-it reads in `page`: rows of cells, each its text and the token types in it."""
    tables: list[list[list[tuple[str, set[str]]]]] = []
    in_cell = False
    for token in MarkdownIt("commonmark", {"html": True}).enable("table").parse(page):
        if token.type == "table_open":
            tables.append([])
        elif token.type == "tr_open":
            tables[-1].append([])
        elif token.type in ("th_open", "td_open", "th_close", "td_close"):
            in_cell = token.type.endswith("_open")
        elif token.type == "inline" and in_cell:
            tables[-1][-1].append(_cell(token))
    return tables


def _cell(token: Token) -> tuple[str, set[str]]:
    """A cell's text and the kinds of token in it; the line break the page writes itself counts as `br`."""
    children = token.children or []
    kinds = {"br" if c.type == "html_inline" and c.content == "<br>" else c.type for c in children}
    return "".join(c.content for c in children if c.type in ("text", "code_inline")), kinds


_DELIMITER = re.compile(r"(?<!\\)(?:\\\\)*\|")


def _pipes(line: str) -> int:
    """Cell delimiters on a table line: pipes not escaped by a backslash (GFM's rule, code spans included)."""
    return len(_DELIMITER.findall(line))


def _assert_whole_tables(page: str) -> None:
    """Every row of every table has as many cells as its header: no name split a row or ended it."""
    head: int | None = None
    for line in page.splitlines():
        if not line.startswith("|"):
            head = None
        elif head is None:
            head = _pipes(line)
        else:
            assert _pipes(line) == head, line


def _column(table: list[list[tuple[str, set[str]]]], header: str) -> list[tuple[str, set[str]]]:
    at = [text for text, _ in table[0]].index(header)
    return [row[at] for row in table[1:]]


def _layer_table(page: str) -> list[list[tuple[str, set[str]]]]:
    return next(t for t in _tables(page) if [text for text, _ in t[0]][:3] == ["layer", "kind", "stage"])


def test_layer_table_shows_hostile_names_as_written(write_spec: Callable[..., Path]) -> None:
    audit = _audit(write_spec)
    page = spec_page(audit, paper=None, training=None, known={HOSTILE_ID}, versions=Versions("test", "test"))
    _assert_whole_tables(page)
    table = _layer_table(page)
    # LENET has 12 layers; then the total row
    assert len(table) == 1 + 12 + 1
    layers = _column(table, "layer")
    assert [text for text, _ in layers[:-1]] == [plain(lr.name) for lr in audit.analysis.layers]
    assert [text for text, _ in _column(table, "stage")[:-1]] == [STAGE_SHOWN] * 12
    for row in table[1:-1]:
        for text, kinds in row:
            assert kinds <= {"text"}, (text, kinds)  # no emphasis, link, image, HTML or code formed
    assert layers[-1] == ("total", {"strong_open", "text", "strong_close"})
    # kernel, stride and padding as the spec wrote them: LENET's conv1 5, stride 1, padding 0; pool1 2, its kernel
    first, pool = table[1], table[3]
    assert [first[i][0] for i in (4, 5, 6)] == ["5", "1", "0"]
    assert [pool[i][0] for i in (4, 5, 6)] == ["2", "", "0"]


def test_claims_table_shows_hostile_ids_targets_and_quotes_as_written(write_spec: Callable[..., Path]) -> None:
    audit = _audit(write_spec)
    page = spec_page(audit, paper=None, training=None, known={HOSTILE_ID}, versions=Versions("test", "test"))
    claims = next(t for t in _tables(page) if t[0][0][0] == "claim")
    assert [text for text, _ in _column(claims, "claim")] == [plain(c.id) for c in audit.claims]
    assert [text for text, _ in _column(claims, "target")] == [plain(c.target or "") for c in audit.claims]
    for header in ("claim", "target"):  # names: a line break shows as \x0a, as in the terminal
        for text, kinds in _column(claims, header):
            assert kinds <= {"text"}, (header, text, kinds)
    # prose keeps its line break as <br> (the one tag the page writes itself) and forms no other markup
    for text, kinds in _column(claims, "quote") + _column(claims, "where"):
        assert kinds <= {"text", "br"}
        assert text == PROSE_SHOWN
    heading = next(t for t in MarkdownIt("commonmark", {"html": True}).parse(page) if t.type == "inline")
    text, kinds = _cell(heading)
    assert kinds <= {"text", "br"} and text == f"{HOSTILE_ID}: " + PROSE_SHOWN


def test_diff_and_index_tables_show_hostile_names_as_written(write_spec: Callable[..., Path]) -> None:
    audit = _audit(write_spec)
    weighted = [plain(lr.name) for lr in audit.analysis.layers if lr.kind in ("conv", "linear")]
    rows = diff_markdown(diff(audit.analysis, audit.analysis), {HOSTILE_ID})
    page = "\n".join(rows)
    _assert_whole_tables(page)
    table = _tables(page)[0]
    assert [text for text, _ in _column(table, "left")] == weighted == [text for text, _ in _column(table, "right")]
    for text, kinds in _column(table, "left") + _column(table, "right"):
        assert kinds <= {"text"}, (text, kinds)
    index = index_page([audit], {HOSTILE_ID: None}, Versions("test", "test"))
    _assert_whole_tables(index)
    header, row = _tables(index)[0][:2]
    assert len(row) == len(header)
    (spec_text_, spec_kinds), (source, source_kinds) = row[:2]
    assert spec_text_ == HOSTILE_ID and spec_kinds == {"link_open", "text", "link_close"}
    assert source == PROSE_SHOWN and source_kinds <= {"text", "br"}
    # the link's target percent-encoded: | [ ] ( ) < > are %7C %5B %5D %28 %29 %3C %3E
    assert "(evil%7C%5Bx%5D%28y%29%3Cb%3E.md)" in index


def test_csv_and_terminal_rows_show_hostile_names_as_written(write_spec: Callable[..., Path]) -> None:
    audit = _audit(write_spec)
    names = [plain(lr.name) for lr in audit.analysis.layers]
    rows = list(csv.DictReader(io.StringIO(to_csv(layers_frame(audit)))))
    assert [r["layer"] for r in rows] == names and {r["stage"] for r in rows} == {STAGE_SHOWN}
    assert [r["params"] for r in rows][:4] == ["456", "0", "0", "2416"]  # conv1 5*5*3*6 + 6; relu; pool1; conv2 5*5*6*16 + 16
    console = Console(width=400, record=True, file=io.StringIO(), color_system=None)
    console.print(layer_tables(audit, 400))
    shown = console.export_text()
    assert all(name in shown for name in names)  # literal: the brackets and escapes as written, one line each
    assert "\x1b" not in repr(shown) and "<script>" in shown
