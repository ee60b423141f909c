"""Diagnoses on graph specs: a layer's input is what feeds it along the data path, not the row
written before it (on a graph that row often ends another branch)."""

from __future__ import annotations

from alexnet_audit.analysis import analyse
from alexnet_audit.claims import ClaimResult, Verdict, judge_all
from alexnet_audit.spec import spec_from_text

from helpers import spec_text

# Branch a: 8x8 -> 6x6 -> 4x4 (two unpadded 3x3 convs); branch b: one unpadded 5x5 conv, 8x8 -> 4x4.
# The row before m.b1 is m.a2, whose 4x4 output is not m.b1's input (the block's 8x8 input).
BRANCHES = """  - block: m
    branches:
      - [{kind: conv, name: a1, out_channels: 4, kernel: 3}, {kind: conv, name: a2, out_channels: 4, kernel: 3}]
      - [{kind: conv, name: b1, out_channels: 4, kernel: 5}]
    merge: add
  - {kind: flatten, name: flatten}
  - {kind: linear, name: fc, out_features: 10}
"""


def _judged(layers: str, claims: str) -> dict[str, ClaimResult]:
    analysis = analyse(spec_from_text(spec_text(layers, claims=claims, input="[3, 8, 8]")))
    return {c.id: c for c in judge_all(analysis)}


def test_a_padding_reading_of_a_branch_layer_starts_from_the_branch_input() -> None:
    found = _judged(BRANCHES, """  - {id: b1-shape, kind: output_shape, target: m.b1, claimed: 8x8x4, where: here}
  - {id: b1-macs, kind: macs, target: m.b1, claimed: 19200, where: here}
""")
    # TensorFlow SAME at stride 1 keeps the 8x8 input: a 5x5 window padded 2 per side,
    # (8 + 4 - 5) / 1 + 1 = 8. Fed the 4x4 of the row before, SAME would keep 4x4, the shape
    # m.b1 has, and the reading would be dropped as changing nothing.
    same = "m.b1 padded 'same' instead of 0 (TensorFlow SAME/VALID vs an explicit pad) gives "
    shape = found["b1-shape"]
    assert (shape.verdict, shape.measured) == (Verdict.FAILS, "4x4x4")
    assert shape.diagnoses[0].message == same + "8x8x4"
    # MACs padded: 8 * 8 outputs * 4 maps * (3 * 5 * 5) = 19,200; as written 4 * 4 * 4 * 75 = 4,800.
    macs = found["b1-macs"]
    assert (macs.verdict, macs.measured) == (Verdict.FAILS, 4 * 4 * 4 * 75)
    assert [d.message for d in macs.diagnoses] == [same + f"{8 * 8 * 4 * 75:,}"]


# stem 3 -> 4 and m.a 4 -> 3, 1x1 without bias: 12 weights each; m.b 4 -> 5: 20.
SIBLINGS = """  - {kind: conv, name: stem, out_channels: 4, kernel: 1, bias: false}
  - block: m
    branches:
      - [{kind: conv, name: a, out_channels: 3, kernel: 1, bias: false}]
      - [{kind: conv, name: b, out_channels: 5, kernel: 1, bias: false}]
    merge: concat
  - {kind: flatten, name: flatten}
  - {kind: linear, name: fc, out_features: 10}
"""


def test_another_layers_figure_prefers_the_layer_on_the_data_path() -> None:
    found = _judged(SIBLINGS, "  - {id: b-params, kind: params, target: m.b, claimed: 12, where: here}\n")["b-params"]
    assert (found.verdict, found.measured) == (Verdict.FAILS, 4 * 5)
    # m.a is the row just before m.b but on the other branch; stem feeds m.b (one step up the
    # path), so it is the likelier row read by mistake, and both give 3 * 4 = 4 * 3 = 12.
    assert [d.message for d in found.diagnoses] == [
        "the figure belongs to another layer: stem gives 12", "the figure belongs to another layer: m.a gives 12"]
