"""`inspect` names where a graph's data does not come from the row above: branch starts and
merge points with their inputs, read off the spec by hand here."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from alexnet_audit.audit import audit_paths
from alexnet_audit.render.terminal import data_path, inspect_view

from helpers import LENET, spec_text

# The residual block of test_graph.py, then an identity shortcut around the network's first layer.
RESIDUAL = """  - block: stem
    branches:
      - [{kind: conv, name: conv, out_channels: 3, kernel: 3, padding: 1}]
      - []
    merge: add
  - {kind: conv, name: conv1, out_channels: 8, kernel: 3, padding: 1, bias: false}
  - block: layer1
    branches:
      - [{kind: conv, name: conv1, out_channels: 16, kernel: 3, stride: 2, padding: 1, bias: false},
         {kind: batchnorm, name: bn1}]
      - [{kind: conv, name: down, out_channels: 16, kernel: 1, stride: 2, bias: false}]
    merge: add
  - {kind: relu, name: relu2}
  - {kind: flatten, name: flatten}
  - {kind: linear, name: fc, out_features: 10}
"""


def _audit(tmp_path: Path, layers: str):
    path = tmp_path / "net.yaml"
    path.write_text(spec_text(layers))
    return audit_paths([path]).audits[0]


def test_graph_lists_each_branch_start_and_merge_with_its_inputs(tmp_path: Path) -> None:
    audit = _audit(tmp_path, RESIDUAL)
    # Each merge point is `add_1` in its block's scope (README, "Each merge point"): written out, not read back.
    assert [layer.name for layer in audit.spec.layers if layer.is_merge] == ["stem.add_1", "layer1.add_1"]
    text = data_path(audit)
    assert text is not None
    # stem.conv is fed by the input as the first row is: on the line. The stem's add takes the conv
    # and the input itself; layer1.down starts the second branch from conv1's output; layer1's add
    # takes the two branches' ends; every other layer is fed by the row above.
    assert text.plain.splitlines()[1:] == [
        "  stem.add_1 = add(stem.conv, the input)",
        "  layer1.down takes conv1",
        "  layer1.add_1 = add(layer1.bn1, layer1.down)",
    ]


def test_a_line_of_layers_has_no_data_path_section(tmp_path: Path) -> None:
    audit = _audit(tmp_path, LENET)
    assert data_path(audit) is None
    console = Console(width=80, record=True)
    console.print(inspect_view(audit, 80))
    assert "data path" not in console.export_text()
