"""Writing a Reading as spec YAML: the header says what was read where and what was assumed.

Shapes are planned with the layer registry (closed form, no torch), so that an `in_features`
the code declares is written only where it fits, and every size the code states about itself
becomes a claim: a listing whose shapes do not meet still gives a spec, with the mismatch as
a failing claim.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

import yaml
from pydantic import TypeAdapter, ValidationError

from ..errors import AuditError
from ..layers import LayerSpec, pair
from ..spec import spec_from_text
from .reading import Node, Reading
from .source import Listing

_LAYER = TypeAdapter(LayerSpec)


@dataclass(frozen=True)
class Planned:
    node: Node
    shape_in: tuple[int, ...] | None
    shape_out: tuple[int, ...] | None


def plan(reading: Reading, shape: tuple[int, ...]) -> tuple[list[Planned], str | None]:
    """Each node's input and output shape, until one does not fit (then the reason)."""
    out: list[Planned] = []
    current: tuple[int, ...] | None = shape
    problem = None
    for node in reading.nodes:
        if current is None:
            out.append(Planned(node, None, None))
            continue
        try:
            layer = _LAYER.validate_python({"kind": node.kind, **dict(node.fields)})
            nxt = layer.out_shape(current)
        except (AuditError, ValidationError) as exc:
            problem = f"{node.name}: {exc.message if isinstance(exc, AuditError) else exc.errors()[0]['msg']}"
            out.append(Planned(node, current, None))
            current = None
            continue
        out.append(Planned(node, current, nxt))
        current = nxt
    return out, problem


def spec_yaml(reading: Reading, listing: Listing, *, spec_id: str, source_name: str) -> str:
    assert reading.input is not None
    planned, problem = plan(reading, reading.input)
    if not planned:
        raise AuditError("the listing's model has no layers this importer reads", file=listing.path)
    line = listing.file_line
    layers = [_layer_line(p) for p in planned]
    claims = _claims(planned, reading, line)
    final = planned[-1].shape_out
    classes = final[0] if final and len(final) == 1 else (final[0] if final else 1)
    first, last = line(reading.first[0]), line(reading.first[1])
    doc = [
        f"id: {spec_id}",
        f"title: {_scalar(f'{reading.model} as its code builds it (imported from {source_name})')}",
        "source:",
        f"  seed: {_scalar(source_name)}",
        f"  section: {_scalar(f'{reading.model}, lines {first}-{last}')}",
        f"  framework: {reading.framework}",
        "  variant: code",
        f"input: [{', '.join(str(d) for d in reading.input)}]",
        f"num_classes: {classes}",
        "layers:",
        *layers,
    ]
    if claims:
        doc += ["claims:", *claims]
    text = "\n".join(_header(reading, listing, planned, problem) + doc) + "\n"
    spec_from_text(text, f"<import of {listing.path}>")  # what we write must load
    return text


def _layer_line(p: Planned) -> str:
    fields: dict[str, Any] = {"kind": p.node.kind, "name": p.node.name}
    fields.update(p.node.fields)
    if p.node.kind == "linear" and p.node.declared_in is not None and p.shape_in == (p.node.declared_in,):
        fields["in_features"] = p.node.declared_in
    return "  - " + _flow(fields)


def _claims(planned: list[Planned], reading: Reading, line: Any) -> list[str]:
    out: list[str] = []
    by_name = {p.node.name: p for p in planned}
    for p in planned:
        n = p.node
        if n.declared_in is None:
            continue
        formula = _declared_formula(n)
        if formula is None:
            continue
        word = {"conv": "input channels", "linear": "input features", "batchnorm": "features"}[n.kind]
        out.append("  - " + _flow({
            "id": f"{n.name}-declared-input", "kind": "params", "target": n.name, "claimed": formula,
            "where": f"code line {line(n.line)}: {n.code}", "quote": n.declared_text or str(n.declared_in),
            "note": f"the code declares {n.declared_in} {word}; the parameters follow from that",
        }))
    for check in reading.checks:
        where = f"code line {line(check.line)}: {check.text}"
        if check.kind == "flatten_size" and check.target in by_name:
            out.append("  - " + _flow({
                "id": f"{check.target}-declared-size", "kind": "output_shape", "target": check.target,
                "claimed": [check.value], "layout": "c", "where": where,
                "note": f"the code reshapes to {check.value} features per sample",
            }))
        elif check.kind == "ignored_input_shape" and check.target in by_name:
            out.append("  - " + _flow({
                "id": f"{check.target}-declared-input-shape", "kind": "output_shape", "target": check.target,
                "claimed": [check.value], "layout": "c", "where": where,
                "note": "input_shape on a layer that is not the first: Keras ignores it, the layer takes what "
                        f"{check.target} gives",
            }))
    return out


_ARITH = re.compile(r"^[\d\s*+\-()]+$")


def _declared_formula(n: Node) -> str | None:
    """The parameters the declared input size implies, as a formula with its result."""
    size = f"({n.declared_text})" if n.declared_text and _ARITH.match(n.declared_text) and not n.declared_text.strip().isdigit() else str(n.declared_in)
    f = dict(n.fields)
    if n.kind == "conv":
        kh, kw = pair(f["kernel"])
        groups = f.get("groups", 1)
        weights = kh * kw * (n.declared_in // groups) * f["out_channels"]
        text = f"{kh}*{kw}*{size}{'/' + str(groups) if groups != 1 else ''}*{f['out_channels']}"
        bias = f["out_channels"] if f.get("bias", True) else 0
    elif n.kind == "linear":
        weights = n.declared_in * f["out_features"]
        text = f"{size}*{f['out_features']}"
        bias = f["out_features"] if f.get("bias", True) else 0
    else:
        return f"2*{size}={2 * n.declared_in}"
    return f"{text}+{bias}={weights + bias}" if bias else f"{text}={weights}"


def _header(reading: Reading, listing: Listing, planned: list[Planned], problem: str | None) -> list[str]:
    line = listing.file_line
    out = [f"# Imported by `alexnet-audit import` from {listing.path}: {reading.model} ({reading.framework}),",
           "# read statically with Python's ast (the listing was not run).", "#", "# Read from the code:"]
    if reading.input_from:
        out.append(f"# - input {'x'.join(map(str, reading.input or ()))} (C x H x W): {reading.input_from}")
    for l, what in reading.read:
        out.append(f"# - line {line(l)}: {what}")
    for p in planned:
        shape = "x".join(map(str, p.shape_out)) if p.shape_out else "?"
        out.append(f"# - line {line(p.node.line)}: {p.node.name} ({p.node.kind}, output {shape}): {p.node.code}")
    sections = [
        ("Assumed (framework defaults and what the code leaves open):", reading.assumed),
        ("Not read statically (named here, not guessed):", [f"line {line(l)}: {why}" for l, why in reading.unreadable]),
        ("Recovered from the page:", list(listing.repairs)),
    ]
    if problem:
        sections.append(("The shapes do not meet:", [problem]))
    findings = [f"line {line(c.line)}: {c.target} is defined but never used by the forward pass: {c.text}"
                for c in reading.checks if c.kind == "unused_layer"]
    findings += [f"line {line(c.line)}: {c.target} is never defined in the listing (its value was given with --set)"
                 for c in reading.checks if c.kind == "undefined_name"]
    sections.append(("Mistakes in the listing itself:", findings))
    for title, items in sections:
        if items:
            out += ["#", f"# {title}"] + [f"# - {item}" for item in items]
    out.append("#")
    return [_comment(text) for text in out]


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def _comment(text: str) -> str:
    return _CONTROL.sub(" ", text)[:400]


def _scalar(value: Any) -> str:
    text = yaml.safe_dump(value, default_flow_style=True, allow_unicode=False, width=math.inf, sort_keys=False).strip()
    return text[:-4].strip() if text.endswith("\n...") or text.endswith(" ...") else text.removesuffix("...").strip()


def _flow(fields: dict[str, Any]) -> str:
    return "{" + ", ".join(f"{k}: {_scalar(v)}" for k, v in fields.items()) + "}"
