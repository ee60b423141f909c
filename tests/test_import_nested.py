"""Nested lists a listing builds are bounded by every item they hold, not by their top level alone:
a few bytes of `[[[0] * 4096] * 4096] * 4096` are 69 billion items to any walk or `str()` of them."""

from __future__ import annotations

from pathlib import Path

import pytest

from alexnet_audit.importer import import_code
from alexnet_audit.importer.consts import items_in

_LISTING = """\
import torch.nn as nn

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(10, 4)
        self.fc2 = nn.Linear(4, {size})

    def forward(self, x):
        return self.fc2(self.fc1(x))
"""


def test_items_are_counted_as_often_as_they_are_referenced() -> None:
    # nine references to one list of nine zeros: 9 + 9 x 9 = 90 items, two levels
    assert items_in([[0] * 9] * 9) == (90, 2)
    # [1, [2, [3]]]: 2 + 2 + 1 = 5 items, three levels; a string counts its characters
    assert items_in([1, [2, [3]]]) == (5, 3)
    assert items_in(["abc", ("de",)]) == (2 + 3 + 1 + 2, 2)
    assert items_in("abcd") == (4, 0)
    assert items_in(7) == (0, 0)
    looped: list[object] = [1]
    looped.append(looped)  # a list holding itself counts its own two items once
    assert items_in(looped) == (2, 1)


@pytest.mark.parametrize(("size", "why"), [
    ("len([[[0] * 4096] * 4096] * 4096)", "a sequence too long to evaluate"),  # 4096 x 4097 items at the second *
    ("len([[0] * 64] * 64)", "a sequence too long to evaluate"),  # 64 + 64 x 64 = 4,160 > 4,096
    ("len(" + "[" * 65 + "0" + "]" * 65 + ")", "a sequence nested too deeply to evaluate"),  # 65 levels, 65 items
])
def test_a_nested_sequence_past_the_bounds_is_not_read(tmp_path: Path, size: str, why: str) -> None:
    path = tmp_path / "listing.py"
    path.write_text(_LISTING.format(size=size), encoding="utf-8")
    imported = import_code(path, input=(1, 1, 10))
    assert f"# - line 7: {why}: self.fc2 = nn.Linear(4, {size})" in imported.text
    assert "out_features: 4}" in imported.text and "fc2" not in imported.text.split("layers:")[1]


def test_a_nested_table_within_the_bounds_is_read(tmp_path: Path) -> None:
    # 63 + 63 x 63 = 4,032 items: read, and its length is the layer's width
    path = tmp_path / "listing.py"
    path.write_text(_LISTING.format(size="len([[0] * 63] * 63)"), encoding="utf-8")
    assert "{kind: linear, name: fc2, out_features: 63}" in import_code(path, input=(1, 1, 10)).text
