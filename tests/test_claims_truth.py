"""Issue 9's capabilities on tiny networks, every expected figure computed by hand in the test:
readings against prose and code, facts of the reference base, ambiguous interpretations, the
claim kinds that turn a note into a verdict, memory, pasted figures and sharper diagnoses."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Callable

from typer.testing import CliRunner

from alexnet_audit.audit import audit_paths
from alexnet_audit.claims import ClaimResult, Verdict
from alexnet_audit.cli import app
from alexnet_audit.facts import load_facts, precision
from alexnet_audit.render.json_out import run_json
from helpers import LENET, spec_text

# LeNet on 3x32x32 (helpers.LENET), by hand: conv1 6@5x5 -> 28x28x6, pool1 -> 14x14x6,
# conv2 16@5x5x6 -> 10x10x16, pool2 -> 5x5x16 = 400, fc1 120, fc2 84, fc3 10.
PARAMS = (5 * 5 * 3 * 6 + 6) + (5 * 5 * 6 * 16 + 16) + (400 * 120 + 120) + (120 * 84 + 84) + (84 * 10 + 10)
MACS = 28 * 28 * 6 * 5 * 5 * 3 + 10 * 10 * 16 * 5 * 5 * 6 + 400 * 120 + 120 * 84 + 84 * 10


def judge(write_spec: Callable[..., Path], claims: str, layers: str = LENET, **files: str) -> dict[str, ClaimResult]:
    paths = [write_spec(spec_text(layers, claims=claims))] + [write_spec(t, f"{n}.yaml") for n, t in files.items()]
    run = audit_paths(paths)
    assert not run.broken, run.broken
    return {c.id: c for c in run.audits[0].claims}


def two_readings(claims: str, code_fc1: int = 100) -> tuple[str, str]:
    """A post's prose (LeNet's 120-unit fc1) and its code (fc1 narrower), each the other's counterpart."""
    head = "id: {id}\ntitle: t\nsource: {{seed: test, section: s, framework: pytorch, variant: {v}, counterpart: {other}}}\n" \
           "input: [3, 32, 32]\nnum_classes: 10\nlayers:\n"
    prose = head.format(id="post-prose", v="prose", other="post-code") + LENET + "claims:\n" + claims
    code = head.format(id="post-code", v="code", other="post-prose") + LENET.replace("out_features: 120", f"out_features: {code_fc1}")
    return prose, code


# ---------------------------------------------------------------- 9.1 against prose and code


def test_a_prose_figure_fails_against_the_code_it_presents(write_spec: Callable[..., Path]) -> None:
    prose, code = two_readings("  - {id: fc1, kind: neurons, target: fc1, claimed: 120, quote: '120个神经元', "
                               "against: [prose, code], where: x}\n")
    paths = [write_spec(prose, "post-prose.yaml"), write_spec(code, "post-code.yaml")]
    run = audit_paths(paths)
    c = next(a for a in run.audits if a.spec.id == "post-prose").claims[0]
    assert c.verdict == Verdict.FAILS
    assert [(r.label, r.verdict, r.measured) for r in c.readings] == [
        ("the prose (spec post-prose)", Verdict.HOLDS, 120), ("the code (spec post-code)", Verdict.FAILS, 100)]
    # the code's diagnosis names the prose as its other reading, and says which reading it is about
    assert c.diagnoses[0].message.startswith("against the code (spec post-code): the post's other reading (prose")
    out = json.loads(run_json(run))["specs"]
    claim = next(s for s in out if s["id"] == "post-prose")["claims"][0]
    assert claim["quote"] == "120个神经元" and [r["verdict"] for r in claim["readings"]] == ["holds", "fails"]


def test_against_a_reading_with_another_layer_name(write_spec: Callable[..., Path]) -> None:
    prose, code = two_readings("  - {id: fc1, kind: neurons, target: fc1, claimed: 120, where: x,\n"
                               "     against: [prose, {reading: code, target: fc2}]}\n", code_fc1=120)
    run = audit_paths([write_spec(prose, "post-prose.yaml"), write_spec(code, "post-code.yaml")])
    c = next(a for a in run.audits if a.spec.id == "post-prose").claims[0]
    assert [r.measured for r in c.readings] == [120, 84] and c.verdict == Verdict.FAILS  # the code's fc2 has 84


def test_against_a_missing_counterpart_is_unverifiable_there(write_spec: Callable[..., Path]) -> None:
    c = judge(write_spec, "  - {id: n, kind: neurons, target: fc1, claimed: 120, against: [prose], where: x}\n")["n"]
    assert c.verdict == Verdict.UNVERIFIABLE and "counterpart" in c.detail


# ---------------------------------------------------------------- 9.2 facts of the reference base


def test_facts_hold_and_fail_with_their_citation(write_spec: Callable[..., Path]) -> None:
    r = judge(write_spec, """  - {id: gpus, kind: fact, fact: alexnet-gpu-count, claimed: 2, where: x}
  - {id: memory, kind: fact, fact: alexnet-gpu-memory, claimed: 3GB, where: x}
  - {id: edition, kind: fact, fact: ilsvrc-editions, claimed: ILSVRC-2000, where: x}
  - {id: relu, kind: fact, fact: alexnet-relu-origin, claimed: AlexNet, where: x}
  - {id: images, kind: fact, fact: ilsvrc-train-images, claimed: 15 million, bound: at_least, where: x}
  - {id: imagenet, kind: fact, fact: imagenet-images, claimed: 14 million, bound: at_least, where: x}
  - {id: train2012, kind: fact, fact: ilsvrc2012-train-images, claimed: 128万, where: x}
  - {id: nosuch, kind: fact, fact: no-such-fact, claimed: 1, where: x}
""")
    assert r["gpus"].verdict == r["memory"].verdict == Verdict.HOLDS
    assert "section 3.2" in r["gpus"].detail and "Krizhevsky, Sutskever and Hinton 2012" in r["gpus"].detail
    assert r["edition"].verdict == Verdict.FAILS and "ILSVRC-2010" in r["edition"].detail
    assert r["relu"].verdict == Verdict.FAILS and "Nair and Hinton" in r["relu"].detail
    # "over 15 million" is ImageNet's size, not the 1.2 million of the ILSVRC subset: another fact's figure
    assert r["images"].verdict == Verdict.FAILS and r["images"].diagnoses[0].code == "other_fact"
    assert "15 million" in r["images"].diagnoses[0].message
    assert r["imagenet"].verdict == Verdict.HOLDS  # "over 14 million" is true of over 15 million
    # 128万 = 1,280,000 +/- 5,000 covers 1,281,167
    assert r["train2012"].verdict == Verdict.HOLDS
    assert r["nosuch"].verdict == Verdict.UNVERIFIABLE and "would settle" in r["nosuch"].detail


def test_the_base_loads_and_every_fact_cites_a_known_source() -> None:
    base = load_facts()
    assert base.facts["alexnet-params"].value == "60 million"
    assert all(f.source in base.sources and f.citation for f in base.facts.values())


# ---------------------------------------------------------------- 9.3 ambiguous interpretations


def test_readings_that_disagree_make_a_claim_ambiguous(write_spec: Callable[..., Path]) -> None:
    r = judge(write_spec, """  - {id: crops, kind: arithmetic, claimed: "(256-224)^2*2=2048", where: x,
     readings: [{label: as distinct crop positions, claimed: "(256-224+1)^2*2=2048"}]}
  - {id: layers, kind: layer_count, of: weighted, claimed: 5, where: x,
     readings: [{label: counting every layer with parameters or pooling, of: [conv, linear, pool]}]}
  - {id: both, kind: layer_count, of: conv, claimed: 2, where: x, readings: [{label: again, of: [conv]}]}
""")
    crops = r["crops"]
    # (256-224)^2*2 = 32^2*2 = 2048 holds; (256-224+1)^2*2 = 33^2*2 = 2178 does not
    assert crops.verdict == Verdict.AMBIGUOUS
    assert [x.verdict for x in crops.readings] == [Verdict.HOLDS, Verdict.FAILS] and "2,178" in crops.readings[1].detail
    # 2 conv + 3 linear = 5 holds; with the 2 pools it is 7
    assert r["layers"].verdict == Verdict.AMBIGUOUS and r["layers"].readings[1].measured == 7
    assert r["both"].verdict == Verdict.HOLDS


# ---------------------------------------------------------------- 9.4 the finding is a verdict, not a note


def test_a_padding_of_half_pixels_cannot_be_realised(write_spec: Callable[..., Path]) -> None:
    r = judge(write_spec, """  - {id: half, kind: padding, target: conv1, claimed: 1.5, where: x}
  - {id: zero, kind: padding, target: conv1, claimed: 0, where: x}
  - {id: one, kind: padding, target: conv1, claimed: 1, where: x}
""")
    assert r["half"].verdict == Verdict.FAILS and "a total of 3 would be 1 and 2" in r["half"].detail
    assert r["zero"].verdict == Verdict.HOLDS and r["one"].verdict == Verdict.FAILS


def test_an_iteration_the_schedule_never_reaches(write_spec: Callable[..., Path]) -> None:
    # 1,360 images, 20% held out: int(1360 * 0.8) = 1,088 train; ceil(1088 / 64) = 17 steps; 1 epoch
    r = judge(write_spec, """  - {id: it23, kind: iterations, claimed: 23, dataset_size: 1360, validation_split: 0.2, batch_size: 64, epochs: 1, where: x}
  - {id: it17, kind: iterations, claimed: 17, dataset_size: 1360, validation_split: 0.2, batch_size: 64, epochs: 1, relation: total, where: x}
""")
    assert r["it23"].verdict == Verdict.FAILS and r["it23"].measured == 17
    assert "needs at least 2 epochs" in r["it23"].diagnoses[0].message  # ceil(23 / 17) = 2
    assert r["it17"].verdict == Verdict.HOLDS


def test_a_weight_shape_is_not_a_feature_map(write_spec: Callable[..., Path]) -> None:
    r = judge(write_spec, """  - {id: w, kind: weight_shape, target: conv2, claimed: "[16,6,5,5]", where: x}
  - {id: fc, kind: weight_shape, target: fc1, claimed: [120, 400], where: x}
  - {id: map, kind: output_shape, target: conv2, claimed: "[16,6,5,5]", layout: chw, where: x}
""")
    assert r["w"].verdict == r["fc"].verdict == Verdict.HOLDS
    assert r["map"].verdict == Verdict.FAILS and r["map"].measured == "16x10x10"
    assert any(d.code == "weight_shape" and "conv2's weight tensor" in d.message for d in r["map"].diagnoses)


def test_the_output_size_rule_over_a_range(write_spec: Callable[..., Path]) -> None:
    ceil_pool = LENET.replace("{kind: maxpool, name: pool1, kernel: 2}", "{kind: maxpool, name: pool1, kernel: 2, ceil_mode: true}")
    r = judge(write_spec, "  - {id: floor, kind: size_rule, claimed: floor, where: x}\n"
                          "  - {id: ceil, kind: size_rule, claimed: ceil, where: x}\n")
    assert r["floor"].verdict == Verdict.HOLDS and r["ceil"].verdict == Verdict.FAILS
    # conv1 5x5 on 6: (6 - 5) / 1 + 1 = 2 either way; on pool1 2x2/2, 7 -> floor 3, ceil 4
    r = judge(write_spec, "  - {id: floor, kind: size_rule, claimed: floor, layers: [pool1], where: x}\n", layers=ceil_pool)
    assert r["floor"].verdict == Verdict.FAILS and "maps 3 to 2" in r["floor"].detail  # (3-2)/2+1: floor 1, ceil 2


# ---------------------------------------------------------------- 9.5 one tolerance rule


def test_one_precision_rule() -> None:
    # rounded figures: half a unit of the last significant digit; whole numbers written out: exact
    assert precision("65万", False) == (650_000, 5_000)
    assert precision("6000万", False) == (60_000_000, 5_000_000)
    assert precision("3.2M", False) == (3_200_000, 50_000)
    assert precision("650,000", False) == (650_000, 0) and precision("650,000", True) == (650_000, 5_000)
    assert precision(4096, False) == (4096, 0)


# ---------------------------------------------------------------- 9.6 memory


def test_memory_of_parameters_in_decimal_and_binary_units(write_spec: Callable[..., Path]) -> None:
    assert PARAMS == 62_006  # 62,006 parameters x 4 bytes = 248,024 bytes
    r = judge(write_spec, """  - {id: kb, kind: memory, of: params, claimed: 248 KB, where: x}
  - {id: kib, kind: memory, of: params, claimed: 242 KiB, where: x}
  - {id: mb, kind: memory, of: params, claimed: 0.25 MB, where: x}
  - {id: half, kind: memory, of: params, dtype: float16, claimed: 124 KB, where: x}
  - {id: wrong, kind: memory, of: params, claimed: 1 GB, where: x}
  - {id: act, kind: memory, of: activations, claimed: "{act} B", where: x}
""".replace("{act}", str(4 * (3 * 32 * 32 + 2 * 6 * 28 * 28 + 6 * 14 * 14 + 2 * 16 * 10 * 10 + 16 * 5 * 5 + 400 + 2 * 120 + 2 * 84 + 10))))
    # 248 KB = 248,000 +/- 500 holds, 248 KiB = 253,952 does not; 242 KiB = 247,808 +/- 512 holds
    assert r["kb"].verdict == Verdict.AMBIGUOUS and r["kib"].verdict == Verdict.HOLDS
    # 0.25 MB = 250,000 +/- 5,000 holds; 0.25 MiB = 262,144 +/- 5,243 does not
    assert r["mb"].verdict == Verdict.AMBIGUOUS and r["half"].verdict == Verdict.AMBIGUOUS  # 124,012 bytes
    assert r["wrong"].verdict == Verdict.FAILS
    # the input and every layer's output (relu and pool outputs too), 4 bytes each
    assert r["act"].verdict == Verdict.HOLDS


# ---------------------------------------------------------------- 9.7 figures as people paste them


def test_pasted_shapes_and_figures(write_spec: Callable[..., Path]) -> None:
    r = judge(write_spec, """  - {id: torch, kind: output_shape, target: conv1, claimed: "torch.Size([1, 6, 28, 28])", layout: chw, where: x}
  - {id: summary, kind: output_shape, target: conv1, claimed: "[-1, 6, 28, 28]", layout: chw, where: x}
  - {id: batch, kind: output_shape, target: conv1, claimed: 1x6x28x28, layout: chw, where: x}
  - {id: keras, kind: output_shape, target: conv1, claimed: "(None, 28, 28, 6)", where: x}
  - {id: nounit, kind: flops, claimed: "1.30", where: x}
  - {id: approx, kind: arithmetic, claimed: "224*224*64=3.2M", where: x}
  - {id: approx-wrong, kind: arithmetic, claimed: "224*224*64=3.3M", where: x}
""")
    for key in ("torch", "summary", "batch", "keras"):
        assert r[key].verdict == Verdict.HOLDS, key
    # FLOPs = 2 x 651,720 = 1,303,440; "1.30" read as 1.30 M = 1,300,000 +/- 5,000
    assert 2 * MACS == 1_303_440 and r["nounit"].verdict == Verdict.HOLDS and "1.30 M" in r["nounit"].detail
    # 224*224*64 = 3,211,264: within 3.2M +/- 0.05M, not within 3.3M +/- 0.05M
    assert r["approx"].verdict == Verdict.HOLDS and r["approx-wrong"].verdict == Verdict.FAILS


# ---------------------------------------------------------------- 9.8 sharper diagnoses


def test_a_formula_built_from_another_layers_figures(write_spec: Callable[..., Path]) -> None:
    # pool1 really pools a 28-wide map with a 2-wide window: (28 - 2) / 2 + 1 = 14; the source's
    # (29 - 3) / 2 + 1 = 14 agrees only by coincidence
    r = judge(write_spec, "  - {id: w, kind: arithmetic, claimed: '(29-3)/2+1=14', where: x,\n"
                          "     measured: {target: pool1, quantity: width, terms: {input: 29, kernel: 3, stride: 2}}}\n")["w"]
    assert r.verdict == Verdict.FAILS and r.diagnoses[0].code == "other_terms"
    assert "input size 29 in the formula, 28 in pool1" in r.diagnoses[0].message and "window 3" in r.diagnoses[0].message


def test_padding_a_written_formula_needs_ranks_above_a_digit_slip(write_spec: Callable[..., Path]) -> None:
    # conv1 5x5, no padding, on 32: 28. The source writes (32-5+3)/1+1 = 31: a total pad of 3, 1.5 per side
    r = judge(write_spec, "  - {id: w, kind: arithmetic, claimed: '(32-5+3)/1+1=31', where: x,\n"
                          "     measured: {target: conv1, quantity: width}}\n")["w"]
    assert r.verdict == Verdict.FAILS and r.diagnoses[0].code == "padding_needed"
    assert "a total padding of 3 gives 31" in r.diagnoses[0].message and "1.5 per side" in r.diagnoses[0].message


def test_another_networks_figure_and_the_nearer_layer(write_spec: Callable[..., Path]) -> None:
    reference = spec_text(LENET.replace("out_channels: 16", "out_channels: 32"), id="ref").replace(
        "framework: pytorch}", "framework: pytorch, variant: reference}")
    # the reference: conv2 32@5x5x6 = 4,832; fc1 800*120+120 = 96,120; total 456 + 4,832 + 96,120 + 10,164 + 850
    ref_total = 456 + (5 * 5 * 6 * 32 + 32) + (800 * 120 + 120) + 10_164 + 850
    r = judge(write_spec, f"  - {{id: p, kind: params, claimed: {ref_total}, where: x}}\n"
                          "  - {id: n, kind: neurons, target: fc3, claimed: 84, where: x}\n", ref=reference)
    assert r["p"].verdict == Verdict.FAILS and r["p"].diagnoses[0].code == "other_network"
    assert "reference network ref" in r["p"].diagnoses[0].message
    assert r["n"].diagnoses[0].message == "the figure belongs to another layer: fc2 gives 84"


def test_same_as_names_a_half_width_network(write_spec: Callable[..., Path]) -> None:
    half = LENET.replace("out_channels: 6", "out_channels: 3").replace("out_channels: 16", "out_channels: 8").replace(
        "out_features: 120", "out_features: 60").replace("out_features: 84", "out_features: 42")
    reference = spec_text(LENET, id="ref").replace("framework: pytorch}", "framework: pytorch, variant: reference}")
    r = judge(write_spec, "  - {id: same, kind: same_as, reference: ref, claimed: this is the reference network, where: x}\n",
              layers=half, ref=reference)["same"]
    assert r.verdict == Verdict.FAILS and "half the reference's width" in r.detail and "conv1 (conv1) has kernels 3" in r.detail
    r = judge(write_spec, "  - {id: same, kind: same_as, reference: ref, claimed: this is the reference network, where: x}\n",
              ref=reference)["same"]
    assert r.verdict == Verdict.HOLDS


def test_readings_and_quotes_reach_junit_and_a_bad_reading_is_a_located_error(write_spec: Callable[..., Path], tmp_path: Path) -> None:
    prose, code = two_readings("  - {id: fc1, kind: neurons, target: fc1, claimed: 120, quote: '120个神经元', "
                               "against: [prose, code], where: x}\n")
    paths = [str(write_spec(prose, "post-prose.yaml")), str(write_spec(code, "post-code.yaml"))]
    xml = tmp_path / "junit.xml"
    result = CliRunner().invoke(app, ["check", *paths, "--junit", str(xml)])
    assert result.exit_code == 1
    text = xml.read_text(encoding="utf-8")
    assert "quote: 120个神经元" in text and text.count("against the code (spec post-code), it fails") == 1
    bad = spec_text(LENET, claims="  - {id: a, kind: layer_count, of: conv, claimed: 2, where: x,\n"
                                  "     readings: [{label: wrong, of: [nosuchkind]}]}\n")
    result = CliRunner().invoke(app, ["check", str(write_spec(bad, "bad.yaml"))])
    assert result.exit_code == 2 and re.search(r"bad\.yaml:\d+: claims\[0\]: readings\[0\] \(of\)", result.stderr)
