"""`compare` puts side by side the layers two or more specs share by name; each network's other
conv/linear layers are one row that adds up to its totals. Figures by hand for LeNet-5 on 3x32x32."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from alexnet_audit.audit import audit_paths
from alexnet_audit.render.terminal import compare_view, shared_layers

from helpers import LENET, spec_text

# A deeper network of its own names: two convs and one linear layer nobody else has.
OTHER = """  - {kind: conv, name: conv1, out_channels: 6, kernel: 5}
  - {kind: conv, name: deep_a, out_channels: 8, kernel: 3}
  - {kind: conv, name: deep_b, out_channels: 8, kernel: 3}
  - {kind: flatten}
  - {kind: linear, name: head, out_features: 10}
"""


def _run(tmp_path: Path, *layer_lists: str):
    paths = []
    for i, layers in enumerate(layer_lists):
        path = tmp_path / f"s{i}.yaml"
        path.write_text(spec_text(layers, id=f"s{i}"))
        paths.append(path)
    return audit_paths(paths)


def test_rows_are_the_layers_two_specs_share_and_the_rest_adds_up(tmp_path: Path) -> None:
    run = _run(tmp_path, LENET, LENET.replace("fc3", "out"), OTHER)
    # conv1 is in all three, conv2/fc1/fc2 in both LeNets; fc3, out and OTHER's own layers in one only.
    assert shared_layers(run.audits) == ["conv1", "conv2", "fc1", "fc2"]
    console = Console(width=120, record=True)
    console.print(compare_view(run, 120))
    text = console.export_text()
    assert "deep_a" not in text and "head" not in text and "fc3" not in text
    # OTHER's rest: deep_a 6*8*9+8 = 440, deep_b 8*8*9+8 = 584 params on 28->26->24; head 8*24*24*10+10 = 46,090.
    # MACs: deep_a 26*26*8*54 = 292,032; deep_b 24*24*8*72 = 331,776; head 46,080.
    rest = next(line for line in text.splitlines() if "other conv/linear" in line)
    assert "+1 layer " in rest and "+3 layers" in rest  # fc3 and out; OTHER's three
    assert "47.11K params" in text  # 440 + 584 + 46,090 = 47,114
    assert "669.89K MACs" in text  # 292,032 + 331,776 + 46,080 = 669,888


def test_a_single_spec_shows_every_conv_and_linear_layer(tmp_path: Path) -> None:
    run = _run(tmp_path, OTHER)
    assert shared_layers(run.audits) == ["conv1", "deep_a", "deep_b", "head"]
