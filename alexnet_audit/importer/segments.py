"""The code of a node as written, for the spec's header and messages.

`ast.get_source_segment` splits the whole listing into lines on every call; a walk asks for the
code of thousands of nodes, so the lines are split once here.
"""

from __future__ import annotations

import ast
import re

# Python's own line ends (\r\n, \r, \n), not str.splitlines' wider set (\f, \x1c, ...).
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")


class Segments:
    def __init__(self, text: str) -> None:
        self.lines = [line.encode() for line in _LINE.findall(text)]

    def code(self, node: ast.AST) -> str:
        """The node's source on one line, runs of whitespace as one space, at most 200 characters."""
        first, last = getattr(node, "lineno", None), getattr(node, "end_lineno", None)
        start, end = getattr(node, "col_offset", None), getattr(node, "end_col_offset", None)
        if first is None or last is None or start is None or end is None or last > len(self.lines):
            return ""
        if first == last:
            raw = self.lines[first - 1][start:end]
        else:
            raw = self.lines[first - 1][start:] + b"".join(self.lines[first:last - 1]) + self.lines[last - 1][:end]
        return " ".join(raw.decode(errors="replace").split())[:200]
