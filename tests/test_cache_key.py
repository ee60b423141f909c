"""The analysis cache's key: every field the measurement reads is in it, nothing else of the spec
is, and the tool's own code, torch's and fvcore's versions are."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable

import pytest

from alexnet_audit.audit import with_input
from alexnet_audit.cache import Stamp, cache_key, package_digest
from alexnet_audit.spec import Spec, SpecDoc, load_spec
from conftest import ROOT
from helpers import LENET, spec_text

STAMP = Stamp(tool="0" * 64, torch="2.13.0", fvcore="0.1.5")


def _key(spec: Spec) -> str:
    return cache_key(spec, STAMP)


def _with(spec: Spec, data: dict[str, Any]) -> Spec:
    return dataclasses.replace(spec, doc=SpecDoc.model_validate(data))


def _leaves(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[tuple[Any, ...], Any]]:
    if isinstance(value, dict):
        return [leaf for k, v in value.items() for leaf in _leaves(v, (*path, k))]
    if isinstance(value, list):
        return [leaf for i, v in enumerate(value) for leaf in _leaves(v, (*path, i))]
    return [(path, value)]


def _changed(value: Any) -> Any:
    """Another valid-looking value of the same type (the schema refuses the ones that are not)."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, float):
        return value * 2 + 0.5
    if isinstance(value, str):
        return value + "x"
    return None


def _set(data: Any, path: tuple[Any, ...], value: Any) -> Any:
    copy = json.loads(json.dumps(data))
    cur = copy
    for part in path[:-1]:
        cur = cur[part]
    cur[path[-1]] = value
    return copy


def _mutants(spec: Spec, section: str) -> list[tuple[tuple[Any, ...], Spec]]:
    """`spec` with one leaf of `section` changed, for every field of every kind of item in it (one
    item of each kind: validating the whole document for each of a ResNet's leaves is slow), where
    the schema accepts the change."""
    data = spec.doc.model_dump(mode="json")
    out, tried = [], set()
    for path, value in _leaves(data[section], (section,)):
        new = _changed(value)
        kind, item = None, data  # the innermost item holding the leaf names its kind
        for part in path[:-1]:
            item = item[part]
            kind = item.get("kind", kind) if isinstance(item, dict) else kind
        shape = (kind, *(part for part in path if isinstance(part, str)))
        if new is None or shape in tried:
            continue
        try:
            out.append((path, _with(spec, _set(data, path, new))))
        except ValueError:  # pydantic's ValidationError: not a spec any more
            continue
        tried.add(shape)
    return out


@pytest.mark.parametrize("name", ["paper-alexnet-2012", "seed001-keras-code", "torchvision-resnet18"])
def test_every_layer_field_is_in_the_key(name: str) -> None:
    spec = load_spec(ROOT / "specs" / f"{name}.yaml")
    mutants = _mutants(spec, "layers")
    assert len(mutants) >= 12, "too few layer fields tried to prove anything"
    for path, mutant in mutants:
        assert _key(mutant) != _key(spec), f"changing {path} kept the key"


@pytest.mark.parametrize("name", ["paper-alexnet-2012", "seed002-lenet5-table", "seed004-tf1-code"])
def test_claims_quotes_source_title_and_notes_are_not_in_the_key(name: str) -> None:
    spec = load_spec(ROOT / "specs" / f"{name}.yaml")
    mutants = _mutants(spec, "claims")
    assert len(mutants) >= 12
    data = spec.doc.model_dump(mode="json")
    for field in ("quote", "note"):
        claims = [{**c, field: f"another {field}"} for c in data["claims"]]
        mutants.append(((f"every claim's {field}",), _with(spec, {**data, "claims": claims})))
    source = {**data["source"], "seed": "elsewhere", "section": "another section", "url": "https://example.org/x"}
    mutants += [(("source",), _with(spec, {**data, "source": source})),
                (("title",), _with(spec, {**data, "title": "another title"})),
                (("notes",), _with(spec, {**data, "notes": "a new note"})),
                (("claims",), _with(spec, {**data, "claims": []}))]
    for path, mutant in mutants:
        assert _key(mutant) == _key(spec), f"changing {path} changed the key"


def test_input_classes_blocks_init_and_override_are_in_the_key(write_spec: Callable[[str, str], Path]) -> None:
    base = load_spec(write_spec(spec_text(LENET), "a.yaml"))
    blocked = LENET.replace("  - {kind: conv, name: conv2", "  - block: b\n    layers:\n    - {kind: conv, name: conv2")
    blocked = blocked.replace("  - {kind: relu}\n  - {kind: maxpool, name: pool2", "    - {kind: relu}\n  - {kind: maxpool, name: pool2")
    variants = {
        "input": spec_text(LENET, input="[3, 36, 36]"),
        "num_classes": spec_text(LENET.replace("out_features: 10", "out_features: 11"), classes=11),
        "a block": spec_text(blocked),
        "init": spec_text(LENET) + "init: {weight: {dist: normal, std: 0.01}}\n",
        "framework default init": spec_text(LENET).replace("framework: pytorch", "framework: keras"),
    }
    keys = {_key(base)}
    for what, text in variants.items():
        other = load_spec(write_spec(text, f"{what}.yaml"))
        keys.add(_key(other))
        assert len(keys) == 2 + list(variants).index(what), f"{what} kept the key"
    # an override is keyed as the input it writes into the spec: a spec written for 3x36x36 shares its entry
    assert _key(with_input(base, (3, 36, 36))) == _key(load_spec(write_spec(variants["input"], "input.yaml")))
    assert _key(with_input(base, (3, 36, 36))) != _key(base)


def test_the_tool_torch_and_fvcore_versions_are_in_the_key(write_spec: Callable[[str, str], Path]) -> None:
    spec = load_spec(write_spec(spec_text(LENET), "a.yaml"))
    keys = {cache_key(spec, s) for s in (STAMP, dataclasses.replace(STAMP, tool="1" * 64),
                                               dataclasses.replace(STAMP, torch="2.14.0"),
                                               dataclasses.replace(STAMP, fvcore="0.1.6"))}
    assert len(keys) == 4


def test_the_package_digest_covers_every_file_but_bytecode(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "a.py").write_text("x = 1\n")
    (tmp_path / "sub" / "facts.yaml").write_text("k: v\n")
    before = package_digest(tmp_path)
    (tmp_path / "__pycache__").mkdir()
    (tmp_path / "__pycache__" / "a.cpython-311.pyc").write_bytes(b"\0")
    assert package_digest(tmp_path) == before
    (tmp_path / "sub" / "facts.yaml").write_text("k: w\n")  # package data, as a formula's source
    assert package_digest(tmp_path) != before


def test_the_stamp_reads_versions_without_importing_torch() -> None:
    code = ("import sys; from alexnet_audit.cache import Stamp; s = Stamp.installed(); "
            "assert 'torch' not in sys.modules and 'fvcore' not in sys.modules; print(s.torch, s.fvcore, len(s.tool))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr
    import fvcore
    import torch

    # the packages' own version attributes, not the installed metadata Stamp itself reads
    assert done.stdout.split() == [torch.__version__, fvcore.__version__, "64"]
