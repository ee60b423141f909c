"""Where a claim names a layer: one list, read from the claim schema, for the loader's check,
the renaming for the post's other reading and the names that reading must have."""

from __future__ import annotations

import typing
from string import Template
from typing import Any

import pytest

from alexnet_audit.analysis import analyse
from alexnet_audit.claim_schema import CLAIM_ADAPTER, Claim, StructureCheck, StructureClaim, claim_layer_names
from alexnet_audit.claims import Verdict, judge_all
from alexnet_audit.errors import AuditError
from alexnet_audit.spec import spec_from_text

from helpers import LENET, spec_text

# One claim of each kind (and each structure check), on LENET's conv1, pool1, conv2, pool2,
# fc1, fc2, fc3. Each $slot is a field that names a layer: (the layer it names, the field's
# path in the claim, the model and field of the schema it stands for).
Slot = tuple[str, str, tuple[str, str]]
CASES: list[tuple[str, dict[str, Slot]]] = [
    ("{id: c, kind: input_shape, claimed: 32x32x3, where: x}", {}),
    ("{id: c, kind: output_shape, target: $a, claimed: 28x28x6, where: x}", {"a": ("conv1", "target", ("ShapeClaim", "target"))}),
    ("{id: c, kind: params, target: $a, claimed: 2416, where: x}", {"a": ("conv2", "target", ("ParamsClaim", "target"))}),
    ("{id: c, kind: macs, target: $a, claimed: 48000, where: x}", {"a": ("fc1", "target", ("ComputeClaim", "target"))}),
    ("{id: c, kind: neurons, target: $a, claimed: 84, where: x}", {"a": ("fc2", "target", ("CountClaim", "target"))}),
    ("{id: c, kind: layer_count, of: conv, claimed: 2, where: x}", {}),
    ("{id: c, kind: structure, claimed: s, check: {followed_by: maxpool, layers: [$a, $b]}, where: x}",
     {"a": ("conv1", "check.layers[0]", ("FollowedBy", "layers")), "b": ("conv2", "check.layers[1]", ("FollowedBy", "layers"))}),
    ("{id: c, kind: structure, claimed: s, check: {all_of: maxpool, kernel: 2}, where: x}", {}),
    ("{id: c, kind: structure, claimed: s, check: {overlapping: maxpool}, where: x}", {}),
    ("{id: c, kind: structure, claimed: s, check: {activation_after: [$a, $b]}, where: x}",
     {"a": ("conv1", "check.activation_after[0]", ("NoActivation", "activation_after")),
      "b": ("fc1", "check.activation_after[1]", ("NoActivation", "activation_after"))}),
    ("{id: c, kind: structure, claimed: s, check: {contains: relu}, where: x}", {}),
    ("{id: c, kind: structure, claimed: s, check: {layer: $a, kernel: 5}, where: x}", {"a": ("conv2", "check.layer", ("LayerHas", "layer"))}),
    ("{id: c, kind: structure, claimed: s, check: {pools: $a, over: space}, where: x}", {"a": ("pool1", "check.pools", ("PoolsOver", "pools"))}),
    ('{id: c, kind: arithmetic, claimed: "(32-5)/1+1=28", measured: {target: $a, quantity: width}, where: x}',
     {"a": ("conv1", "measured.target", ("Measured", "target"))}),
    ("{id: c, kind: training, metric: test_accuracy, claimed: 99%, dataset: mnist, where: x}", {}),
    ("{id: c, kind: speedup, claimed: 6, baseline: tanh, target_error: 0.25, dataset: cifar10, where: x}", {}),
    ("{id: c, kind: unverifiable, claimed: first, needs: a history, where: x}", {}),
    ("{id: c, kind: fact, fact: alexnet-neurons, claimed: 650000, where: x}", {}),
    ("{id: c, kind: padding, target: $a, claimed: 0, where: x}", {"a": ("pool2", "target", ("PaddingClaim", "target"))}),
    ("{id: c, kind: weight_shape, target: $a, claimed: [10, 84], where: x}", {"a": ("fc3", "target", ("WeightShapeClaim", "target"))}),
    ("{id: c, kind: size_rule, claimed: floor, layers: [$a, $b], where: x}",
     {"a": ("conv1", "layers[0]", ("SizeRuleClaim", "layers")), "b": ("pool2", "layers[1]", ("SizeRuleClaim", "layers"))}),
    ("{id: c, kind: iterations, claimed: 10, dataset_size: 100, batch_size: 10, epochs: 1, where: x}", {}),
    ("{id: c, kind: memory, of: params, target: $a, claimed: 1 MB, where: x}", {"a": ("fc1", "target", ("MemoryClaim", "target"))}),
    ("{id: c, kind: same_as, reference: paper-lenet5-1998, claimed: it is LeNet-5, where: x}", {}),
    # The listing's attribute is what the network may lack: it names no layer of the spec.
    ("{id: c, kind: listing, check: unused_layer, name: fc4, line: 3, claimed: fc4 is used, where: x}", {}),
    # against's names map this spec's layers to the other reading's (whose names are not checked here)
    ("{id: c, kind: params, target: $a, claimed: 1, against: [{reading: code, names: {$b: c2}}], where: x}",
     {"a": ("conv1", "target", ("ParamsClaim", "target")), "b": ("conv2", "against[0].names.$b", ("Against", "names"))}),
    # a reading that moves the claim to another layer names it too
    ("{id: c, kind: params, target: $a, claimed: 1, readings: [{label: the next, target: $b}], where: x}",
     {"a": ("conv1", "target", ("ParamsClaim", "target")), "b": ("conv2", "readings[0].target", ("ParamsClaim", "target"))}),
]


def _text(claim: str, slots: dict[str, Slot], **names: str) -> str:
    filled = {slot: names.get(slot, layer) for slot, (layer, _, _) in slots.items()}
    return spec_text(LENET, claims=f"  - {Template(claim).substitute(filled)}\n")


def _dotted(path: tuple[Any, ...]) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".")


def test_the_cases_cover_every_claim_kind_and_every_structure_check() -> None:
    loaded = [spec_from_text(_text(claim, slots)).doc.claims[0] for claim, slots in CASES]
    assert {type(c) for c in loaded} == set(typing.get_args(typing.get_args(Claim)[0]))
    assert {type(c.check) for c in loaded if isinstance(c, StructureClaim)} == set(typing.get_args(StructureCheck))


@pytest.mark.parametrize("claim, slots", CASES, ids=[c.split("kind: ")[1].split(",")[0] + f"-{i}" for i, (c, _) in enumerate(CASES)])
def test_every_field_that_names_a_layer_is_found(claim: str, slots: dict[str, Slot]) -> None:
    loaded = spec_from_text(_text(claim, slots)).doc.claims[0]
    found = sorted((_dotted(path), name) for path, name in claim_layer_names(loaded))
    expected = sorted((Template(path).substitute({s: layer for s, (layer, _, _) in slots.items()}), layer)
                      for layer, path, _ in slots.values())
    assert found == expected


@pytest.mark.parametrize("claim, slot, field", [(c, s, f) for c, slots in CASES for s, (_, f, _) in slots.items()])
def test_a_claim_naming_an_unknown_layer_is_refused_with_file_line_and_field(claim: str, slot: str, field: str) -> None:
    slots = next(s for c, s in CASES if c == claim)
    text = _text(claim, slots, **{slot: "nowhere"})
    with pytest.raises(AuditError) as err:
        spec_from_text(text, "net.yaml")
    line = text.splitlines().index(f"  - {Template(claim).substitute({s: l for s, (l, _, _) in slots.items()} | {slot: 'nowhere'})}") + 1
    assert (err.value.file, err.value.line, err.value.field) == ("net.yaml", line, "claims[0]." + field.replace("$" + slot, "nowhere"))
    assert "'nowhere' names no layer, stage or block of this spec" in str(err.value)


NAME_PATTERN = r"^[A-Za-z0-9_]{1,64}(\.[A-Za-z0-9_]{1,64}){0,15}$"
# Fields of the schema that take a layer name but not one of the claim's own spec.
NOT_THIS_SPEC = {("Against", "target"), ("ListingClaim", "name")}


def _holds_name(schema: Any) -> bool:
    if isinstance(schema, dict):
        return any(k == NAME_PATTERN or _holds_name(v) for k, v in schema.items())
    if isinstance(schema, list):
        return any(_holds_name(v) for v in schema)
    return schema == NAME_PATTERN


def test_every_name_field_of_the_schema_is_a_layer_of_the_spec_or_said_not_to_be() -> None:
    """A new field that takes a layer name is either found by the list (typed LayerName) or
    named here as naming something else: it cannot be left out unseen."""
    defs = CLAIM_ADAPTER.json_schema()["$defs"]
    with_names = {(model, field) for model, d in defs.items() for field, prop in d.get("properties", {}).items() if _holds_name(prop)}
    covered = {schema_field for _, slots in CASES for _, _, schema_field in slots.values()}
    assert with_names == covered | NOT_THIS_SPEC
    assert not covered & NOT_THIS_SPEC


# ---------------------------------------------------------------- on the post's other reading

PROSE = spec_text(LENET, id="prose").replace("framework: pytorch}", "framework: pytorch, variant: prose}")
CODE_LAYERS = LENET.replace("name: conv1", "name: c1").replace("name: conv2", "name: c2")


def _on_code(claim: str) -> Any:
    prose = spec_from_text(PROSE.replace("framework: pytorch, variant: prose}", "framework: pytorch, variant: prose, counterpart: t}")
                           + f"claims:\n  - {claim}\n")
    code = spec_from_text(spec_text(CODE_LAYERS))
    return judge_all(analyse(prose), counterpart=analyse(code))[0]


def test_a_size_rule_on_a_layer_the_other_reading_lacks_is_unverifiable_there() -> None:
    r = _on_code("{id: c, kind: size_rule, claimed: floor, layers: [conv2], against: [code], where: x}")
    assert r.verdict == Verdict.UNVERIFIABLE
    assert r.readings[0].detail.startswith("spec t has no layer or stage conv2")


def test_a_readings_layer_is_renamed_for_the_other_reading() -> None:
    # conv2 of LeNet: 16 * 6 * 5 * 5 + 16 = 2,416 parameters; conv1: 6 * 3 * 25 + 6 = 456.
    r = _on_code("{id: c, kind: params, target: conv1, claimed: 2416, readings: [{label: the next layer, target: conv2}], "
                 "against: [{reading: code, names: {conv1: c1, conv2: c2}}], where: x}")
    (code,) = r.readings
    assert code.verdict == Verdict.AMBIGUOUS  # fails as written on c1 (456), holds read as c2 (2,416)
    assert code.measured == {"as written": 456, "the next layer": 2416}
