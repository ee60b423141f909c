"""A claim's finding on one line, each fact once: the claimed figure, the measured one, and why
(the diagnosis, or else the judge's detail: what it compared).

A detail states what was measured and often quotes the claim ("conv layers: claimed 5, the
built model has 4"; a `same_as` claim's list of differences): printed as the why, it stands in
for the figures it already states, which are then not printed again before it.
"""

from __future__ import annotations

import re
from typing import Any

from ..claims import ClaimResult
from .formatting import figure_text


def finding(c: ClaimResult, *, why: bool = True) -> str:
    """`claimed C, measured M: WHY`, less what WHY states; `why=False`: the figures alone."""
    if not why:
        return f"claimed {figure_text(c.claimed)}, measured {figure_text(c.measured)}"
    claimed, measured = figures_shown(c)
    figures = ([f"claimed {figure_text(c.claimed)}"] if claimed else []) + (
        [f"measured {figure_text(c.measured)}"] if measured else [])
    return ": ".join([", ".join(figures), c.reason] if figures else [c.reason])


def figures_shown(c: ClaimResult) -> tuple[bool, bool]:
    """Whether the claimed and the measured figure are printed beside the reason: a diagnosis
    explains them and states neither; a detail stands in for those it states."""
    if c.diagnosis:
        return True, True
    return not _quotes_claim(c), not _states(c.detail, c.measured)


def _quotes_claim(c: ClaimResult) -> bool:
    return any(_found(c.detail, f"claimed {text}") for text in _spellings(c.claimed))


def _states(text: str, value: Any) -> bool:
    """Whether `text` states every part of `value`: each item of a list, each reading's label and
    figure of a claim judged on several readings."""
    if isinstance(value, dict):
        return bool(value) and all(_states(text, k) and _states(text, v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return all(_states(text, v) for v in value) if value else _found(text, "none")
    return value is not None and any(_found(text, s) for s in _spellings(value))


def _spellings(value: Any) -> set[str]:
    """A figure as this tool prints it (60,965,224) and as a judge may have written it (60965224)."""
    return {figure_text(value), str(value)} - {""}


def _found(text: str, part: str) -> bool:
    """`part` in `text` as a whole: not the 10 of 1,000, the conv1 of conv10 or the 2 of 2.5."""
    return re.search(rf"(?<![\w.,]){re.escape(part)}(?![\w])(?![.,]\w)", text) is not None
