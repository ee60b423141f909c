"""Fitting rich tables into a terminal width without ever breaking a word.

rich shrinks a table that is too wide by narrowing its widest columns, even below their longest
word, so a figure such as `61,100,840` would be cut or folded. Here each column gets an explicit
width between its longest word and its longest line; a table whose longest words cannot all fit
is reported as not fitting, and the caller picks another layout (fewer columns, stacked rows).
Prose columns (`overflow="fold"`) may fold a word longer than PROSE_WIDTH, as text without spaces
(Chinese quotes) must.
"""

from __future__ import annotations

from typing import Callable, Sequence, TypeVar

from rich.console import Console
from rich.measure import Measurement
from rich.table import Table

T = TypeVar("T")

_MEASURE = Console(width=100_000, height=25, color_system=None, force_terminal=False)  # both sizes given: no terminal probed per cell
# The narrowest a prose column gets: wider than any figure (`1,448,813,632`), so only words fold.
PROSE_WIDTH = 20


def _overhead(table: Table) -> int:
    """Columns of borders and padding around the cells of `table`."""
    n = len(table.columns)
    left, right = table.padding[3], table.padding[1]
    padding = n * (left + right) - (0 if table.pad_edge else left + right)
    borders = (n - 1 + (2 if table.show_edge else 0)) if table.box else 0
    return padding + borders


def _column_range(table: Table, index: int) -> tuple[int, int]:
    """The longest word and the longest line of one column, header included."""
    column = table.columns[index]
    whole = column.no_wrap  # a column of figures that must not wrap even at a space ("0.71 G")
    prose = column.overflow == "fold"  # sentences, some without spaces (Chinese): folded, but never narrower than a figure
    low = high = 1
    for cell in column.cells:
        m = Measurement.get(_MEASURE, _MEASURE.options, cell)
        low, high = max(low, m.maximum if whole else m.minimum), max(high, m.maximum)
    low = min(low, PROSE_WIDTH) if prose else low
    if table.show_header:  # a header names a spec or a quantity: its words are never folded
        m = Measurement.get(_MEASURE, _MEASURE.options, column.header)
        low, high = max(low, m.minimum), max(high, m.maximum)
    return low, high


def fit(table: Table, width: int) -> Table | None:
    """`table` with column widths that keep every word whole within `width`, or None when it cannot."""
    room = width - _overhead(table)
    ranges = [_column_range(table, i) for i in range(len(table.columns))]
    lows, highs = [lo for lo, _ in ranges], [hi for _, hi in ranges]
    if sum(lows) > room:
        return None
    widths = list(highs) if sum(highs) <= room else _share(lows, highs, room)
    for column, w in zip(table.columns, widths):
        column.width = w
    return table


def _share(lows: list[int], highs: list[int], room: int) -> list[int]:
    """Every column at its longest word, and the room left shared out in proportion to what each
    column would need to hold its longest line."""
    spare = room - sum(lows)
    wants = [hi - lo for lo, hi in zip(lows, highs)]
    total = sum(wants)
    widths = [lo + (spare * want // total if total else 0) for lo, want in zip(lows, wants)]
    for i in sorted(range(len(widths)), key=lambda i: wants[i], reverse=True):
        if sum(widths) >= room:
            break
        widths[i] = min(highs[i], widths[i] + room - sum(widths))
    return widths


def first_fitting(width: int, *layouts: Callable[[], Table]) -> Table:
    """The first layout that fits `width`; the last one, fitted as well as it can be, when none does."""
    for build in layouts:
        table = fit(build(), width)
        if table is not None:
            return table
    return layouts[-1]()


def chunks(items: Sequence[T], width: int, build: Callable[[Sequence[T]], Table]) -> list[Table]:
    """Tables of as many consecutive items side by side as fit `width` (at least one each)."""
    tables: list[Table] = []
    start = 0
    while start < len(items):
        best: Table | None = None
        end = start + 1
        while end <= len(items):
            table = fit(build(items[start:end]), width)
            if table is None:
                break
            best, end = table, end + 1
        if best is None:  # a single item too wide: shown anyway, rich folds what cannot fit
            best, end = build(items[start:start + 1]), start + 2
        tables.append(best)
        start = end - 1
    return tables
