"""A listing's string formatting pads without bound, as a repeated sequence does: refused before it is built."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import pytest

from alexnet_audit.errors import AuditError
from alexnet_audit.importer import import_code

_LISTING = """\
import torch.nn as nn

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(10, {size})

    def forward(self, x):
        return self.fc(x)
"""


def _write(tmp_path: Path, size: str) -> Path:
    path = tmp_path / "listing.py"
    path.write_text(_LISTING.format(size=size), encoding="utf-8")
    return path


def _import_peak(path: Path) -> tuple[AuditError, int]:
    tracemalloc.start()
    try:
        with pytest.raises(AuditError) as refused:
            import_code(path, input=(1, 1, 10))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return refused.value, peak


@pytest.mark.parametrize("size", ['len("%*d" % (10**12, 1))', 'len("%*d" % (10**8, 1))', 'len("%.100000000d" % 1)',
                                  'len("%0100000000d" % 1)'])
def test_a_wide_formatted_field_is_refused_before_it_is_built(tmp_path: Path, size: str) -> None:
    # 10**12 spaces raised MemoryError (an internal error, exit 3); 10**8 took 100 MB first.
    # Refused as a repeated sequence is, the whole import stays under 50 MB.
    _, peak = _import_peak(_write(tmp_path, size))
    assert peak < 50 * 2**20, f"peak {peak / 2**20:.0f} MiB"


def test_it_is_refused_as_a_long_repeated_sequence_is(tmp_path: Path) -> None:
    repeated, _ = _import_peak(_write(tmp_path, "len([0] * 10**8)"))
    formatted, _ = _import_peak(_write(tmp_path, 'len("%*d" % (10**8, 1))'))
    assert formatted.message == repeated.message


@pytest.mark.parametrize(("size", "width"), [
    ('len("%*d" % (7, 1))', 7),  # a * width taken from the arguments: 6 spaces and the 1
    ('len("%5d%%" % 3)', 6),  # 4 spaces, the 3, and a literal %
    ('len("%%9999999d" % ())', 9),  # %% is a percent sign, not a field: "%9999999d" as text, 9 characters
    ('len("%4096d" % 1)', 4096),  # at the bound, not past it
])
def test_formatting_within_the_bound_still_evaluates(tmp_path: Path, size: str, width: int) -> None:
    text = import_code(_write(tmp_path, size), input=(1, 1, 10)).text
    assert f"{{kind: linear, name: fc, out_features: {width}}}" in text
