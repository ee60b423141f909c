"""Round trips on the five posts: importing each post's code listing gives the network of the
hand-written code spec in specs/, layer by layer (kind, hyper-parameters, initialisation, output
shape, parameters, MACs), with the totals written out by hand below.

The posts live at ../shared/seeds beside the checkout (CI has them there); elsewhere these tests
cannot run, and test_import_static.py covers the same styles with listings of its own.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from alexnet_audit.analysis import Analysis, analyse
from alexnet_audit.importer import import_code
from alexnet_audit.init import FRAMEWORK_DEFAULTS
from alexnet_audit.spec import Spec, load_spec, spec_from_text

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT.parent / "shared" / "seeds"
pytestmark = pytest.mark.skipif(not SEEDS.is_dir(), reason="the posts are at ../shared/seeds beside the checkout")

# seed file, hand-written spec, trainable parameters added up by hand from each spec's header
# (the sums are the figures: 9,638,474; 28,075,633; 44,426; 14,591,685; 62,376,968)
CASES = [
    ("000_7b2e40ebace9b455.txt", "seed000-alexnet8-code.yaml",
     2_688 + 192 + 221_440 + 512 + 885_120 + 1_327_488 + 884_992 + 2_099_200 + 4_196_352 + 20_490),
    ("001_064323bdb59b6484.txt", "seed001-keras-code.yaml",
     34_944 + 192 + 2_973_952 + 512 + 885_120 + 768 + 1_327_488 + 768 + 884_992 + 512
     + 1_052_672 + 8_192 + 16_781_312 + 8_192 + 4_097_000 + 2_000 + 17_017),
    ("002_c1e88c9ea5899ef2.txt", "seed002-lenet5-code.yaml", 156 + 2_416 + 30_840 + 10_164 + 850),
    ("003_d71b9f1d5dd3f21e.txt", "seed003-alexnet-code.yaml",
     17_472 + 153_728 + 221_376 + 331_968 + 221_312 + 9_439_232 + 4_196_352 + 10_245),
    ("004_c338b316e2a88ea6.txt", "seed004-tf1-code.yaml",
     34_848 + 614_400 + 884_736 + 1_327_104 + 884_736 + 37_752_832 + 16_781_312 + 4_097_000),
]


def _effective_init(spec: Spec, layer):  # type: ignore[no-untyped-def]
    return layer.spec.init or spec.doc.init or FRAMEWORK_DEFAULTS[spec.doc.source.framework]


def _hyper(layer) -> dict:  # type: ignore[no-untyped-def]
    fields = layer.spec.model_dump(exclude={"name", "in_features", "init"})
    for key in ("kernel", "stride", "padding", "output_size"):
        value = fields.get(key)
        if isinstance(value, (tuple, list)) and len(value) == 2 and value[0] == value[1]:
            fields[key] = value[0]
    return fields


@pytest.mark.parametrize("seed, hand, total", CASES, ids=[c[1].removesuffix(".yaml") for c in CASES])
def test_importing_the_posts_code_gives_the_hand_written_spec(seed: str, hand: str, total: int,
                                                             shipped: dict[str, Analysis]) -> None:
    imported = spec_from_text(import_code(SEEDS / seed).text)
    written = load_spec(ROOT / "specs" / hand)
    assert imported.doc.input == written.doc.input and imported.doc.num_classes == written.doc.num_classes
    assert imported.doc.source.framework == written.doc.source.framework
    assert len(imported.layers) == len(written.layers)
    for ours, theirs in zip(imported.layers, written.layers):
        assert _hyper(ours) == _hyper(theirs), (ours.name, theirs.name)
        if ours.spec.kind in ("conv", "linear"):
            assert _effective_init(imported, ours) == _effective_init(written, theirs), (ours.name, theirs.name)
    a, b = analyse(imported), shipped[hand.removesuffix(".yaml")]  # the written spec, analysed once per session
    for ours, theirs in zip(a.layers, b.layers):
        assert (ours.kind, ours.output_shape, ours.params, ours.macs) == (
            theirs.kind, theirs.output_shape, theirs.params, theirs.macs), (ours.name, theirs.name)
    assert a.totals.trainable_params == b.totals.trainable_params == total
    assert a.totals.macs == b.totals.macs
