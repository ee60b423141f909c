"""Judges of shapes and sizes: the input, a layer's output, a weight tensor, a padding, the
output-size rounding rule."""

from __future__ import annotations

from fractions import Fraction

from .arith import parse_figure
from .claim_schema import InputClaim, PaddingClaim, ShapeClaim, SizeRuleClaim, WeightShapeClaim, shape_dims
from .errors import AuditError
from .diagnose import Diagnosis, input_flattened, shape_diagnoses, shape_slip, weight_shapes
from .layers import AvgPool, Conv, MaxPool, Shape, axis_pads, pair, same_pads, shape_hwc
from .verdicts import ClaimResult, Context, Verdict, result


def _to_chw(dims: tuple[int, ...], layout: str) -> tuple[int, ...]:
    if layout == "hwc" and len(dims) == 3:
        return (dims[2], dims[0], dims[1])
    return dims


def _shape_text(shape: Shape, layout: str) -> str:
    return shape_hwc(shape) if layout == "hwc" else "x".join(map(str, shape))


def judge_input(claim: InputClaim, ctx: Context, _: list[ClaimResult]) -> ClaimResult:
    dims = shape_dims(claim.claimed)
    built = tuple(ctx.analysis.spec.doc.input)
    compared = built[1:] if claim.layout == "hw" else built
    claimed = dims if claim.layout in ("hw", "chw") else _to_chw(dims, "hwc")
    shown = _shape_text(compared, claim.layout)
    detail = f"input: claimed {claim.claimed}, the network is built for {shown} ({claim.layout.upper()})"
    if claimed == compared:
        return result(claim, shown, Verdict.HOLDS, detail)
    diagnoses = []
    other = ctx.counterpart_analysis
    if other is not None:
        theirs = tuple(other.spec.doc.input)
        if (theirs[1:] if claim.layout == "hw" else theirs) == claimed:
            diagnoses.append(Diagnosis("code_vs_prose", f"the post's other reading (spec {other.spec.id}) is built for "
                                       f"{_shape_text(theirs if claim.layout != 'hw' else theirs[1:], claim.layout)}"))
    if slip := shape_slip(claimed, compared):
        diagnoses.append(Diagnosis("digit_slip", slip))
    return result(claim, shown, Verdict.FAILS, detail, diagnoses)


def _layout_of(ctx: Context, claim_id: str) -> str:
    claim = next(c for c in ctx.analysis.spec.doc.claims if c.id == claim_id)
    return getattr(claim, "layout", "hwc")


def judge_shape(claim: ShapeClaim, ctx: Context, earlier: list[ClaimResult]) -> ClaimResult:
    dims = shape_dims(claim.claimed)
    measured = ctx.analysis.output_shape(claim.target)
    shown = _shape_text(measured, claim.layout)
    if claim.layout in ("hw", "c"):
        part = measured[1:] if claim.layout == "hw" else measured[:1]
        ok = (len(measured) == 3 or claim.layout == "c") and tuple(dims) == tuple(part)
        detail = f"{claim.layout.upper()} of the output: claimed {'x'.join(map(str, dims))}, measured {'x'.join(map(str, part))}"
        slip = None if ok else shape_slip(tuple(dims), tuple(part))
        flat = None if ok or len(dims) != 1 else input_flattened(ctx.reading.spec, dims[0], claim.target, "x".join(map(str, part)))
        return result(claim, "x".join(map(str, part)), Verdict.HOLDS if ok else Verdict.FAILS, detail,
                      [d for d in (flat, Diagnosis("digit_slip", slip) if slip else None) if d])
    if len(measured) == 1:
        # A vector written as "4096x1": every other dimension must be 1.
        ok = sorted(dims)[-1] == measured[0] and all(d == 1 for d in sorted(dims)[:-1])
        chw: tuple[int, ...] = (max(dims),) if ok else dims
    else:
        chw = _to_chw(dims, claim.layout)
        ok = chw == measured
    detail = f"output of {claim.target}: claimed {claim.claimed}, measured {shown} ({claim.layout.upper()})"
    if ok:
        return result(claim, shown, Verdict.HOLDS, detail)
    failed_before = [
        (r.id, r.target, _to_chw(shape_dims(r.claimed), _layout_of(ctx, r.id)))
        for r in earlier if r.kind == "output_shape" and r.verdict == Verdict.FAILS and r.target
    ]
    diagnoses = shape_diagnoses(claimed=chw, measured=measured, target=claim.target, reading=ctx.reading,
                                counterpart=ctx.counterpart, earlier=failed_before)
    return result(claim, shown, Verdict.FAILS, detail, diagnoses)


def judge_weight_shape(claim: WeightShapeClaim, ctx: Context, _: list[ClaimResult]) -> ClaimResult:
    dims = shape_dims(claim.claimed)
    shapes = weight_shapes(ctx.reading)
    name = ctx.analysis.spec.stages.get(claim.target, (claim.target,))[0]
    have = shapes.get(name)
    if have is None:
        return result(claim, None, Verdict.FAILS, f"{name} is not a conv or linear layer: it has no weight tensor")
    shown = "x".join(map(str, have))
    detail = f"weight tensor of {name} ({'out, in, kh, kw' if len(have) == 4 else 'out, in'}): claimed {claim.claimed}, built {shown}"
    if dims == have:
        return result(claim, shown, Verdict.HOLDS, detail)
    diagnoses = [Diagnosis("other_layer", f"the shape belongs to another layer: {other}'s weight tensor")
                 for other, s in shapes.items() if s == dims and other != name]
    if len(have) == 4 and dims == (have[2], have[3], have[1], have[0]):
        diagnoses.append(Diagnosis("layout", "the same weights in TensorFlow's (kh, kw, in, out) order"))
    return result(claim, shown, Verdict.FAILS, detail, diagnoses)


def _window_layer(ctx: Context, name: str) -> Conv | MaxPool | AvgPool | None:
    layer = next((layer for layer in ctx.analysis.spec.layers if layer.name == name), None)
    return layer.spec if layer is not None and isinstance(layer.spec, (Conv, MaxPool, AvgPool)) else None


def _kernel_and_stride(layer: Conv | MaxPool | AvgPool) -> tuple[int, int]:
    """Along the height; a pool without a stride steps by its window (PyTorch's and Keras's default)."""
    return pair(layer.kernel)[0], layer.strides()[0]


def _input_of(ctx: Context, name: str) -> Shape:
    return ctx.analysis.layer(name).input_shape


def judge_padding(claim: PaddingClaim, ctx: Context, _: list[ClaimResult]) -> ClaimResult:
    name = ctx.analysis.spec.stages.get(claim.target, (claim.target,))[0]
    layer = _window_layer(ctx, name)
    if layer is None:
        return result(claim, None, Verdict.FAILS, f"{name} is not a conv or pooling layer: it has no padding")
    value = parse_figure(claim.claimed).value
    h = _input_of(ctx, name)[1]
    k, s = _kernel_and_stride(layer)
    have = axis_pads(layer.padding, 0, h, k, s)
    built = f"{name} pads {have[0]}" + (f" and {have[1]}" if have[0] != have[1] else " per side") + f" ({layer.padding!r})"
    if value.denominator != 1:
        total = value * 2
        split = f"{int(total) // 2} and {int(total) - int(total) // 2}" if total.denominator == 1 else "no whole split"
        same = same_pads(h, k, s)
        detail = (f"a padding of {float(value):g} pixels per side cannot be realised: padding comes in whole pixels "
                  f"(a total of {float(total):g} would be {split}, an asymmetric pad); {built}; TensorFlow's SAME here "
                  f"would pad {same[0]} and {same[1]}")
        return result(claim, list(have), Verdict.FAILS, detail,
                      [Diagnosis("unrealisable_padding", f"{float(value):g} is only the value that makes the size formula "
                                 "come out whole; no layer pads half a pixel")])
    ok = have == (int(value), int(value))
    return result(claim, list(have), Verdict.HOLDS if ok else Verdict.FAILS,
                  f"padding per side: claimed {int(value)}; {built}")


def judge_size_rule(claim: SizeRuleClaim, ctx: Context, _: list[ClaimResult]) -> ClaimResult:
    names = claim.layers or [layer.name for layer in ctx.analysis.spec.layers if _window_layer(ctx, layer.name) is not None]
    lo, hi = claim.sizes
    wrong: list[str] = []
    checked: list[str] = []
    for name in names:
        layer = _window_layer(ctx, name)
        if layer is None:
            wrong.append(f"{name} is not a conv or pooling layer")
            continue
        k, s = _kernel_and_stride(layer)
        c = _input_of(ctx, name)[0]
        for n in range(lo, hi + 1):
            pads = axis_pads(layer.padding, 0, n, k, s)
            if n + sum(pads) < k:
                continue
            try:
                got = layer.out_shape((c, n, n))[1]
            except AuditError:  # a size this layer cannot take (a window too large): not a size to test
                continue
            quotient = Fraction(n + sum(pads) - k, s)
            rule = (quotient.__floor__() if claim.claimed == "floor" else quotient.__ceil__()) + 1
            if got != rule:
                wrong.append(f"{name} maps {n} to {got}, the {claim.claimed} rule gives {rule}")
                break
        checked.append(name)
    detail = (f"(n + 2p - k) / s + 1 rounded by {claim.claimed}, for input sizes {lo} to {hi} on "
              f"{', '.join(checked) or 'no layer'}" + (f": {'; '.join(wrong)}" if wrong else ": every size agrees"))
    return result(claim, claim.claimed if not wrong else "differs", Verdict.FAILS if wrong or not checked else Verdict.HOLDS, detail)
