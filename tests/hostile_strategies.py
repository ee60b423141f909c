"""Hypothesis strategies for hostile and careless input (issue 10).

Text that tries to become something else (rich markup, terminal escapes, markdown links and
images, HTML, characters XML forbids), values that YAML or a careless hand turns into the wrong
type (booleans for numbers, non-finite and oversized numbers), and the place in a small valid
spec where each goes. The test file drives every command with them.
"""

from __future__ import annotations

import copy
from typing import Any, Callable

import yaml
from hypothesis import strategies as st

# ---------------------------------------------------------------- text that wants to be markup

MARKUP = [
    "[red]red[/red]", "[link=https://evil.example/]click[/link]", "[/]", "[bold", "]]", "[[", "[/red]",
    "\x1b[2J\x1b[H", "\x1b]52;c;ZXZpbA==\x07", "\x1b]8;;https://evil.example/\x1b\\here\x1b]8;;\x1b\\", "\x07", "\x00",
    "\x9b31m", "\u202eevil\u202c", "\u200b", "\r", "\n", "\t", "\x0c", "\x7f",
    "[x](https://evil.example/)", "![i](https://evil.example/pixel.png)", "<img src=x onerror=alert(1)>",
    "<script>alert(1)</script>", "&lt;", "&#60;", "<https://evil.example/>", "https://evil.example/", "www.evil.example",
    "user@evil.example", "**bold**", "`code`", "|", "\\", "# heading", "]]>", "<![CDATA[", "\ufffe", "\udcff",
]

hostile_piece = st.sampled_from(MARKUP) | st.text(
    st.characters(codec="utf-8", categories=["Cc", "Cf", "Po", "Ps", "Pe", "Sm", "Lu"]), max_size=6)
hostile_text = st.lists(hostile_piece, min_size=1, max_size=5).map("".join)

# ---------------------------------------------------------------- values that are not what they seem

BOOLEANS = [True, False]
NON_FINITE = [float("inf"), float("-inf"), float("nan")]
huge_int = st.integers(min_value=31, max_value=4200).map(lambda digits: 10**digits)  # YAML writes up to 4,300 digits
tiny_float = st.sampled_from([1e-300, 5e-324, -1e-300])
oversized = huge_int | st.sampled_from([-(10**40), 2**63, 2**64, 1e308, -1e308])
bad_number = st.sampled_from(BOOLEANS) | st.sampled_from(NON_FINITE) | oversized | tiny_float

# ---------------------------------------------------------------- where they go

BASE: dict[str, Any] = {
    "id": "hostile",
    "title": "a small network",
    "source": {"seed": "test", "section": "tests", "framework": "pytorch"},
    "input": [1, 12, 12],
    "num_classes": 4,
    "training": {"dataset": "mnist", "optimizer": "sgd", "lr": 0.01, "momentum": 0.9, "weight_decay": 0.0001,
                 "batch_size": 8, "epochs": 2},
    "layers": [
        {"kind": "conv", "name": "conv1", "out_channels": 2, "kernel": 3, "stride": 1, "padding": 1},
        {"kind": "relu"},
        {"kind": "maxpool", "name": "pool1", "kernel": 2, "stride": 2},
        {"kind": "dropout", "p": 0.5},
        {"kind": "flatten"},
        {"kind": "linear", "name": "fc", "out_features": 4},
    ],
    "claims": [
        {"id": "conv1-params", "kind": "params", "target": "conv1", "claimed": 20, "where": "table"},
        {"id": "conv1-shape", "kind": "output_shape", "target": "conv1", "claimed": "12x12x2", "where": "table"},
        {"id": "fc-macs", "kind": "macs", "target": "fc", "claimed": 288, "tolerance": 0.01, "where": "table"},
        {"id": "acc", "kind": "training", "metric": "test_accuracy", "claimed": "99%", "dataset": "mnist",
         "epochs": 2, "where": "results"},
        {"id": "relu-faster", "kind": "speedup", "claimed": 6, "baseline": "tanh", "target_error": 0.25,
         "dataset": "cifar10", "where": "3.1"},
        {"id": "count", "kind": "layer_count", "of": "conv", "claimed": 1, "where": "text"},
        {"id": "pool", "kind": "structure", "claimed": "max pooling", "check": {"all_of": "maxpool", "kernel": 2},
         "where": "text"},
        {"id": "history", "kind": "unverifiable", "claimed": "first", "needs": "a history book", "where": "intro"},
    ],
    "notes": "plain notes",
}
# conv1: 1*2*3*3 + 2 = 20 parameters, 12x12x2 output with padding 1; fc: 2*6*6 = 72 inputs x 4 = 288 MACs.

# Every numeric field of BASE, as a path into the document.
NUMERIC_FIELDS: list[tuple[Any, ...]] = [
    ("input", 0), ("input", 1), ("input", 2), ("num_classes",),
    ("training", "lr"), ("training", "momentum"), ("training", "weight_decay"), ("training", "batch_size"),
    ("training", "epochs"),
    ("layers", 0, "out_channels"), ("layers", 0, "kernel"), ("layers", 0, "stride"), ("layers", 0, "padding"),
    ("layers", 2, "kernel"), ("layers", 2, "stride"), ("layers", 3, "p"), ("layers", 5, "out_features"),
    ("claims", 0, "claimed"), ("claims", 2, "claimed"), ("claims", 2, "tolerance"), ("claims", 3, "claimed"),
    ("claims", 3, "epochs"), ("claims", 4, "claimed"), ("claims", 4, "target_error"), ("claims", 5, "claimed"),
    ("claims", 6, "check", "kernel"),
]
# Every free-text field: shown in every output, and never as markup.
TEXT_FIELDS: list[tuple[Any, ...]] = [
    ("title",), ("notes",), ("source", "section"), ("source", "seed"), ("training", "where"),
    ("claims", 0, "where"), ("claims", 0, "note"), ("claims", 0, "quote"), ("claims", 6, "claimed"),
    ("claims", 7, "claimed"), ("claims", 7, "needs"), ("claims", 3, "where"),
]


def with_value(path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    """BASE with the field at `path` set to `value`."""
    doc = copy.deepcopy(BASE)
    node: Any = doc
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return doc


def dump(doc: dict[str, Any]) -> str:
    # allow_unicode: the characters are written as themselves, as a careless user would paste them.
    return yaml.safe_dump(doc, allow_unicode=True, sort_keys=False, width=10_000)


FLOAT_FIELDS = {"lr", "momentum", "weight_decay", "p", "tolerance", "target_error"}


def _bad(path: tuple[Any, ...], value: Any) -> bool:
    """Whether `value` is outside what the field at `path` accepts. A claim's counts have no
    upper bound short of 10^30 (a source may write any figure), a positive tiny float is a fine
    tolerance, and any finite positive float a learning rate, so those are left out."""
    if isinstance(value, int) and not isinstance(value, bool) and path[0] == "claims" and abs(value) <= 10**30:
        return False
    if path[-1] == "lr" and not isinstance(value, bool) and 0 < value < float("inf") and (isinstance(value, float) or value <= 10**30):
        return False  # any finite positive rate is a rate (a huge one is how divergence is tested)
    return not (isinstance(value, float) and 0 < value < 1e-100 and path[-1] in FLOAT_FIELDS)


bad_value_spec: st.SearchStrategy[tuple[tuple[Any, ...], Any, str]] = st.tuples(
    st.sampled_from(NUMERIC_FIELDS), bad_number).filter(lambda pv: _bad(*pv)).map(
    lambda pv: (pv[0], pv[1], dump(with_value(*pv))))
hostile_text_spec: st.SearchStrategy[tuple[tuple[Any, ...], str, str]] = st.tuples(
    st.sampled_from(TEXT_FIELDS), hostile_text).map(lambda pt: (pt[0], pt[1], dump(with_value(*pt))))

# ---------------------------------------------------------------- hostile baselines and records

DEEP = "[" * 100_000 + "]" * 100_000


def _baseline(specs: Any) -> str:
    import json

    return json.dumps({"format": "alexnet-audit-baseline/1", "specs": specs})


BAD_BASELINES: dict[str, Callable[[], str]] = {
    "verdict is a list": lambda: _baseline({"hostile": {"conv1-params": ["holds"]}}),
    "verdict is a mapping": lambda: _baseline({"hostile": {"conv1-params": {"a": 1}}}),
    "verdict is a number": lambda: _baseline({"hostile": {"conv1-params": 1}}),
    "100,000-deep nesting": lambda: '{"format": "alexnet-audit-baseline/1", "specs": ' + DEEP + "}",
    "5,000-digit integer": lambda: '{"format": "alexnet-audit-baseline/1", "specs": {"hostile": {"x": ' + "9" * 5000 + "}}}",
    "spec id with an escape": lambda: _baseline({"\x1b[2Jx": {"a": "holds"}}),
    "claim id with a newline": lambda: _baseline({"hostile": {"a\nb": "holds"}}),
    "not an object": lambda: "[1, 2, 3]",
    "NaN": lambda: "NaN",
}

bad_baseline = st.sampled_from(sorted(BAD_BASELINES))
