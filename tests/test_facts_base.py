"""The reference base of facts is read with the models' one strict base (strict.Frozen): what
that base refuses in a spec, it refuses in the facts, in one line at the field and line."""

from __future__ import annotations

import pytest

from alexnet_audit.errors import AuditError
from alexnet_audit.facts import load_facts

BASE = """sources:
  paper: {short: A 2012, reference: the paper}
facts:
  - id: year
    statement: published in 2012
    value: VALUE
    source: paper
    citation: title page
"""


def test_the_shipped_base_still_loads() -> None:
    base = load_facts()
    year = base.facts["alexnet-year"]  # NIPS 25, December 2012
    assert (year.value, base.cite(year)) == (2012, "Krizhevsky, Sutskever and Hinton 2012, publication record (NIPS 25, December 2012)")


def test_a_written_out_figure_loads() -> None:
    assert load_facts(BASE.replace("VALUE", "2012")).facts["year"].value == 2012


@pytest.mark.parametrize("value, line, field, message", [
    # a bare yes was read as the number 1 before: now a stray boolean, as in a spec
    ("yes", 4, "facts[0]", "fact year: value: a boolean where a number or text belongs"),
    (".inf", 6, "facts[0].value", "fact year: Input should be a finite number"),
    (".nan", 6, "facts[0].value", "fact year: Input should be a finite number"),
    ("1" + "0" * 31, 4, "facts[0]", "fact year: value: an integer larger than 10^30 in magnitude"),
])
def test_what_the_strict_base_refuses_is_refused_in_one_line_at_its_field(value: str, line: int, field: str, message: str) -> None:
    with pytest.raises(AuditError) as err:
        load_facts(BASE.replace("VALUE", value))
    assert (err.value.file, err.value.line, err.value.field) == ("facts.yaml", line, field)
    assert f"the reference base is malformed: {message}" in str(err.value)
    assert "\n" not in str(err.value)


def test_an_unknown_source_is_named_at_its_line() -> None:
    with pytest.raises(AuditError) as err:
        load_facts(BASE.replace("VALUE", "2012").replace("source: paper", "source: book"))
    assert (err.value.line, err.value.field) == (7, "facts[0].source")
    assert "fact year: duplicate id or unknown source 'book'" in str(err.value)
