"""The argument-table rows of the importers' tests: each row once, a call's arguments written by
keyword or by position, what an import reads from a listing, and one row's check, static or live (carried
changes the reading, harmless does not, refused stops the import naming where, call, argument and value)."""

from __future__ import annotations

import functools
import keyword
import re
from collections.abc import Callable
from typing import Any

import pytest

from alexnet_audit.errors import AuditError
from alexnet_audit.importer import read_code
from alexnet_audit.importer.signatures import Param, Signature
from alexnet_audit.importer.source import listing_from_text


def rows(table: dict[str, Signature]) -> list[tuple[Signature, Param]]:
    """Each signature's rows once, though the table names it twice (F.max_pool2d is also max_pool2d_with_indices)."""
    return [(sig, p) for sig in dict.fromkeys(table.values()) for p in sig.params]


def ids(table_rows: list[tuple[Signature, Param]]) -> list[str]:
    return [f"{sig.call}-{p.name}-{p.treat}" for sig, p in table_rows]


def call_args(sig: Signature, name: str | None, value: str | None, positional: bool, base: list[str]) -> str:
    """The call's arguments: its required `base`, plus `name` set to `value` by keyword or by position."""
    params = [p for p in sig.params if not p.keyword_only]
    if positional and name is not None:
        upto = max([p.name for p in params].index(name) + 1, len(base))
        return ", ".join(value if p.name == name else base[i] if i < len(base) else repr(p.default)
                         for i, p in enumerate(params[:upto]))
    given = {p.name: base[i] for i, p in enumerate(params[:len(base)])}
    if name is not None:
        given[name] = value  # type: ignore[assignment]
    return ", ".join(f"{k}={v}" for k, v in given.items())


# Where a static import's refusal says it is: the file and line, then the call as written.
STATIC = r"net.py: line \d+: .*"


@functools.cache
def imported(text: str) -> tuple[Any, ...]:
    """What the import reads, as the spec will hold it: the input, each layer's kind, fields, name,
    declared input size and inputs, and what the code states (claims). Once per listing: each row's
    unchanged listing is every row's of its call."""
    reading = read_code(listing_from_text(text, "net.py"))
    return (reading.input, [(n.kind, n.fields, n.qualified, n.declared_in, n.inputs) for n in reading.nodes],
            [(c.kind, c.target, c.value) for c in reading.checks])


def check_row(read: Callable[[str], Any], sig: Signature, param: Param, base: list[str], value: str,
              bad: str | None, where: str, same: bool | None = None) -> None:
    """One row of a table, static or live: `read` imports the call given its arguments, `base` its required
    ones, `value` one for the row's argument other than its default, `bad` one a carried argument cannot
    hold; a refusal's message starts with `where` (a pattern). `same` says whether `value` leaves the
    reading as it is where the row's treat does not (a live convolution's in_channels is its input's)."""
    def spec(name: str | None, v: str | None, positional: bool = False) -> Any:
        return read(call_args(sig, name, v, positional, base))

    # Each way the argument can be written: by name unless its name is a Python keyword (Tensor.uniform_'s
    # from and to), by position unless it is keyword-only.
    forms = [False] * (not keyword.iskeyword(param.name)) + [True] * (not param.keyword_only)
    if param.treat == "refuse":
        refusal = rf"{where}{re.escape(sig.call)} {param.name}={re.escape(value)} is refused"
        for positional in forms:
            with pytest.raises(AuditError, match=refusal):
                spec(param.name, value, positional)
        return
    unchanged, *given = spec(None, None), *(spec(param.name, value, positional) for positional in forms)
    assert all(g == given[0] for g in given)
    assert (given[0] == unchanged) == (param.treat == "harmless" if same is None else same), param.why
    if bad is not None:
        with pytest.raises(AuditError, match=rf"{where}.*{param.name}={bad}"):
            spec(param.name, bad, forms[0])
