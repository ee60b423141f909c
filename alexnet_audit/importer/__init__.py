"""`alexnet-audit import`: from a post's code (read statically) or a live model, to a spec.

`import_code` finds the model definitions in a listing (a .py file or a post's text), reads
the one asked for with its framework's reader, and writes the spec YAML. Nothing of the
listing is executed on this path, and torch is not imported.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import AuditError
from .common import Sizes, slug
from .consts import Unknown
from .emit import spec_yaml
from .inputs import find_input
from .interp import Walk
from .reading import Framework, Reading
from .source import Listing, read_listing


@dataclass(frozen=True)
class Candidate:
    name: str
    framework: Framework
    node: ast.AST  # the class, the function, or the statement that builds the model
    style: str  # "class", "sequential", "functional", "function"


@dataclass(frozen=True)
class Imported:
    text: str  # the spec YAML
    reading: Reading
    listing: Listing
    differences: tuple[str, ...] = ()  # live import: layers whose parameters or MACs differ from the module


def import_code(path: str | Path, *, model: str | None = None, input: tuple[int, int, int] | None = None,
                sets: dict[str, Any] | None = None, spec_id: str | None = None) -> Imported:
    listing = read_listing(path)
    reading = read_code(listing, model=model, input=input, sets=sets)
    ident = spec_id or f"{slug(reading.model)}-code"
    return Imported(spec_yaml(reading, listing, spec_id=ident, source_name=Path(path).name), reading, listing)


def read_code(listing: Listing, *, model: str | None = None, input: tuple[int, int, int] | None = None,
              sets: dict[str, Any] | None = None) -> Reading:
    """What the listing's model is made of, before it is written as a spec."""
    try:
        tree = ast.parse(listing.text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        raise AuditError("the code does not parse as Python", file=listing.path) from None
    chosen = choose(find_models(tree), model, listing.path)
    reading = Reading(chosen.framework, chosen.name)
    reading.first = (getattr(chosen.node, "lineno", 1), getattr(chosen.node, "end_lineno", 1) or 1)
    try:
        _read(chosen, tree, listing, reading, dict(sets or {}))
    except AuditError as exc:
        raise exc.located(file=listing.path) from None
    except Unknown as exc:
        raise AuditError(f"line {listing.file_line(exc.line)}: {exc.message}", file=listing.path) from None
    except RecursionError:
        raise AuditError("the listing nests expressions too deeply to read", file=listing.path) from None
    find_input(tree, listing, reading, input)
    return reading


def import_spec(code: Path | None, *, module: str | None = None, model: str | None = None, input: str | None = None,
                sets: list[str] | None = None, spec_id: str | None = None) -> Imported:
    """The `import` command's library side: arguments as typed, to a spec (raises AuditError)."""
    shape = parse_input(input) if input else None
    if module is not None:
        if code is not None:
            raise AuditError("give a code file or --module FILE.py:NAME, not both")
        from .live import (
            import_live,  # runs the user's own file: never on the static path
        )

        return import_live(module, input=shape, spec_id=spec_id)
    if code is None:
        raise AuditError("give the code file to read (or --module FILE.py:NAME for a live model)")
    return import_code(code, model=model, input=shape, sets=parse_sets(sets or []), spec_id=spec_id)


def parse_input(text: str) -> tuple[int, int, int]:
    parts = re.split(r"\s*[x×,]\s*", text.strip())
    if len(parts) != 3 or not all(p.isdigit() and 0 < int(p) <= 4096 for p in parts):
        raise AuditError(f"--input {text!r}: expected C x H x W, e.g. 3x224x224")
    c, h, w = (int(p) for p in parts)
    return c, h, w


def parse_sets(items: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip().isidentifier():
            raise AuditError(f"--set {item!r}: expected NAME=VALUE, e.g. num_classes=10")
        try:
            out[name.strip()] = ast.literal_eval(value.strip())
        except (ValueError, SyntaxError):
            out[name.strip()] = value.strip()
    return out


def summary(result: Imported, output: Path) -> list[str]:
    r = result.reading
    claims = result.text.count("\n  - {id: ")
    if r.nodes:
        lines = [f"wrote {output}: {r.model} ({r.framework}), {len(r.nodes)} layers, {claims} claims from the code itself"]
    else:  # a live module: its layers are in the spec's graph
        lines = [f"wrote {output}: {r.model} (a live nn.Module), {result.text.count('{kind: ')} layers"]
    if result.differences:
        lines.append("the spec differs from the live module:")
        lines += [f"  {d}" for d in result.differences]
    if r.unreadable:
        lines.append(f"{len(r.unreadable)} line(s) not read statically, named in the spec's header:")
        lines += [f"  line {result.listing.file_line(n)}: {why}" for n, why in r.unreadable]
    if r.assumed:
        lines.append(f"{len(r.assumed)} assumption(s), listed in the spec's header")
    return lines


def _read(chosen: Candidate, tree: ast.Module, listing: Listing, reading: Reading, sets: dict[str, Any]) -> None:
    from . import keras, pytorch, tf1

    sizes = Sizes(reading, lambda line: f"line {listing.file_line(line)}")
    reader = {"pytorch": pytorch, "keras": keras, "tf1": tf1}[chosen.framework]
    hooks = reader.make_hooks(reading, sizes)
    walk = Walk(tree, listing.text, reading, hooks, sets, listing.file_line)
    walk.run_module()
    reader.read(walk, chosen, hooks, reading)
    if not reading.nodes:
        raise AuditError(f"found no layers this importer reads in {chosen.name}")


def find_models(tree: ast.Module) -> list[Candidate]:
    """Model definitions at the top level of the listing, with the framework each is written in."""
    found: list[Candidate] = []
    for stmt in tree.body:
        if isinstance(stmt, ast.ClassDef):
            bases = {ast.unparse(b).rsplit(".", 1)[-1] for b in stmt.bases}
            if "Module" in bases:
                found.append(Candidate(stmt.name, "pytorch", stmt, "class"))
            elif "Model" in bases:
                found.append(Candidate(stmt.name, "keras", stmt, "class"))
            elif _uses_tf_ops(stmt):
                found.append(Candidate(stmt.name, "tf1", stmt, "class"))
        elif isinstance(stmt, ast.FunctionDef) and _uses_tf_ops(stmt):
            found.append(Candidate(stmt.name, "tf1", stmt, "function"))
        elif isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.Call) and len(stmt.targets) == 1 \
                and isinstance(stmt.targets[0], ast.Name):
            func = ast.unparse(stmt.value.func)
            last = func.rsplit(".", 1)[-1]
            name = stmt.targets[0].id
            if last == "Sequential":
                framework: Framework = "pytorch" if func in ("nn.Sequential", "torch.nn.Sequential") else "keras"
                found.append(Candidate(name, framework, stmt, "sequential"))
            elif last == "Model" and (len(stmt.value.args) >= 2 or {k.arg for k in stmt.value.keywords} >= {"inputs", "outputs"}):
                found.append(Candidate(name, "keras", stmt, "functional"))
    return _without_parts(found)


def _without_parts(found: list[Candidate]) -> list[Candidate]:
    """A class another model class instantiates (a conv-bn-relu block) is a part, not a model."""
    classes = {c.name for c in found if c.style == "class"}
    parts = {n.func.id for c in found if c.style == "class" for n in ast.walk(c.node)
             if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id in classes and n.func.id != c.name}
    return [c for c in found if c.name not in parts] or found


def _uses_tf_ops(node: ast.AST) -> bool:
    """TF1 low-level code: tf.nn.conv2d, tf.nn.xw_plus_b or tf.matmul somewhere in it."""
    return any(isinstance(n, ast.Attribute) and (n.attr in ("conv2d", "xw_plus_b") and ast.unparse(n.value).endswith("nn")
                                                 or n.attr == "matmul" and ast.unparse(n.value) in ("tf", "tensorflow"))
               for n in ast.walk(node))


def choose(found: list[Candidate], model: str | None, file: str) -> Candidate:
    names = ", ".join(c.name for c in found)
    if model is not None:
        for c in found:
            if c.name == model:
                return c
        raise AuditError(f"no model {model!r} in the listing (found: {names or 'none'})", file=file)
    if not found:
        raise AuditError("found no model definition (an nn.Module, a Keras model or TF1 layers) in the listing", file=file)
    if len(found) > 1:
        raise AuditError(f"the listing defines several models ({names}): choose one with --model NAME", file=file)
    return found[0]
