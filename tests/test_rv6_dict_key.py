"""A dict literal whose key Python refuses to hash is a value the reader cannot read, not an internal error."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from alexnet_audit.cli import app

_LISTING = """\
import torch.nn as nn

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(10, {size})

    def forward(self, x):
        return self.fc(x)
"""


def _import(tmp_path: Path, size: str) -> tuple[int, str, Path]:
    listing, out = tmp_path / "listing.py", tmp_path / "spec.yaml"
    listing.write_text(_LISTING.format(size=size), encoding="utf-8")
    result = CliRunner().invoke(app, ["import", str(listing), "--input", "1x1x10", "-o", str(out)])
    return result.exit_code, result.output, out


def test_a_list_as_a_dict_key_exits_2_not_3(tmp_path: Path) -> None:
    # {[1]: 2} raised TypeError (unhashable type: 'list'), which escaped as an internal error, exit 3.
    code, output, out = _import(tmp_path, "{[1]: 2}[0]")
    assert code == 2, output
    assert "internal error" not in output
    assert not out.exists()


def test_a_dict_of_plain_keys_still_evaluates(tmp_path: Path) -> None:
    # {"a": 3, "b": 5}["b"] is 5: the layer is Linear(10, 5).
    code, output, out = _import(tmp_path, '{"a": 3, "b": 5}["b"]')
    assert code == 0, output
    assert "{kind: linear, name: fc, out_features: 5}" in out.read_text(encoding="utf-8")
