"""The reference base of facts (alexnet_audit/reference/facts.yaml) and the `fact` claim's judge.

The base holds facts of the 2012 AlexNet paper, of LeCun et al. 1998 and of the ILSVRC data,
each with its source and citation. It is loaded once per run (`load_facts`) and handed to the
judges explicitly. A fact is a figure (compared at the precision both sides are written with)
or a name (compared with its accepted spellings).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction
from importlib import resources
from typing import Any, Union

from pydantic import Field, ValidationError, model_validator

from .arith import ArithError, parse_figure
from .errors import AuditError
from .strict import Frozen, error_path
from .yaml_lines import format_path, line_at, parse_yaml

FACTS_FILE = "facts.yaml"
_ROUNDING_UNIT = re.compile(r"[a-zA-Z万亿]")


class Fact(Frozen):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    statement: str
    source: str
    citation: str
    value: Union[int, float, str, None] = None
    unit: str | None = None
    values: list[str] | None = None
    approx: bool = False

    @model_validator(mode="after")
    def _one_value(self) -> "Fact":
        if (self.value is None) == (self.values is None):
            raise ValueError(f"fact {self.id}: give exactly one of value and values")
        if self.value is not None:
            parse_figure(self.value)
        return self


class Source(Frozen):
    short: str  # "Krizhevsky, Sutskever and Hinton 2012", as a citation names it
    reference: str


class _BaseDoc(Frozen):
    sources: dict[str, Source]
    facts: list[Fact]


@dataclass(frozen=True)
class FactBase:
    sources: dict[str, Source]
    facts: dict[str, Fact]

    def cite(self, fact: Fact) -> str:
        return f"{self.sources[fact.source].short}, {fact.citation}"


def load_facts(text: str | None = None) -> FactBase:
    """The shipped base (or `text`, for tests); a malformed base is an AuditError naming the fact."""
    if text is None:
        text = resources.files("alexnet_audit.reference").joinpath(FACTS_FILE).read_text(encoding="utf-8")
    data, lines = parse_yaml(text, FACTS_FILE)
    try:
        doc = _BaseDoc.model_validate(data)
    except ValidationError as exc:
        raise _malformed(exc, data, lines) from None
    facts: dict[str, Fact] = {}
    for i, fact in enumerate(doc.facts):
        if fact.id in facts or fact.source not in doc.sources:
            field = ("facts", i, "id" if fact.id in facts else "source")
            raise AuditError(f"fact {fact.id}: duplicate id or unknown source {fact.source!r}", file=FACTS_FILE,
                             line=lines.get(field), field=format_path(field))
        facts[fact.id] = fact
    return FactBase(doc.sources, facts)


def _malformed(exc: ValidationError, data: Any, lines: dict[tuple[Any, ...], int]) -> AuditError:
    """The first mistake, in one line, at the base's field and line (and naming the fact)."""
    err = exc.errors(include_url=False)[0]
    path = error_path(tuple(err["loc"]), data)
    fact = data["facts"][path[1]] if path[:1] == ("facts",) and len(path) > 1 else None
    named = f"fact {fact['id']}: " if isinstance(fact, dict) and isinstance(fact.get("id"), str) else ""
    message = str(err["msg"]).removeprefix("Value error, ")
    line = line_at(lines, path)
    return AuditError(f"the reference base is malformed: {named}{message}", file=FACTS_FILE, line=line,
                      field=format_path(path) or None)


# ---------------------------------------------------------------- comparing figures


def precision(text: Any, approx: bool) -> tuple[Fraction, Fraction]:
    """The one tolerance rule: a figure and the half unit it may be off by.

    A figure the writer rounds is read at the precision written: half a unit of its last
    significant digit ("65万" is 645,000 to 655,000; "3.2M" 3.15M to 3.25M). A figure is rounded
    when it carries a scale word or letter (万, million, M, K, G), has a decimal point, or the
    spec marks it `approx` (the source says "about"); a whole number written out is exact.
    """
    fig = parse_figure(text)
    written = str(text)
    rounded = approx or "." in written or bool(_ROUNDING_UNIT.search(written.replace("%", "")))
    return fig.value, (fig.half_unit if rounded else Fraction(0))


def overlaps(claimed: tuple[Fraction, Fraction], true: tuple[Fraction, Fraction], bound: str = "exact") -> bool:
    (c, ct), (t, tt) = claimed, true
    if bound == "at_least":  # "over 14 million": the true figure is at least the claimed one
        return t + tt >= c - ct
    if bound == "at_most":
        return t - tt <= c + ct
    return abs(c - t) <= ct + tt


def _norm(text: str) -> str:
    return re.sub(r"[^0-9a-z\u4e00-\u9fff]+", "", text.lower())


def _strip_unit(claimed: Any, unit: str | None) -> Any:
    if unit and isinstance(claimed, str) and claimed.strip().lower().endswith(unit.lower()):
        return claimed.strip()[: -len(unit)].strip()
    return claimed


@dataclass(frozen=True)
class FactFinding:
    holds: bool | None  # None: the base has no such fact
    measured: Any
    detail: str
    others: tuple[str, ...]  # other facts the claimed figure or name matches, cited
    statement: str = ""  # the fact, in the base's words


def judge_fact(base: FactBase, fact_id: str, claimed: Any, *, bound: str = "exact", approx: bool = False) -> FactFinding:
    fact = base.facts.get(fact_id)
    if fact is None:
        return FactFinding(None, None, f"the reference base has no fact {fact_id!r}; a citation of the paper stating it "
                           "would settle the claim", ())
    holds = _matches(fact, claimed, bound, approx)
    shown = fact.values[0] if fact.values else f"{fact.value}{' ' + fact.unit if fact.unit else ''}"
    detail = (f"the reference states: {fact.statement} ({base.cite(fact)}); claimed {claimed}"
              + ("" if bound == "exact" else f" ({bound.replace('_', ' ')})"))
    # A name matches other facts' names by accident ("AlexNet" won ILSVRC-2012 but did not invent ReLUs):
    # only a figure is looked up among the other facts.
    others = () if holds or fact.values is not None else tuple(
        f"{other.statement} ({base.cite(other)})" for other in base.facts.values()
        if other.id != fact.id and other.values is None and _matches(other, claimed, "exact", approx))
    return FactFinding(holds, shown, detail, others, fact.statement)


def _matches(fact: Fact, claimed: Any, bound: str, approx: bool) -> bool:
    if fact.values is not None:
        return _norm(str(claimed)) in {_norm(v) for v in fact.values}
    try:
        mine = precision(_strip_unit(claimed, fact.unit), approx)
    except ArithError:
        return False
    return overlaps(mine, precision(fact.value, fact.approx), bound)
