"""A live model's functional call with a value of the wrong sort is refused at its own line.

`alexnet-audit import --module FILE.py:NAME` traces the module with torch.fx; each functional call
in forward() becomes a layer, its arguments bound by the table and then turned into spec fields.
A value the table carries but no spec field can hold (`F.leaky_relu(x, "a")`) must be named where
the user wrote it: the file, the line of the call and the call as written, never "line 0".
"""

from __future__ import annotations

from pathlib import Path

import pytest

from alexnet_audit.errors import AuditError
from alexnet_audit.importer import import_spec
from import_helpers import CONV_NET

# Every functional kind with fields that the live importer reads, each given a value no field holds.
WRONG = [
    ('F.max_pool2d(self.conv(x), "2")', "kernel_size='2' is refused: not a value this field holds"),
    ("F.max_pool2d(self.conv(x), 2, (1, 2, 3))", "stride [1, 2, 3] is not a pair"),
    ("F.avg_pool2d(self.conv(x), 2, 2, (1, 0, 1))", "padding [1, 0, 1] is not a pair"),
    ("F.adaptive_avg_pool2d(self.conv(x), 2.5)", "output_size=2.5 is refused: not a value this field holds"),
    ('F.dropout(self.conv(x), "half")', "p='half' is refused: not a value this field holds"),
    ("F.local_response_norm(self.conv(x), 2.5)", "size=2.5 is refused: not a value this field holds"),
    ('F.leaky_relu(self.conv(x), "a")', "negative_slope='a' is refused: not a value this field holds"),
    ("F.elu(self.conv(x), None)", "alpha=None is refused: not a value this field holds"),
]


# ids: the function and the field it refuses (two rows are F.max_pool2d's)
@pytest.mark.parametrize(("call", "why"), WRONG,
                         ids=[f"{call.split('(')[0]}-{why.split()[0].split('=')[0]}" for call, why in WRONG])
def test_a_wrong_sort_of_value_names_the_file_and_line_of_the_call(tmp_path: Path, call: str, why: str) -> None:
    path = tmp_path / "net.py"
    path.write_text(CONV_NET.format(forward=call))
    with pytest.raises(AuditError) as err:
        import_spec(None, module=f"{path}:Net", input="3x16x16")
    assert (err.value.file, err.value.line) == (str(path), 10)
    assert str(err.value) == f"{path}:10: return {call}: {why}"


def test_the_line_is_the_calls_own_in_a_longer_forward(tmp_path: Path) -> None:
    # The good call on line 10 is read; the bad one on line 11 is named, not the first or the def.
    path = tmp_path / "net.py"
    path.write_text(CONV_NET.format(forward="F.relu(self.conv(x))").replace(
        "return F.relu(self.conv(x))", 'y = F.max_pool2d(self.conv(x), 2)\n        return F.leaky_relu(y, "a")'))
    assert path.read_text().splitlines()[10] == '        return F.leaky_relu(y, "a")'
    with pytest.raises(AuditError) as err:
        import_spec(None, module=f"{path}:Net", input="3x16x16")
    assert str(err.value) == (f'{path}:11: return F.leaky_relu(y, "a"): '
                              "negative_slope='a' is refused: not a value this field holds")
