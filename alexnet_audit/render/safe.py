"""Text from a spec is data: these turn it into literal text for each output format.

Every renderer passes spec-supplied strings (titles, claims, notes, names, paths) through one
of these, so no spec can inject terminal escapes or rich markup, markdown links, images or
HTML, or characters that make XML invalid.
"""

from __future__ import annotations

import re

from rich.text import Text

# C0 and C1 controls and DEL (tab and newline too, so a cell stays one line); the invisible
# marks that reorder or hide text on screen (bidirectional overrides and isolates, zero-width
# characters); and lone surrogates, which a file name that is not UTF-8 decodes to.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ud800-\udfff]")
# Characters XML 1.0 forbids even as character references (and lone surrogates, which no
# encoder writes).
_XML_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# Characters that can start a link, an image, HTML, an entity or emphasis in markdown.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>&|#~])")
# What GitHub's markdown turns into a link by itself: URLs, www. names and e-mail addresses.
# Inside a code span it stays text.
_LINKISH = re.compile(r"\S*(?:://|www\.|@)\S*", re.IGNORECASE)
_BACKTICKS = re.compile(r"`+")


def _escape_control(match: re.Match[str]) -> str:
    code = ord(match.group())
    if 0xDC80 <= code <= 0xDCFF:  # a byte that was not UTF-8, as Python's surrogateescape keeps it
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def plain(text: str) -> str:
    """`text` with every control or invisible character written as an escape (`\\x1b`), on one line."""
    return _CONTROL.sub(_escape_control, text)


def terminal_text(text: str, style: str = "") -> Text:
    """A rich Text that shows `text` as written: never parsed as markup, controls escaped."""
    return Text(plain(text), style=style)


def _code_span(text: str) -> str:
    """`text` as a markdown code span: its content is never parsed (a pipe is still escaped,
    as GitHub's tables require even inside code)."""
    longest = max((len(m.group()) for m in _BACKTICKS.finditer(text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text.replace('|', chr(92) + '|')}{pad}{fence}"


def markdown_text(text: str) -> str:
    """`text` for a markdown table cell or paragraph: no link, image, HTML, entity or emphasis can
    form; URLs and addresses are shown as code, so no viewer makes them links."""
    text = plain(text)
    out, pos = [], 0
    for m in _LINKISH.finditer(text):
        out += [_MARKDOWN_SPECIAL.sub(r"\\\1", text[pos:m.start()]), _code_span(m.group())]
        pos = m.end()
    return "".join(out) + _MARKDOWN_SPECIAL.sub(r"\\\1", text[pos:])


def xml_text(text: str) -> str:
    """`text` with the characters XML cannot hold escaped; `&`, `<`, `>` and quotes are left to
    the XML serialiser."""
    return _XML_FORBIDDEN.sub(_escape_control, text)
