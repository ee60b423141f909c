"""Exceptions Python raises on a listing's arithmetic that escaped the static importer as internal errors
(exit 3): the type checker found ~ of a float; the rest sit beside it. Each is named by what a user saw."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import pytest
from typer.testing import CliRunner

from alexnet_audit.cli import app
from alexnet_audit.errors import AuditError
from alexnet_audit.importer import import_code

_LISTING = """\
import torch.nn as nn

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(10, int({size}))

    def forward(self, x):
        return self.fc(x)
"""


# The same layer after one the importer reads: the import goes on, and names the line it could not read.
_AFTER_A_FLATTEN = """\
import torch.nn as nn

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.flat = nn.Flatten()
        self.fc = nn.Linear(10, int({size}))

    def forward(self, x):
        return self.fc(self.flat(x))
"""


def _write(tmp_path: Path, size: str, listing: str = _LISTING) -> Path:
    path = tmp_path / "listing.py"
    path.write_text(listing.format(size=size), encoding="utf-8")
    return path


def _not_read(tmp_path: Path, size: str) -> str:
    """What the import of _AFTER_A_FLATTEN says of its line 7, the Linear whose size is `size`."""
    text = import_code(_write(tmp_path, size, _AFTER_A_FLATTEN), input=(1, 1, 10)).text
    return next(line for line in text.splitlines() if line.startswith("# - line 7: "))


def test_inverting_a_float_is_read_like_any_arithmetic_that_does_not_evaluate(tmp_path: Path) -> None:
    # Python refuses ~2.5 with TypeError; the reader let it escape, where 1 % 0 (ZeroDivisionError) is
    # caught and named as arithmetic that does not evaluate, at the line of the assignment as written.
    assert _not_read(tmp_path, "~2.5") == ("# - line 7: arithmetic that does not evaluate: "
                                           "self.fc = nn.Linear(10, int(~2.5))")


def test_the_command_says_so_and_exits_2_not_3(tmp_path: Path) -> None:
    out = tmp_path / "spec.yaml"
    result = CliRunner().invoke(app, ["import", str(_write(tmp_path, "~2.5")), "--input", "1x1x10", "-o", str(out)])
    assert result.exit_code == 2, result.output
    assert "internal error" not in result.output
    assert not out.exists()


@pytest.mark.parametrize(("size", "why"), [('"a" ** 2', "arithmetic that does not evaluate"),
                                           ("0 ** -1", "arithmetic that does not evaluate"),
                                           ("1e300 ** 2", "arithmetic that does not evaluate"),
                                           ("len([0] * 10**12)", "a sequence too long to evaluate")])
def test_arithmetic_that_python_refuses_is_read_like_any_arithmetic_that_does_not_evaluate(
        tmp_path: Path, size: str, why: str) -> None:
    # TypeError, ZeroDivisionError, OverflowError (1e300 squared is past a float's 1.8e308) and
    # MemoryError (10**12 list items of 8 bytes are 8 TB) escaped as internal errors (exit 3).
    # The last is now refused before Python tries to build it (the test below), as too long.
    assert _not_read(tmp_path, size) == f"# - line 7: {why}: self.fc = nn.Linear(10, int({size}))"


@pytest.mark.parametrize("size", ["int(1e400)", "round(1e400)"])
def test_an_infinite_float_made_an_int_is_read_like_any_builtin_that_does_not_evaluate(tmp_path: Path, size: str) -> None:
    # 1e400 overflows to inf, and int(inf) raises OverflowError, which escaped as an internal error (exit 3)
    # where int("x") (ValueError) is caught and named as that builtin's call that does not evaluate.
    builtin = size.split("(")[0]
    assert _not_read(tmp_path, size) == (f"# - line 7: {builtin}() that does not evaluate: "
                                         f"self.fc = nn.Linear(10, int({size}))")


def test_inverting_an_int_still_evaluates(tmp_path: Path) -> None:
    # Two's complement: ~n == -n - 1, so ~-6 == 5 and the layer is Linear(10, 5).
    text = import_code(_write(tmp_path, "~-6"), input=(1, 1, 10)).text
    assert "{kind: linear, name: fc, out_features: 5}" in text


def test_a_long_repeated_sequence_is_refused_before_it_is_built(tmp_path: Path) -> None:
    # [0] * 10**8 is 10**8 pointers of 8 bytes: 800 MB, built and only then found longer than
    # 4096 items. Refused first, the whole import stays under 50 MB.
    path = _write(tmp_path, "len([0] * 10**8)")
    tracemalloc.start()
    try:
        with pytest.raises(AuditError):
            import_code(path, input=(1, 1, 10))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 50 * 2**20, f"peak {peak / 2**20:.0f} MiB"
