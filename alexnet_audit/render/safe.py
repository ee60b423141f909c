"""Text from a spec is data: these turn it into literal text for each output format.

Every renderer passes spec-supplied strings (titles, claims, notes, names, paths) through one
of these, so no spec can inject terminal escapes or rich markup, markdown links, images or
HTML, or characters that make XML invalid.
"""

from __future__ import annotations

import re

from rich.text import Text

# C0 and C1 controls and DEL; tab and newline are escaped too, so a cell stays one line.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# Characters XML 1.0 forbids even as character references.
_XML_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
# Characters with a meaning in markdown or inline HTML.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+!|~&])")


def _escape_control(match: re.Match[str]) -> str:
    return f"\\x{ord(match.group()):02x}"


def plain(text: str) -> str:
    """`text` with every control character written as an escape (`\\x1b`), on one line."""
    return _CONTROL.sub(_escape_control, text)


def terminal_text(text: str, style: str = "") -> Text:
    """A rich Text that shows `text` as written: never parsed as markup, controls escaped."""
    return Text(plain(text), style=style)


def markdown_text(text: str) -> str:
    """`text` for a markdown table cell or paragraph: no link, image, HTML or emphasis can form."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", plain(text))


def xml_text(text: str) -> str:
    """`text` with the characters XML cannot hold escaped; `&`, `<`, `>` and quotes are left to
    the XML serialiser."""
    return _XML_FORBIDDEN.sub(_escape_control, text)
