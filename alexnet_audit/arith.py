"""Safe arithmetic for the figures and formulas that sources write out.

A small recursive-descent parser over + - * / ^ ** and parentheses, evaluated exactly with
fractions: never Python's `eval`. Sizes are bounded so no formula can exhaust memory.

Figures as written ("60 million", "650,000", "0.71 G", "6000万") parse to a value and to the
precision the writer used (half a unit of the last significant digit).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from fractions import Fraction

MAX_FORMULA_CHARS = 400
MAX_EXPONENT = 64
MAX_MAGNITUDE = Fraction(10) ** 30
# Exact fractions grow in their denominators too: 1/10^29 raised to the 64th four times has a
# 10^(29*64^4)-digit denominator, and 1/3^60 stays small in magnitude with many digits. Bounding
# the denominator refuses both, and so every nonzero value below 1/10^30 in magnitude (n/d with
# |n| >= 1 below 1/10^30 needs d > 10^30).
MAX_DENOMINATOR = 10**30
MAX_NESTING = 50  # parentheses, signs and exponents nested in one another (keeps the recursion shallow)


class ArithError(ValueError):
    """A formula or figure that cannot be parsed or evaluated."""


_TOKEN = re.compile(r"\s*(?:(\d+(?:\.\d+)?)|(\*\*|[-+*/^()×xX]))")


def _tokens(text: str) -> list[str]:
    if len(text) > MAX_FORMULA_CHARS:
        raise ArithError(f"formula longer than {MAX_FORMULA_CHARS} characters")
    pos, out = 0, []
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m:
            raise ArithError(f"unexpected character {text[pos]!r} at position {pos + 1} of {text!r}")
        tok = m.group(1) or m.group(2)
        out.append("*" if tok in ("×", "x", "X") else ("^" if tok == "**" else tok))
        pos = m.end()
    return out


class _Parser:
    def __init__(self, tokens: list[str], text: str) -> None:
        self.toks, self.i, self.text = tokens, 0, text
        self.depth = 0

    def peek(self) -> str | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self) -> str:
        tok = self.peek()
        if tok is None:
            raise ArithError(f"formula {self.text!r} ends too early")
        self.i += 1
        return tok

    def expr(self) -> Fraction:
        value = self.term()
        while self.peek() in ("+", "-"):
            value = value + self.term() if self.take() == "+" else value - self.term()
        return _bounded(value)

    def term(self) -> Fraction:
        value = self.unary()
        while self.peek() in ("*", "/"):
            op = self.take()
            rhs = self.unary()
            if op == "/" and rhs == 0:
                raise ArithError(f"division by zero in {self.text!r}")
            value = _bounded(value * rhs if op == "*" else value / rhs)
        return value

    def unary(self) -> Fraction:
        # Every nesting (parenthesis, sign, exponent) passes through here: bound it here.
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise ArithError(f"formula nested more than {MAX_NESTING} levels deep")
        try:
            if self.peek() in ("+", "-"):
                return -self.unary() if self.take() == "-" else self.unary()
            return self.power()
        finally:
            self.depth -= 1

    def power(self) -> Fraction:
        base = self.atom()
        if self.peek() == "^":
            self.take()
            exp = self.unary()
            if exp.denominator != 1 or abs(exp) > MAX_EXPONENT:
                raise ArithError(f"exponent {exp} out of range in {self.text!r}")
            if base == 0 and exp < 0:
                raise ArithError(f"division by zero in {self.text!r}")
            return _bounded(base ** int(exp))
        return base

    def atom(self) -> Fraction:
        tok = self.take()
        if tok == "(":
            value = self.expr()
            if self.take() != ")":
                raise ArithError(f"unbalanced parenthesis in {self.text!r}")
            return value
        if tok[0].isdigit():
            return Fraction(tok)
        raise ArithError(f"unexpected {tok!r} in {self.text!r}")


def _bounded(value: Fraction) -> Fraction:
    if abs(value) > MAX_MAGNITUDE:
        raise ArithError("value too large")
    if value.denominator > MAX_DENOMINATOR:
        raise ArithError("value too small or too finely divided")
    return value


def evaluate(text: str) -> Fraction:
    """The exact value of an arithmetic expression."""
    parser = _Parser(_tokens(text), text)
    value = parser.expr()
    if parser.peek() is not None:
        raise ArithError(f"unexpected {parser.peek()!r} in {text!r}")
    return value


@dataclass(frozen=True)
class Formula:
    """`lhs = stated`: what the source computed and the result it wrote down."""

    text: str
    lhs: Fraction
    stated: Fraction | None


def parse_formula(text: str) -> Formula:
    parts = text.split("=")
    if len(parts) > 2:
        raise ArithError(f"more than one '=' in {text!r}")
    stated = parse_figure(parts[1]).value if len(parts) == 2 else None
    return Formula(text, evaluate(parts[0]), stated)


_SCALES = {
    "": 1, "k": 10**3, "thousand": 10**3, "m": 10**6, "million": 10**6, "g": 10**9,
    "b": 10**9, "billion": 10**9, "万": 10**4, "亿": 10**8,
}
_FIGURE = re.compile(r"^\s*(-?[\d,]*\.?\d+)\s*([a-zA-Z万亿]*)\s*(%?)\s*$")


@dataclass(frozen=True)
class Figure:
    value: Fraction
    half_unit: Fraction  # half a unit of the last significant digit written


def parse_figure(text: str | int | float) -> Figure:
    """A number as a source wrote it, with the precision its digits imply."""
    if isinstance(text, bool):
        raise ArithError(f"{text!r} is not a number")
    if isinstance(text, float) and not math.isfinite(text):
        raise ArithError(f"{text!r} is not a number")
    if isinstance(text, int) and abs(text) > MAX_MAGNITUDE:
        raise ArithError("value too large")  # before str(): a 5,000-digit int cannot even be printed
    if isinstance(text, (int, float)):
        text = repr(text) if isinstance(text, float) else str(text)
    if len(text) > MAX_FORMULA_CHARS:
        raise ArithError(f"figure longer than {MAX_FORMULA_CHARS} characters")
    m = _FIGURE.match(text)
    if not m:
        raise ArithError(f"{text!r} is not a number")
    digits, unit, percent = m.group(1).replace(",", ""), m.group(2).lower(), m.group(3)
    if unit not in _SCALES:
        raise ArithError(f"unknown unit {m.group(2)!r} in {text!r}")
    scale = Fraction(_SCALES[unit]) / (100 if percent else 1)
    value = Fraction(digits) * scale
    if "." in digits:
        last = Fraction(1, 10 ** len(digits.split(".")[1]))
    else:
        stripped = digits.lstrip("-").rstrip("0") or "0"
        last = Fraction(10 ** (len(digits.lstrip("-")) - len(stripped))) if stripped != "0" else Fraction(1)
    return Figure(_bounded(value), last * scale / 2)
