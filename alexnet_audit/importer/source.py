"""Finding the Python code in a file: a .py listing as it is, or the code blocks of a post.

Posts lose their code's shape on the way to the page: HTML entities (`&#039;`), indentation
stripped to column 0, every newline of a file removed so that statements and comments run
together. This module recovers parseable code from such text, keeping for every recovered
line the line of the file it came from. It only parses; nothing is ever executed.
"""

from __future__ import annotations

import ast
import html
import re
import warnings
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

from ..errors import AuditError

MAX_LISTING_BYTES = 2 << 20


@dataclass(frozen=True)
class Listing:
    """Recovered code: one parseable text plus, for each of its lines, the file line it came from."""

    path: str
    text: str
    origins: tuple[int, ...]
    repairs: tuple[str, ...]  # how the code was recovered from the page, one line each

    def file_line(self, line: int) -> int:
        return self.origins[line - 1] if 0 < line <= len(self.origins) else line


def read_listing(path: str | Path) -> Listing:
    file = str(path)
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise AuditError(f"cannot read the file: {exc.strerror or exc}", file=file) from None
    if len(raw) > MAX_LISTING_BYTES:
        raise AuditError(f"the file is larger than {MAX_LISTING_BYTES} bytes", file=file)
    text = raw.decode("utf-8", errors="replace")
    return listing_from_text(text, file)


def listing_from_text(text: str, file: str = "<listing>") -> Listing:
    lines = text.splitlines()
    if _parses("\n".join(lines)):
        return Listing(file, "\n".join(lines) + "\n", tuple(range(1, len(lines) + 1)), ())
    blocks, repairs = find_blocks(lines)
    if not blocks:
        raise AuditError("no Python code found in the file", file=file)
    out: list[str] = []
    origins: list[int] = []
    for block in blocks:
        out.extend(text for _, text in block)
        origins.extend(line for line, _ in block)
    return Listing(file, "\n".join(out) + "\n", tuple(origins), tuple(repairs))


Block = list[tuple[int, str]]  # (file line, code line)


def _parses(text: str) -> bool:
    return _syntax_error(text) is None


def find_blocks(lines: list[str]) -> tuple[list[Block], list[str]]:
    """Runs of code-like lines, each repaired and cut until it parses."""
    repairs: list[str] = []
    runs: list[Block] = []
    run: Block = []
    for number, line in enumerate(lines, 1):
        code = _code_part(line)
        if code is None:
            if run:
                runs.append(run)
            run = []
        else:
            run.append((number, code))
    if run:
        runs.append(run)
    blocks: list[Block] = []
    for run in runs:
        blocks.extend(_parse_run(run, repairs))
    return [b for b in blocks if _is_code(b)], repairs


def _is_code(block: Block) -> bool:
    """Prose that happens to parse ("AlexNet", "5.3", "fig.png") is a bare name or number: not code."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            body = ast.parse("\n".join(text for _, text in block)).body
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return False
    return any(not (isinstance(s, ast.Expr) and isinstance(s.value, (ast.Name, ast.Constant, ast.Attribute, ast.BinOp)))
               for s in body)


_FENCE = re.compile(r"^\s*(```|~~~)")
_SPACES = {0x00A0: " ", 0x2002: " ", 0x2003: " ", 0x2009: " ", 0x3000: " "}  # pages indent with these
_ENTITY = re.compile(r"&(#\d+|#x[0-9a-fA-F]+|quot|amp|lt|gt|apos|nbsp);")


def _code_part(line: str) -> str | None:
    """The line as code, or None when it is prose: text (not a comment or a string) that is not ASCII."""
    if _FENCE.match(line):
        return ""
    if _ENTITY.search(line):
        line = html.unescape(line)
    line = line.translate(_SPACES)
    stripped = line.strip()
    if not stripped:
        return ""
    if not stripped[0].isascii():
        return None
    cut = _first_foreign(line)
    return line if cut is None else line[:cut].rstrip()


def _first_foreign(line: str) -> int | None:
    """Position of the first non-ASCII character outside strings and comments (prose after code)."""
    i = 0
    while i < len(line):
        ch = line[i]
        if ch == "#":
            return None
        if ch in "'\"":
            quote = _quote_at(line, i)
            end = _string_end(line, i + len(quote), quote)
            if end is None:
                return None
            i = end
            continue
        if not ch.isascii():
            return i
        i += 1
    return None


def _quote_at(text: str, i: int) -> str:
    """The quote that opens a string at i: a triple quote or a single character."""
    return text[i:i + 3] if text[i:i + 3] in ("'''", '"""') else text[i]


def _string_end(text: str, i: int, quote: str) -> int | None:
    """Where a string that is open at i ends (just past its closing quote); None if the line ends first."""
    while i < len(text):
        if text[i] == "\\":
            i += 2
        elif text.startswith(quote, i):
            return i + len(quote)
        else:
            i += 1
    return None


def _parse_run(run: Block, repairs: list[str]) -> list[Block]:
    """The run itself if it parses; else repaired (newlines, indentation); else cut at the error."""
    while run and not run[-1][1].strip():
        run = run[:-1]
    while run and not run[0][1].strip():
        run = run[1:]
    if not run:
        return []
    text = "\n".join(t for _, t in run)
    error = _syntax_error(text)
    if error is None:
        return [run]
    if _lost_layout(run):
        fixed = _reindent(_unglue(run))
        repairs.append(f"lines {run[0][0]}-{run[-1][0]}: code with its newlines or indentation lost, "
                       "re-split and re-indented by its statements' keywords")
        run = fixed
        error = _syntax_error("\n".join(t for _, t in run))
        if error is None:
            return [run]
    bad = min(max(error, 1), len(run)) - 1
    return _parse_run(run[:bad], repairs) + _parse_run(run[bad + 1:], repairs)


def _syntax_error(text: str) -> int | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "invalid decimal literal" in prose such as 2012年
            ast.parse(text)
    except SyntaxError as exc:
        return exc.lineno or 1
    except (ValueError, RecursionError, MemoryError):
        return 1
    return None


_HEADER = re.compile(r"^(class|def|if|elif|else|for|while|with|try|except|finally|async)\b")


def _lost_layout(run: Block) -> bool:
    """Code whose indentation was stripped (a block header followed by a line at its own column),
    or whose newlines were removed (a statement glued to a header on one line)."""
    texts = [t for _, t in run if t.strip()]
    if any(re.search(r"\):(def|super|self|return|if|for)\b", t) or re.search(r"\w(class|def) \w+\(", t) for t in texts):
        return True
    for a, b in pairwise(texts):
        if _HEADER.match(a.strip()) and a.rstrip().endswith(":") and _indent(b) <= _indent(a):
            return True
    return False


def _indent(text: str) -> int:
    return len(text) - len(text.lstrip())


# Statement starts glued to the end of the previous statement when a page drops newlines.
_GLUED_KEYWORD = re.compile(r"(?<=[\w)\]'\"])(?=(class|def) [A-Za-z_]\w*\s*[(:])|(?<=\w)(?=(import|from) [A-Za-z_][\w.]*( import|\s*$| as|,))")
_CJK = re.compile(r"[^\x00-\x7f]+")


def _unglue(run: Block) -> Block:
    out: Block = []
    for number, text in run:
        for piece in _split_statements(text.strip()):
            out.append((number, piece))
    return out


def _split_statements(text: str) -> list[str]:
    """Split one glued line into statements: at comments ending in prose, at headers' colons, and
    where a statement starts right after a closing bracket, a string or a keyword's argument."""
    pieces: list[str] = []
    start = 0
    depth = 0
    quote: str | None = None
    header = bool(_HEADER.match(text))
    i = 0
    while i < len(text):
        ch = text[i]
        if quote:
            end = _string_end(text, i, quote)
            if end is None:
                break
            i, quote = end, None
            if depth == 0 and i < len(text) and (text[i].isalpha() or text[i] == "_"):
                pieces.append(text[start:i])
                start = i
                header = bool(_HEADER.match(text[i:]))
            continue
        if ch == "#":
            end = _comment_end(text, i)
            if start < i:
                pieces.append(text[start:i])
            pieces.append(text[i:end])
            start = i = end
            header = bool(_HEADER.match(text[i:]))
            continue
        if ch in "'\"":
            quote = _quote_at(text, i)
            i += len(quote)
            continue
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth = max(depth - 1, 0)
            nxt = text[i + 1:i + 2]
            if depth == 0 and (nxt.isalpha() or nxt == "_"):
                pieces.append(text[start:i + 1])
                start = i + 1
                header = bool(_HEADER.match(text[start:]))
        elif ch == ":" and depth == 0 and header and not text.startswith(":=", i):
            pieces.append(text[start:i + 1])
            start = i + 1
            header = bool(_HEADER.match(text[start:]))
        elif depth == 0 and i > start and _GLUED_KEYWORD.match(text, i):
            pieces.append(text[start:i])
            start = i
            header = bool(_HEADER.match(text[start:]))
        i += 1
    pieces.append(text[start:])
    return [p.strip() for p in pieces if p.strip()]


def _comment_end(text: str, start: int) -> int:
    """A comment written in prose ends after its last non-ASCII character: what follows is code."""
    first = _CJK.search(text, start)
    if first is None:
        return len(text)
    last = first.end()
    rest = text[last:]
    if rest.strip() and rest.strip()[0] in ")]},.:;":
        return len(text)
    return last


_CONTINUES = {"elif": ("if",), "else": ("if", "for", "while", "try"), "except": ("try",), "finally": ("try",)}
_ENDS_BLOCK = ("return", "raise")


def _reindent(run: Block) -> Block:
    """Re-indent code whose indentation was lost, from its keywords: a header opens a block;
    `def` closes back to its class, `class` and top-level statements to column 0, `return` ends
    its function, `else`/`elif`/`except` return to their header."""
    out: Block = []
    stack: list[tuple[str, int]] = []  # open headers: (keyword, column)
    level = 0
    depth = 0  # open brackets carried from earlier lines
    in_string: str | None = None
    for number, raw in run:
        text = raw.strip()
        if in_string or depth > 0:
            out.append((number, "    " * (level + 1) + text if depth > 0 and not in_string else raw))
            in_string, depth = _carry(text, in_string, depth)
            continue
        if not text:
            out.append((number, ""))
            continue
        word = re.match(r"[A-Za-z_@]\w*", text)
        first = word.group(0) if word else ""
        if first == "class" or first in ("import", "from") or text.startswith("if __name__"):
            stack, level = [], 0
        elif first in ("def", "async") or first.startswith("@"):
            while stack and stack[-1][0] != "class":
                stack.pop()
            level = stack[-1][1] + 1 if stack else 0
        elif first in _CONTINUES:
            while stack and stack[-1][0] not in _CONTINUES[first]:
                stack.pop()
            if stack:
                level = stack.pop()[1]
        out.append((number, "    " * level + text))
        in_string, depth = _carry(text, None, 0)
        if depth == 0 and not in_string and _HEADER.match(text) and _code_of(text).endswith(":"):
            stack.append((first, level))
            level += 1
        elif first in _ENDS_BLOCK:
            while stack and stack[-1][0] != "def":
                stack.pop()
            if stack:
                level = stack.pop()[1]
    return out


def _code_of(text: str) -> str:
    """The line without a trailing comment (outside strings)."""
    quote: str | None = None
    for i, ch in enumerate(text):
        if quote:
            if ch == quote:
                quote = None
        elif ch in "'\"":
            quote = ch
        elif ch == "#":
            return text[:i].rstrip()
    return text.rstrip()


def _carry(text: str, in_string: str | None, depth: int) -> tuple[str | None, int]:
    """Whether a line leaves a triple-quoted string or a bracket open for the next line."""
    i = 0
    quote = in_string
    while i < len(text):
        if quote:
            end = _string_end(text, i, quote)
            if end is None:
                break
            i, quote = end, None
            continue
        if text[i] == "#":
            break
        if text[i] in "'\"":
            quote = _quote_at(text, i)
            i += len(quote)
            continue
        if text[i] in "([{":
            depth += 1
        elif text[i] in ")]}":
            depth = max(depth - 1, 0)
        i += 1
    return (quote if quote and len(quote) == 3 else None), depth
