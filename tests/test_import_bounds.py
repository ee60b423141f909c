"""What a listing's expressions may build, bounded before Python builds it or anything walks it:
long and nested sequences, wide formatted fields, unhashable dict keys. A refused size is named in
the spec's header at its line, the rest of the network is still read, and the import never ends
in an internal error, a hang or a huge allocation."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import pytest
from typer.testing import CliRunner

from alexnet_audit.cli import app
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
TOO_LONG = "a sequence too long to evaluate"


def _write(tmp_path: Path, size: str) -> Path:
    path = tmp_path / "listing.py"
    path.write_text(_LISTING.format(size=size), encoding="utf-8")
    return path


def _imported(tmp_path: Path, size: str) -> tuple[str, int]:
    """The spec's text and the import's peak of traced memory."""
    tracemalloc.start()
    try:
        text = import_code(_write(tmp_path, size), input=(1, 1, 10)).text
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return text, peak


def _refused(tmp_path: Path, size: str, why: str) -> None:
    text, peak = _imported(tmp_path, size)
    assert f"# - line 7: {why}: self.fc2 = nn.Linear(4, {size})" in text
    layers = text.split("layers:")[1]
    assert "name: fc1, out_features: 4}" in layers and "fc2" not in layers
    assert peak < 50 * 2**20, f"peak {peak / 2**20:.0f} MiB"


def _read_as(tmp_path: Path, size: str, width: int) -> None:
    assert f"{{kind: linear, name: fc2, out_features: {width}}}" in _imported(tmp_path, size)[0]


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
    # a few bytes, 4,096 x 4,097 items at the second *: a walk over the third took hours
    ("len([[[0] * 4096] * 4096] * 4096)", TOO_LONG),
    ("len([[0] * 64] * 64)", TOO_LONG),  # 64 + 64 x 64 = 4,160 > 4,096
    ("len([0] * 10**8)", TOO_LONG),  # 800 MB if built
    ("len(" + "[" * 65 + "0" + "]" * 65 + ")", "a sequence nested too deeply to evaluate"),  # 65 levels, 65 items
    # string formatting pads without bound, as * repeats: 10**12 spaces raised MemoryError (exit 3), 10**8 took
    # 100 MB before it was refused
    ('len("%*d" % (10**12, 1))', TOO_LONG),
    ('len("%*d" % (10**8, 1))', TOO_LONG),
    ('len("%.100000000d" % 1)', TOO_LONG),
    ('len("%0100000000d" % 1)', TOO_LONG),
    # {[1]: 2} raised TypeError (unhashable type: 'list'), which escaped as an internal error, exit 3
    ("{[1]: 2}[0]", "a dict key that is not hashable"),
])
def test_a_size_past_the_bounds_is_named_and_not_read(tmp_path: Path, size: str, why: str) -> None:
    _refused(tmp_path, size, why)


@pytest.mark.parametrize(("size", "width"), [
    ("len([[0] * 63] * 63)", 63),  # 63 + 63 x 63 = 4,032 items
    ('len("%*d" % (7, 1))', 7),  # a * width taken from the arguments: 6 spaces and the 1
    ('len("%5d%%" % 3)', 6),  # 4 spaces, the 3, and a literal %
    ('len("%%9999999d" % ())', 9),  # %% is a percent sign, not a field: "%9999999d" as text, 9 characters
    ('len("%4096d" % 1)', 4096),  # at the bound, not past it
    ('{"a": 3, "b": 5}["b"]', 5),
])
def test_a_size_within_the_bounds_is_read(tmp_path: Path, size: str, width: int) -> None:
    _read_as(tmp_path, size, width)


def test_the_command_line_imports_past_a_refused_size(tmp_path: Path) -> None:
    out = tmp_path / "spec.yaml"
    result = CliRunner().invoke(app, ["import", str(_write(tmp_path, "{[1]: 2}[0]")), "--input", "1x1x10", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "internal error" not in result.output
    assert "a dict key that is not hashable" in out.read_text(encoding="utf-8")
